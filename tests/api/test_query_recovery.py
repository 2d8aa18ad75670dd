"""SQL jobs when their server stops: stopped gracefully, it marks its running jobs failed (`Interrupted`)
itself; killed (`kill -9`), the server started again leaves the job alone until its heartbeat is older than
the bound (it might be another live process's), then ends it and removes its scratch folder."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from tests.api.test_query import call
from tests.support.queryjobs import ENV, HEARTBEAT, ORPHAN, SMALL, kill_gateway, start_running
from tests.support.server import NuageServer


def _server(tmp_path: Path) -> NuageServer:
    srv = NuageServer(tmp_path / "data", env=ENV).start()
    s3 = srv.client()
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="small.csv", Body=SMALL)
    return srv


def test_a_server_stopping_fails_its_running_jobs(tmp_path: Path) -> None:
    srv = _server(tmp_path)
    try:
        job_id = start_running(functools.partial(call, srv), "data")
    finally:
        assert srv.stop() == 0, srv.log()
    restarted = time.time()
    srv.start()
    try:
        status, job = call(srv, "GET", f"/query/jobs/{job_id}")
        assert status == 200 and job["status"] == "failed" and job["error"]["code"] == "Interrupted", job
        assert job["finished"] < restarted, job   # by the server that stopped, not by the next one's recovery
        assert not (srv.data_dir / "query" / "scratch" / job_id).exists()
    finally:
        assert srv.stop() == 0, srv.log()


def test_the_jobs_of_a_killed_server_are_ended_after_the_heartbeat_bound(tmp_path: Path) -> None:
    srv = _server(tmp_path)
    job_id = start_running(functools.partial(call, srv), "data")
    scratch = srv.data_dir / "query" / "scratch" / job_id
    kill_gateway(srv)
    killed = time.monotonic()
    srv.start()
    try:
        while (job := call(srv, "GET", f"/query/jobs/{job_id}")[1])["status"] == "running":
            assert scratch.is_dir()
            assert time.monotonic() - killed < ORPHAN + HEARTBEAT + 5, job
            time.sleep(0.1)
        assert time.monotonic() - killed >= ORPHAN - HEARTBEAT, job   # never before the bound
        assert job["status"] == "failed" and job["error"]["code"] == "Interrupted", job
        assert not scratch.exists()
    finally:
        assert srv.stop() == 0, srv.log()
