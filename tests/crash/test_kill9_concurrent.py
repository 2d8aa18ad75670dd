"""kill -9 during concurrent uploads, overwrites, multipart uploads and deletes; restart on the same
data folder and check that every acknowledged write survived whole (DESIGN.md, storage invariants).
The timings come from a random seed printed with -s; NUAGE_CRASH_SEED=<seed> replays the same schedule
(modulo thread interleaving)."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path
from typing import Any

from tests.crash.helpers import (
    History,
    Value,
    blob_files,
    check_bucket,
    meta_view,
    storage_problems,
    wait_until,
)
from tests.crash.workload import Worker
from tests.support.server import NuageServer

BUCKET = "crash-concurrent"
THREADS = 6
ROUNDS = 3


def _clients(srv: NuageServer, n: int) -> list[Any]:
    return [srv.client(connect_timeout=3, read_timeout=30) for _ in range(n)]


def test_kill9_during_concurrent_writes_keeps_every_acknowledged_object(tmp_path: Path) -> None:
    seed = int(os.environ.get("NUAGE_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    srv = NuageServer(data_dir).start()
    admin = srv.client()
    admin.create_bucket(Bucket=BUCKET)
    state: dict[str, Value | None] = {}
    report: list[str] = []
    try:
        for rnd in range(ROUNDS):
            history = History(baseline=dict(state))
            stop = threading.Event()
            clients = _clients(srv, THREADS)
            workers = [Worker(i, c, BUCKET, history, stop, rng.randrange(1 << 30)) for i, c in enumerate(clients)]
            for w in workers:
                w.start()
            # different timings each round: early (parts and large bodies in flight), later, latest
            kill_after = rng.uniform(*((0.4, 1.0), (1.0, 2.0), (2.0, 3.0))[rnd % 3])
            time.sleep(kill_after)
            stop.set()
            srv.kill()
            for w in workers:
                w.join(30)
                assert not w.is_alive(), f"{w.name} hung after the kill"
            for c in clients:
                c.close()
            unexpected = [u for w in workers for u in w.unexpected]
            assert not unexpected, f"seed {seed} round {rnd}: errors before the kill: {unexpected}"
            acked = sum(w.acked for w in workers)
            inflight = sum(1 for op in history.ops if not op.acked and not op.failed)
            report.append(f"round {rnd}: kill after {kill_after:.2f}s, {acked} acknowledged writes, "
                          f"{inflight} in flight")
            assert acked > 0, f"seed {seed} round {rnd}: nothing was acknowledged before the kill"

            srv = NuageServer(data_dir).start()
            admin = srv.client()
            state, problems = check_bucket(admin, BUCKET, history.candidates, history.keys())
            problems += storage_problems(data_dir, allow_leaked=True)
            assert not problems, (f"seed {seed} round {rnd} ({report[-1]}): after kill -9 and restart:\n"
                                  + "\n".join(problems))

        # A clean stop, then a start with an eager sweeper: orphans of the kills (blobs written but never
        # committed) and the abandoned multipart uploads go; every referenced blob stays.
        assert srv.stop() == 0, srv.log()
        leftovers = len(set(blob_files(data_dir)) - meta_view(data_dir).registered)
        report.append(f"{leftovers} blob files left by the kills, {meta_view(data_dir).uploads} unfinished uploads")
        srv = NuageServer(data_dir, env={"NUAGE_SWEEP_INTERVAL": "0.3", "NUAGE_ORPHAN_GRACE": "0",
                                         "NUAGE_MULTIPART_EXPIRY": "0"}).start()
        admin = srv.client()
        wait_until(lambda: not storage_problems(data_dir) and meta_view(data_dir).uploads == 0, timeout=10)
        problems = storage_problems(data_dir)
        assert not problems, f"seed {seed}: after sweeping:\n" + "\n".join(problems)
        assert admin.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
        _, problems = check_bucket(admin, BUCKET, lambda k: [state.get(k)], state.keys())
        assert not problems, f"seed {seed}: after sweeping:\n" + "\n".join(problems)
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.stop()
    print(f"seed {seed}: " + "; ".join(report))
