"""Background work runs once per cluster: of two gateways on one database, one holds each lease (the
sweeper, the lifecycle worker, the scrub), and when it is killed (-9) the other takes the work over."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer

WORK = ("sweeper", "lifecycle", "scrub", "query-jobs")
TAKEOVER = 10.0


def holders(url: str) -> dict[str, list[int]]:
    """Lease name -> the process ids of the gateways holding it."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() "
            "AND a.application_name LIKE 'nuage-lease:%'").fetchall()
    out: dict[str, list[int]] = {}
    for (application,) in rows:
        _, name, pid = application.split(":")
        out.setdefault(name, []).append(int(pid))
    return out


def wait_for_holders(url: str, pids: set[int]) -> dict[str, list[int]]:
    deadline = time.monotonic() + TAKEOVER
    while True:
        found = holders(url)
        if all(len(found.get(name, [])) == 1 and found[name][0] in pids for name in WORK):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"leases not held by {pids} within {TAKEOVER} s: {found}")
        time.sleep(0.1)


@pytest.fixture
def pair(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, NuageServer]]:
    url = pg.create_database()
    data = tmp_path_factory.mktemp("leases") / "data"
    a = NuageServer(data, db=url).start()
    b = NuageServer(data, db=url).start()
    yield a, b
    for srv in (a, b):
        srv.stop()


def test_one_holder_per_lease_and_takeover_after_kill(pair: tuple[NuageServer, NuageServer]) -> None:
    a, b = pair
    assert a.proc is not None and b.proc is not None and a.db is not None
    pids = {a.proc.pid: a, b.proc.pid: b}
    found = wait_for_holders(a.db, set(pids))
    time.sleep(2.5)   # longer than a try: the other gateway keeps trying and never gets a lease held
    assert holders(a.db) == found
    victim = pids[found["sweeper"][0]]
    survivor = b if victim is a else a
    assert survivor.proc is not None
    started = time.monotonic()
    victim.kill()
    wait_for_holders(a.db, {survivor.proc.pid})
    assert time.monotonic() - started < TAKEOVER
    s3 = survivor.client()   # the survivor still serves
    s3.create_bucket(Bucket="after-takeover")
    s3.put_object(Bucket="after-takeover", Key="k", Body=b"x")
