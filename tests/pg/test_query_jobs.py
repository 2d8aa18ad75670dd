"""SQL jobs on gateways of one PostgreSQL database and one data folder: a job started on one is followed
(its progress too), read and cancelled on another (its gateway stops it within a heartbeat); a gateway that
starts leaves the jobs of the live ones alone; the jobs of a gateway killed are ended once its heartbeat is
older than the bound, with their scratch files."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.api.test_query import call
from tests.support.postgres import PostgresCluster
from tests.support.queryjobs import (
    ENV,
    HEARTBEAT,
    ORPHAN,
    SMALL,
    Call,
    cancel_elsewhere,
    kill_gateway,
    result_elsewhere,
    start_running,
)
from tests.support.server import NuageServer

BUCKET = "data"


@pytest.fixture(scope="module")
def cluster(pg: PostgresCluster,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, NuageServer]]:
    """Gateways A and B (started one after the other, as in test_gateways) and a bucket with a small CSV."""
    url = pg.create_database()
    data = tmp_path_factory.mktemp("jobs") / "data"
    a = NuageServer(data, db=url, env=ENV).start()
    b = NuageServer(data, db=url, env=ENV).start()
    s3 = a.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="small.csv", Body=SMALL)
    yield a, b
    codes = [a.stop(), b.stop()]
    assert codes == [0, 0], a.log() + b.log()


def api(server: NuageServer) -> Call:
    return functools.partial(call, server)


def test_followed_read_and_cancelled_on_another_gateway(cluster: tuple[NuageServer, NuageServer]) -> None:
    a, b = cluster
    result_elsewhere(api(a), api(b), BUCKET)
    job_id = start_running(api(a), BUCKET)
    # A reads the flag on its next heartbeat and kills the job's DuckDB process
    assert cancel_elsewhere(api(a), api(b), job_id) < HEARTBEAT + 5.0


def test_a_gateway_starting_leaves_the_jobs_of_live_ones_alone(cluster: tuple[NuageServer, NuageServer]) -> None:
    a, b = cluster
    job_id = start_running(api(a), BUCKET)
    scratch = a.data_dir / "query" / "scratch" / job_id   # the job's copy of the small (inline) object
    assert scratch.is_dir()
    c = NuageServer(a.data_dir, db=a.db, env=ENV).start()   # its start-up recovers the jobs of gateways gone
    try:
        time.sleep(ORPHAN + 1)   # and the upkeep (on whichever gateway holds it) has looked again since
        for gateway in (a, b, c):
            status, job = call(gateway, "GET", f"/query/jobs/{job_id}")
            assert status == 200 and job["status"] == "running", job
        assert scratch.is_dir()
        cancel_elsewhere(api(a), api(c), job_id)
    finally:
        assert c.stop() == 0, c.log()


def test_the_jobs_of_a_killed_gateway_are_ended_after_the_heartbeat_bound(
        cluster: tuple[NuageServer, NuageServer]) -> None:
    a, b = cluster
    d = NuageServer(a.data_dir, db=a.db, env=ENV).start()
    running = start_running(api(d), BUCKET)
    cancelling = start_running(api(d), BUCKET)
    scratch = a.data_dir / "query" / "scratch"
    assert (scratch / running).is_dir()
    kill_gateway(d)
    killed = time.monotonic()
    # asked to cancel through B while its gateway is dead: B ends it once the heartbeat is stale
    status, job = call(b, "POST", f"/query/jobs/{cancelling}/cancel")
    assert status == 200 and job["status"] == "cancelled", job
    while (job := call(b, "GET", f"/query/jobs/{running}")[1])["status"] == "running":
        # the bound, the upkeep's round and a lease changing hands (when D held it)
        assert time.monotonic() - killed < ORPHAN + HEARTBEAT + 2 + 5, job
        time.sleep(0.1)
    assert job["status"] == "failed" and job["error"]["code"] == "Interrupted", job
    assert a.db is not None
    with psycopg.connect(a.db) as conn:
        rows = conn.execute("SELECT heartbeat, finished FROM query_jobs WHERE job_id IN (%s, %s)",
                            (running, cancelling)).fetchall()
    assert all(finished - heartbeat >= ORPHAN for heartbeat, finished in rows), rows   # never before it
    assert not (scratch / running).exists() and not (scratch / cancelling).exists()
    assert not Path(a.data_dir / "query" / "results" / f"{running}.parquet").exists()


def test_progress_followed_on_another_gateway(cluster: tuple[NuageServer, NuageServer]) -> None:
    """How far a job run by A is shows on B too (A writes it into the job's row with its heartbeat), and
    moves on as it runs; once the job ended, neither shows any."""
    a, b = cluster
    # DuckDB knows how far it is in a file it scans (not in a range() it generates): a CSV object of 50 MB,
    # each row made big and measured, so that the scan takes many heartbeats
    rows = b"".join(b"%d,%s\n" % (i, b"x" * 40) for i in range(1_000_000))
    a.client().put_object(Bucket=BUCKET, Key="big.csv", Body=b"a,b\n" + rows)
    status, job = call(a, "POST", "/query/jobs",
                       {"sql": f"SELECT sum(length(repeat(b, 1500))) FROM 's3://{BUCKET}/big.csv'"})
    assert status == 201, job
    job_id = job["id"]
    seen: list[float] = []    # B's reports above 0 (DuckDB counts a scan's progress a buffer at a time)
    deadline = time.monotonic() + 120
    while len(set(seen)) < 2:       # reports that moved on, each one within a heartbeat of A's own
        assert time.monotonic() < deadline, seen
        status, here = call(b, "GET", f"/query/jobs/{job_id}")
        there = call(a, "GET", f"/query/jobs/{job_id}")[1]     # after B: A's count may only have grown
        assert status == 200 and here["status"] in ("queued", "running"), here
        assert "progress" in here, here
        assert 0.0 <= here["progress"] <= there["progress"] <= 100.0, (here, there)
        assert not seen or here["progress"] >= seen[-1], (here, seen)
        if here["progress"] > 0:
            seen.append(here["progress"])
        time.sleep(HEARTBEAT / 2)
    listed = {job["id"]: job for job in call(b, "GET", "/query/jobs")[1]["jobs"]}
    assert listed[job_id]["progress"] >= seen[-1], listed[job_id]
    cancel_elsewhere(api(a), api(b), job_id)
    for gateway in (a, b):
        status, job = call(gateway, "GET", f"/query/jobs/{job_id}")
        assert job["status"] == "cancelled" and "progress" not in job, job
