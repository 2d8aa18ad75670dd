"""`nuage serve --workers 2` on SQLite: new connections land on both worker processes; what one worker
acknowledged, the other reads, lists and deletes at once (its caches do not hide the other's writes);
background work runs in one worker; SIGINT and SIGTERM stop every process (exit 0), and no worker outlives
a killed parent. Also the health endpoint of a single-process gateway."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import SQLITE_ONLY, NuageServer, children
from tests.support.workers import health, read_after_write_across_workers, start_workers, worker_connection


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = start_workers(tmp_path_factory.mktemp("workers") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def test_fresh_connections_land_on_both_workers(gateway: NuageServer) -> None:
    seen: Counter[int] = Counter()
    for _ in range(40):
        conn, worker = worker_connection(gateway)
        conn.close()
        seen[worker] += 1
    assert set(seen) == {0, 1}, seen
    assert gateway.proc is not None and len(children(gateway.proc.pid)) == 2


def test_read_after_write_across_workers(gateway: NuageServer) -> None:
    # on PostgreSQL a bucket's settings and deletion reach the other worker within 1 s (docs/postgresql.md)
    read_after_write_across_workers(gateway, bucket_bound=1.0 if os.environ.get("NUAGE_TEST_DB") else 0.0)


def lock_holders(data: Path, name: str) -> set[int]:
    """Process ids holding the flock of background job ``name``'s lock file."""
    inode = os.stat(data / "locks" / f"{name}.lock").st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "FLOCK" in fields and fields[-3].endswith(f":{inode}"):
            holders.add(int(fields[-4]))
    return holders


@SQLITE_ONLY
def test_background_work_runs_in_one_worker(gateway: NuageServer) -> None:
    assert gateway.proc is not None
    workers = set(children(gateway.proc.pid))
    deadline = time.monotonic() + 10
    while True:
        try:
            found = {name: lock_holders(gateway.data_dir, name) for name in ("sweeper", "lifecycle")}
        except FileNotFoundError:
            found = {}
        if found and all(len(pids) == 1 and pids <= workers for pids in found.values()):
            break
        assert time.monotonic() < deadline, (found, workers)
        time.sleep(0.1)
    time.sleep(2.5)   # longer than a try: the other worker keeps trying and never gets a lock held
    assert {name: lock_holders(gateway.data_dir, name) for name in found} == found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_every_worker(tmp_path: Path, sig: signal.Signals) -> None:
    srv = start_workers(tmp_path / "data")
    try:
        assert srv.proc is not None
        workers = children(srv.proc.pid)
        assert len(workers) == 2
        s3 = srv.client()
        s3.create_bucket(Bucket="stop")
        s3.put_object(Bucket="stop", Key="k", Body=b"kept")
        s3.close()
        srv.proc.send_signal(sig)
        assert srv.proc.wait(30) == 0, srv.log()
        for pid in workers:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert srv.log().count("nuage stopped cleanly") == 3, srv.log()   # each worker, then the parent
    finally:
        assert srv.stop() == 0
    again = NuageServer(srv.data_dir).start()   # what was acknowledged is there
    try:
        assert again.client().get_object(Bucket="stop", Key="k")["Body"].read() == b"kept"
    finally:
        assert again.stop() == 0


def test_workers_stop_when_the_parent_is_killed(tmp_path: Path) -> None:
    srv = start_workers(tmp_path / "data")
    srv.allow_faults = True
    assert srv.proc is not None
    workers = children(srv.proc.pid)
    srv.kill()
    deadline = time.monotonic() + 15
    for pid in workers:
        while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]:
            assert time.monotonic() < deadline, f"worker {pid} outlived its parent"
            time.sleep(0.05)


def test_health_of_one_process(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data").start()
    try:
        status, body = health(srv)
        assert (status, body) == (200, {"status": "ok", "database": "ok", "worker": 0})
        assert str(tmp_path) not in str(body)
    finally:
        assert srv.stop() == 0
