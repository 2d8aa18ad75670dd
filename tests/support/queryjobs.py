"""SQL jobs driven through several processes (gateways of one PostgreSQL database, worker processes of
one gateway): signed query API calls on a pinned connection, a job that runs until it is stopped, and
the bounds the servers of these tests are started with."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, children

HEARTBEAT = 0.5     # seconds between the heartbeats of a process running jobs
ORPHAN = 3.0        # a job whose process has not beaten for this long is ended
ENV = {"NUAGE_QUERY_HEARTBEAT_SECONDS": str(HEARTBEAT), "NUAGE_QUERY_ORPHAN_SECONDS": str(ORPHAN),
       "NUAGE_QUERY_MAX_SECONDS": "120"}
# a cross join DuckDB works on until the job is stopped (or its time limit)
LONG = "SELECT sum(r.range * s.a) FROM 's3://{bucket}/small.csv' s, range(100000000000) r"
SMALL = b"a,b\n1,2\n3,4\n"

#: (method, path, JSON body or None) -> (status, JSON answer)
Call = Callable[[str, str, dict[str, Any] | None], tuple[int, Any]]


def on_connection(server: NuageServer, conn: http.client.HTTPConnection) -> Call:
    """Query API calls on ``conn`` (kept open: on the worker process it landed on)."""
    def call(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        request = AWSRequest(method=method, url=server.endpoint + path, data=data,
                             headers={"Content-Type": "application/json"} if data else {})
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "nuage-query", server.region).add_auth(request)
        headers = dict(request.prepare().headers)
        headers["Content-Length"] = str(len(data))
        conn.request(method, path, body=data or None, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    return call


def start_running(call: Call, bucket: str) -> str:
    """Submit a job that runs until stopped; its id once it runs."""
    status, job = call("POST", "/query/jobs", {"sql": LONG.format(bucket=bucket)})
    assert status == 201, job
    deadline = time.monotonic() + 30
    while job["status"] == "queued":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        status, job = call("GET", f"/query/jobs/{job['id']}", None)
    assert job["status"] == "running", job
    return str(job["id"])


def cancel_elsewhere(runs: Call, other: Call, job_id: str) -> float:
    """Cancel through ``other`` a job that ``runs`` runs; the seconds the cancellation took. The job is
    cancelled as both see it."""
    status, seen = other("GET", f"/query/jobs/{job_id}", None)
    assert status == 200 and seen["status"] == "running", seen
    started = time.monotonic()
    status, cancelled = other("POST", f"/query/jobs/{job_id}/cancel", None)
    took = time.monotonic() - started
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    assert cancelled["error"]["code"] == "QueryCancelled"
    status, there = runs("GET", f"/query/jobs/{job_id}", None)
    assert status == 200 and there["status"] == "cancelled", there
    assert runs("GET", f"/query/jobs/{job_id}/result", None)[0] == 409
    return took


def result_elsewhere(runs: Call, other: Call, bucket: str) -> None:
    """A job run by one process: its status and result read through the other."""
    status, job = runs("POST", "/query/jobs", {"sql": f"SELECT sum(a) AS s FROM 's3://{bucket}/small.csv'",
                                               "wait": 30})
    assert status == 201 and job["status"] == "succeeded", job
    status, result = other("GET", f"/query/jobs/{job['id']}/result", None)
    assert (status, result) == (200, {"columns": ["s"], "rows": [[4]]})


def kill_gateway(server: NuageServer) -> None:
    """``kill -9`` of a gateway, then of the SQL worker processes it started. A worker dies with its gateway
    by itself (tests/crash/test_sql_worker_parent.py shows it, even while it loads DuckDB); the explicit
    kill only spares these tests from waiting for that."""
    assert server.proc is not None
    workers = children(server.proc.pid)
    server.kill()
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
