"""SQL job limits (a server started with small ones): bytes scanned refused up front, a time limit that
stops a running query, a memory limit that fails it; and jobs kept across a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_query import call, run_job
from tests.support.server import NuageServer


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("nuage-limits") / "data", env={
        "NUAGE_QUERY_MAX_BYTES": "100000", "NUAGE_QUERY_MAX_SECONDS": "3", "NUAGE_QUERY_MEMORY": "64MB"}).start()
    s3 = srv.client()
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="small.csv", Body=b"a,b\n1,2\n3,4\n")
    s3.put_object(Bucket="data", Key="big.csv", Body=b"a,b\n" + b"1,2\n" * 30000)
    yield srv
    srv.stop()


def test_bytes_scanned_limit(limited: NuageServer) -> None:
    status, err = call(limited, "POST", "/query/jobs", {"sql": "SELECT count(*) FROM 's3://data/*.csv'"})
    assert status == 400
    assert err["error"]["code"] == "BytesScannedLimitExceeded"
    job = run_job(limited, "SELECT sum(a) AS s FROM 's3://data/small.csv'")
    assert job["status"] == "succeeded" and job["bytes_scanned"] == 12


def test_time_limit(limited: NuageServer) -> None:
    job = run_job(limited, "SELECT sum(r.range * s.a) FROM 's3://data/small.csv' s, range(100000000000) r")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "QueryTimeout"
    assert 2.9 < job["duration_seconds"] < 60


def test_memory_limit(limited: NuageServer) -> None:
    job = run_job(limited, "SELECT list(r.range || 'x') FROM 's3://data/small.csv' s, range(20000000) r")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "OverMaxMemory", job


def test_jobs_survive_a_restart(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data").start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="t.csv", Body=b"a\n1\n2\n")
        job = run_job(srv, "SELECT sum(a) AS s FROM 's3://data/t.csv'")
        assert job["status"] == "succeeded"
    finally:
        assert srv.stop() == 0
    srv.start()
    try:
        status, again = call(srv, "GET", f"/query/jobs/{job['id']}")
        assert status == 200 and again["status"] == "succeeded" and again["rows"] == 1
        status, result = call(srv, "GET", f"/query/jobs/{job['id']}/result")
        assert result == {"columns": ["s"], "rows": [[3]]}
    finally:
        srv.stop()


def test_results_expire(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", env={"NUAGE_QUERY_RESULT_DAYS": "0.00001"}).start()   # ~0.9 s
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="data")
        s3.put_object(Bucket="data", Key="t.csv", Body=b"a\n1\n")
        job = run_job(srv, "SELECT sum(a) AS s FROM 's3://data/t.csv'")
        status, _ = call(srv, "GET", f"/query/jobs/{job['id']}/result")
        assert status == 200
    finally:
        assert srv.stop() == 0
    time.sleep(1.0)
    srv.start()      # expired results are removed at start
    try:
        status, err = call(srv, "GET", f"/query/jobs/{job['id']}/result")
        assert status == 409 and "no longer kept" in err["error"]["message"]
        status, again = call(srv, "GET", f"/query/jobs/{job['id']}")
        assert again["status"] == "succeeded"
    finally:
        srv.stop()
