"""SQL jobs on `nuage serve --workers 2` (SQLite shared by the worker processes): a job started on one
worker is followed, read and cancelled on the other (its worker stops it within a heartbeat), and so is a
job still queued for a place to run; a gateway starting on the data folder (its recovery) leaves the jobs of
the running one alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.queryjobs import (
    ENV,
    HEARTBEAT,
    LONG,
    ORPHAN,
    SMALL,
    cancel_elsewhere,
    on_connection,
    result_elsewhere,
    start_running,
)
from tests.support.server import NuageServer
from tests.support.workers import on_worker, wait_for_workers

BUCKET = "data"


def start(data: Path) -> NuageServer:
    # one job at a time per worker: the next one waits, queued
    srv = NuageServer(data, extra_args=["--workers", "2"], env={**ENV, "NUAGE_QUERY_CONCURRENCY": "1"}).start()
    wait_for_workers(srv, 2)
    return srv


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = start(tmp_path_factory.mktemp("query-workers") / "data")
    s3 = srv.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="small.csv", Body=SMALL)
    yield srv
    assert srv.stop() == 0, srv.log()


def test_followed_read_and_cancelled_on_another_worker(gateway: NuageServer) -> None:
    first, second = on_worker(gateway, 0), on_worker(gateway, 1)
    try:
        runs, other = on_connection(gateway, first), on_connection(gateway, second)
        result_elsewhere(runs, other, BUCKET)
        job_id = start_running(runs, BUCKET)
        assert cancel_elsewhere(runs, other, job_id) < HEARTBEAT + 5.0
    finally:
        first.close()
        second.close()


def test_a_queued_job_cancelled_on_another_worker(gateway: NuageServer) -> None:
    first, second = on_worker(gateway, 0), on_worker(gateway, 1)
    try:
        runs, other = on_connection(gateway, first), on_connection(gateway, second)
        running = start_running(runs, BUCKET)
        status, queued = runs("POST", "/query/jobs", {"sql": LONG.format(bucket=BUCKET)})
        assert status == 201 and queued["status"] == "queued", queued
        started = time.monotonic()
        status, cancelled = other("POST", f"/query/jobs/{queued['id']}/cancel", None)
        assert status == 200 and cancelled["status"] == "cancelled", cancelled
        assert cancelled["started"] is None and time.monotonic() - started < HEARTBEAT + 5.0
        cancel_elsewhere(runs, other, running)
    finally:
        first.close()
        second.close()


def test_a_gateway_starting_leaves_the_running_jobs_alone(gateway: NuageServer) -> None:
    first = on_worker(gateway, 0)
    try:
        runs = on_connection(gateway, first)
        job_id = start_running(runs, BUCKET)
        scratch = gateway.data_dir / "query" / "scratch" / job_id
        assert scratch.is_dir()
        other = start(gateway.data_dir)   # its start-up recovers the jobs of processes gone
        try:
            time.sleep(ORPHAN + 1)
            status, job = runs("GET", f"/query/jobs/{job_id}", None)
            assert status == 200 and job["status"] == "running", job
            assert scratch.is_dir()
            conn = on_worker(other, 1)
            try:
                cancel_elsewhere(runs, on_connection(other, conn), job_id)
            finally:
                conn.close()
        finally:
            assert other.stop() == 0, other.log()
    finally:
        first.close()
