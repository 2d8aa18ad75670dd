"""kill -9 of a gateway takes its SQL worker processes with it: none stays behind, orphaned, running a
query on (issue 16). The worker killed right after it was started (still loading DuckDB, before it could
ask to die with its parent) is the case that once left one behind; a worker busy with a query the other."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_query import call
from tests.support.queryjobs import ENV, LONG, SMALL, start_running
from tests.support.server import NuageServer, children

BUCKET = "data"


def sql_workers(pid: int) -> list[int]:
    """The SQL worker processes among the children of ``pid``."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"nuage.core.select" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead and waiting for its parent to collect it, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[NuageServer]:
    server = NuageServer(tmp_path / "data", env=ENV).start()
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="small.csv", Body=SMALL)
    yield server
    server.kill()


@pytest.mark.parametrize("moment", ["starting", "running"])
def test_kill9_of_the_gateway_ends_its_sql_workers(gateway: NuageServer, moment: str) -> None:
    assert gateway.proc is not None
    if moment == "starting":
        # no worker yet: the job's is started on demand, and handed the job at once; kill the gateway
        # while it still loads (DuckDB takes some 0.2 s to import)
        status, job = call(gateway, "POST", "/query/jobs", {"sql": LONG.format(bucket=BUCKET)})
        assert status == 201, job
        deadline = time.monotonic() + 30
        while not (workers := sql_workers(gateway.proc.pid)):
            assert time.monotonic() < deadline, gateway.log()
            time.sleep(0.001)
        time.sleep(0.05)
    else:
        start_running(functools.partial(call, gateway), BUCKET)
        time.sleep(1.0)                       # DuckDB works on the cross join
        workers = sql_workers(gateway.proc.pid)
        assert workers
    gateway.kill()
    killed = time.monotonic()
    try:
        while left := [pid for pid in workers if alive(pid)]:
            assert time.monotonic() - killed < 5.0, f"SQL workers {left} outlived their gateway"
            time.sleep(0.05)
    finally:
        for pid in workers:                   # never leave one burning a core after a failure
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
