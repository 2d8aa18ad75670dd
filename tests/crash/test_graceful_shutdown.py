"""Ctrl-C (SIGINT) while uploads are in flight: every client either got a 200 and the object is whole
after a restart, or got an error (or lost the connection) and the key holds its old version or
nothing. Never a partial object; the server exits 0."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

from tests.crash.helpers import (
    History,
    MiB,
    StreamingPut,
    Value,
    check_bucket,
    slow_chunks,
    storage_problems,
    wait_until,
)
from tests.crash.workload import Worker
from tests.support.server import NuageServer

BUCKET = "crash-graceful"
THREADS = 4


def test_sigint_during_uploads_leaves_whole_objects_or_old_ones(tmp_path: Path) -> None:
    seed = int(os.environ.get("NUAGE_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    srv = NuageServer(data_dir).start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket=BUCKET)
        old = os.urandom(100_000)
        s3.put_object(Bucket=BUCKET, Key="slow/sized", Body=old)
        history = History(baseline={"slow/sized": Value.single(old).no_checksum(), "slow/chunked": None})

        stop, failing = threading.Event(), threading.Event()
        clients = [srv.client(connect_timeout=3, read_timeout=40) for _ in range(THREADS)]
        workers = [Worker(i, c, BUCKET, history, stop, rng.randrange(1 << 30), failing=failing,
                          error_responses_ok=True, max_size=2 * MiB, multipart_share=0.05)
                   for i, c in enumerate(clients)]
        for w in workers:
            w.start()
        time.sleep(rng.uniform(0.5, 1.2))

        # two slow bodies (about 2 s each) that are mid-way when Ctrl-C arrives
        slow = {"slow/sized": os.urandom(6 * MiB), "slow/chunked": os.urandom(6 * MiB)}
        puts = [StreamingPut(srv, BUCKET, key, slow_chunks(body, 128 * 1024, 0.04),
                             length=len(body) if key == "slow/sized" else None)
                for key, body in slow.items()]
        slow_ops = [history.begin(p.key, Value.single(slow[p.key]).no_checksum()) for p in puts]
        for p in puts:
            p.start()
        assert wait_until(lambda: all(p.sent >= MiB for p in puts), timeout=10), [p.sent for p in puts]
        assert all(p.sent < len(slow[p.key]) for p in puts), [p.sent for p in puts]

        failing.set()
        started = time.monotonic()
        code = srv.stop()
        stop.set()
        took = time.monotonic() - started
        assert code == 0, f"exit code {code} after {took:.1f}s\n{srv.log()[-3000:]}"
        for w in workers:
            w.join(30)
            assert not w.is_alive(), f"{w.name} hung"
        for c in clients:
            c.close()
        for p, op in zip(puts, slow_ops, strict=True):
            p.join()
            if p.status == 200:
                op.end = time.monotonic()
            elif p.status is not None:
                op.failed = True           # an error response: the write must not have happened
        unexpected = [u for w in workers for u in w.unexpected]
        assert not unexpected, f"seed {seed}: errors before the shutdown: {unexpected}"
        assert sum(w.acked for w in workers) > 0

        srv = NuageServer(data_dir).start()
        s3 = srv.client()
        _, problems = check_bucket(s3, BUCKET, history.candidates, history.keys())
        outcome = {p.key: p.status or repr(p.error) for p in puts}
        assert not problems, (f"seed {seed}: after Ctrl-C (slow uploads: {outcome}) and restart:\n"
                              + "\n".join(problems))
        print(f"seed {seed}: slow uploads {outcome}; workers acked {sum(w.acked for w in workers)}; "
              f"stop took {took:.2f}s; storage: {storage_problems(data_dir)}")
        problems = storage_problems(data_dir)
        assert not problems, "after a clean stop:\n" + "\n".join(problems)
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.stop()
