"""A SQL worker process (started as ``python -m nuage.core.select.lifeline``, which binds it to the
server's life first, see ``lifeline``): runs SQL jobs and S3 Selects under
hard limits, one at a time.

The server starts workers ahead of need; one waits on its stdin for a request frame. For each request it
limits its own address space (DuckDB's memory limit plus a margin for the interpreter, the library and
thread stacks), so no function DuckDB runs can take more memory than that: an allocation beyond it
fails, and at worst the process dies, never the server. The server kills a worker that runs past its
time limit or is cancelled. Messages go back as frames on stdout (see ``frames``). A worker serves one
SQL job and exits; after an S3 Select that ended normally the server may give it another one (every
request has a fresh DuckDB database).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import resource
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

import duckdb

from nuage.core.select import frames
from nuage.core.select.engine import connect, map_error, progress
from nuage.core.select.errors import MemoryExceeded, ResultTooLarge, SelectError
from nuage.core.select.runner import SelectRun
from nuage.core.select.translate import sql_string
from nuage.core.select.work import MIB, Budget, JobWork, SelectWork, memory_exceeded, scrub

#: address space beyond DuckDB's memory limit: the interpreter, DuckDB's code, thread stacks, allocator slack
MARGIN_BYTES = 384 * MIB
MARGIN_PER_THREAD = 80 * MIB
TICK_SECONDS = 0.25


class Out:
    """Frames to the server; two threads write (the query and its progress reports)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def send(self, kind: bytes, payload: bytes) -> None:
        with self.lock:
            self.stream.write(frames.encode(kind, payload))
            self.stream.flush()

    def send_json(self, kind: bytes, value: Any) -> None:
        self.send(kind, json.dumps(value).encode())

    def error(self, exc: SelectError) -> None:
        self.send_json(frames.ERROR, {"kind": type(exc).__name__, "message": exc.message})


def limit_address_space(budget: Budget) -> None:
    threads = budget.threads or os.cpu_count() or 1
    limit = budget.memory_bytes + MARGIN_BYTES + MARGIN_PER_THREAD * threads
    # the soft limit: the next request of this worker may have another budget (SQL cannot change it)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))


def run_job(work: JobWork, out: Out) -> None:
    budget = work.budget
    conn = connect(memory_limit=f"{budget.memory_mib}MiB", threads=budget.threads,
                   allowed_paths=[*work.files, work.result], temp_directory=work.temp_dir,
                   max_temp_bytes=budget.temp_bytes)
    result = Path(work.result)
    too_big = threading.Event()
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(TICK_SECONDS):
            with contextlib.suppress(OSError):
                if result.stat().st_size > work.max_result_bytes:
                    too_big.set()
                    conn.interrupt()
                    return
            done = progress(conn)
            if done is not None:
                out.send_json(frames.PROGRESS, {"progress": done})

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        # the query on lines of its own: a trailing -- comment ends with its line
        written = conn.execute(f"COPY (\n{work.query}\n) TO {sql_string(work.result)} "
                               "(FORMAT PARQUET, USE_TMP_FILE false)").fetchone()
        finished.set()
        size = result.stat().st_size
        if too_big.is_set() or size > work.max_result_bytes:
            raise _result_too_large(work)
        columns = [str(r[0]) for r in conn.execute(
            f"DESCRIBE SELECT * FROM read_parquet({sql_string(work.result)})").fetchall()]
        out.send_json(frames.DONE, {"rows": int(written[0]) if written else 0, "columns": columns, "bytes": size})
    except duckdb.Error as exc:
        if too_big.is_set():
            raise _result_too_large(work) from exc
        err = map_error(exc)
        if isinstance(err, MemoryExceeded):
            raise memory_exceeded(budget) from exc
        raise err.reworded(scrub(err.message, work.names, work.hidden)) from exc
    finally:
        finished.set()


def _result_too_large(work: JobWork) -> SelectError:
    if work.quota_bound:
        return ResultTooLarge(f"The result is larger than the room left in the account's storage "
                              f"quota ({work.max_result_bytes} bytes).")
    return ResultTooLarge(f"The result is larger than the limit of {work.max_result_bytes} bytes.")


def run_select(work: SelectWork, out: Out) -> None:
    run = SelectRun(work.spec, Path(work.path), work.size, Path(work.scratch),
                    memory_limit=f"{work.budget.memory_mib}MiB", threads=work.budget.threads)
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(TICK_SECONDS):
            out.send_json(frames.PROGRESS, {"scanned": run.scanned_so_far(), "returned": run.stats.bytes_returned})

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        run.prepare()
        out.send_json(frames.READY, {"names": run.names})
        if work.spec.progress:
            watcher.start()
        for data in run.batches():
            out.send(frames.DATA, data)
        finished.set()
        if watcher.is_alive():
            watcher.join()          # its last report comes before the end, never after
        s = run.stats
        out.send_json(frames.DONE, {"bytes_scanned": s.bytes_scanned, "bytes_processed": s.bytes_processed,
                                    "bytes_returned": s.bytes_returned, "records": s.records})
    except SelectError as exc:
        if isinstance(exc, MemoryExceeded):
            raise memory_exceeded(work.budget) from exc
        # the object's file, or a copy of it made for DuckDB, is named as the object
        names = {work.path: work.name, **{str(copy): work.name for copy in run.copies}}
        raise exc.reworded(scrub(exc.message, names, work.hidden)) from exc
    finally:
        finished.set()
        if watcher.is_alive():
            watcher.join()
        run.close()


def warm_up() -> None:
    """Run DuckDB once while idle, so that a request does not pay for its first use in this process."""
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SELECT 1").fetchall()
    finally:
        conn.close()


def serve(work: JobWork | SelectWork, out: Out) -> None:
    budget: Budget = work.budget
    try:
        limit_address_space(budget)
        if isinstance(work, JobWork):
            run_job(work, out)
        else:
            run_select(work, out)
    except SelectError as exc:
        out.error(exc)
    except MemoryError:
        out.error(memory_exceeded(budget))


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # the server decides when a worker stops
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))   # a worker that dies over its memory leaves no core file
    warm_up()
    out = Out(sys.stdout.buffer)
    while True:
        frame = frames.read_frame(sys.stdin.buffer)
        if frame is None or frame[0] != frames.REQUEST:
            return 0                                   # the server is done with this worker
        work = pickle.loads(frame[1])
        if not isinstance(work, JobWork | SelectWork):
            return 2
        try:
            serve(work, out)
        except BrokenPipeError:
            return 0
        if isinstance(work, JobWork):
            return 0


if __name__ == "__main__":
    sys.exit(main())
