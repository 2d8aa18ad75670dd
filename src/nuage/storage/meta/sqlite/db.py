"""SQLite plumbing: connections, numbered migrations, and the single writer thread.

Writes are functions of a connection queued to one writer thread. The thread runs every queued
function of a batch inside one ``BEGIN IMMEDIATE`` transaction, each under its own savepoint (a
failing one rolls back alone), then commits once: group commit, so concurrent writers share one
WAL fsync. Reads use a per-thread connection; WAL lets them run beside the writer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
WriteFn = Callable[[sqlite3.Connection], Any]
# (write, its outcome, and for async callers the loop and asyncio future to hand the outcome to)
Item = tuple[WriteFn, concurrent.futures.Future[Any], asyncio.AbstractEventLoop | None, asyncio.Future[Any] | None]

MAX_BATCH = 256


def connect(path: Path, *, fsync: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={'FULL' if fsync else 'OFF'}")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the numbered SQL files of ``migrations/`` not applied yet; returns the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    applied = {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}
    current = max(applied, default=0)
    files = sorted(
        (f for f in resources.files("nuage.storage.meta").joinpath("migrations").iterdir()
         if f.name.endswith(".sql")),
        key=lambda f: f.name,
    )
    for f in files:
        number = int(f.name.split("_", 1)[0])
        if number in applied:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process starting on the same new database may have applied it since the read above
            if conn.execute("SELECT 1 FROM schema_version WHERE version=?", (number,)).fetchone():
                conn.execute("COMMIT")
                applied.add(number)
                current = max(current, number)
                continue
            for statement in _statements(f.read_text()):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.add(number)
        current = max(current, number)
    return current


def _statements(script: str) -> list[str]:
    out, buf = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        buf.append(line)
        if sqlite3.complete_statement("\n".join(buf)):
            out.append("\n".join(buf))
            buf = []
    return out


class Writer:
    """The one thread that writes, with group commit."""

    def __init__(self, path: Path, *, fsync: bool, on_commit: Callable[[], None] | None = None,
                 commit_window: Callable[[], contextlib.AbstractContextManager[None]] | None = None) -> None:
        self._on_commit = on_commit     # run on the writer thread after every successful COMMIT
        self._commit_window = commit_window or contextlib.nullcontext   # entered around every COMMIT
        self._conn = connect(path, fsync=fsync)
        self._queue: queue.Queue[Item | None] = queue.Queue()
        # for the metrics: how many commits had each number of writes (written by the writer thread only)
        self.group_sizes = [0] * (MAX_BATCH + 1)
        self._thread = threading.Thread(target=self._run, name="nuage-sqlite-writer", daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in the next group commit. Cancelling the caller does not cancel the write:
        once queued it commits (or fails) as a whole, so callers never guess wrong about it."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, concurrent.futures.Future(), loop, waiter))
        # A cancelled caller cancels only its waiter: the writer thread never looks at it, so the write
        # still commits (or fails) as a whole, and _settle skips the cancelled waiter.
        return await waiter

    def run_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, fut, None, None))
        return fut.result()

    def queue_depth(self) -> int:
        """Writes waiting for the writer thread (the metrics)."""
        return self._queue.qsize()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._conn.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit_batch(batch)
            if stop:
                return

    def _commit_batch(self, batch: list[Item]) -> None:
        self.group_sizes[len(batch)] += 1
        try:
            self._commit(batch)
        finally:
            _wake(batch)

    def _commit(self, batch: list[Item]) -> None:
        conn = self._conn
        outcomes: list[tuple[concurrent.futures.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut, _, _ in batch:
                if not fut.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT op")
                try:
                    result = fn(conn)
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((fut, None, exc))
                else:
                    conn.execute("RELEASE op")
                    outcomes.append((fut, result, None))
            with self._commit_window():
                conn.execute("COMMIT")
            if self._on_commit is not None:
                self._on_commit()
        except BaseException as exc:  # noqa: BLE001 - commit failed: every op of the batch fails
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for _, fut, _, _ in batch:
                if not fut.done() and (fut.running() or fut.set_running_or_notify_cancel()):
                    fut.set_exception(exc)
            return
        for fut, result, error in outcomes:
            if fut.done():
                continue
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(result)


def _wake(batch: list[Item]) -> None:
    """Hand the outcomes of a batch to their async callers: one wake-up per event loop and batch
    (not one per write), so a large group commit costs its loop a single self-pipe write."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[concurrent.futures.Future[Any], asyncio.Future[Any]]]] = {}
    for _, fut, loop, waiter in batch:
        if loop is not None and waiter is not None:
            by_loop.setdefault(loop, []).append((fut, waiter))
    for loop, pairs in by_loop.items():
        with contextlib.suppress(RuntimeError):   # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_settle, pairs)


def _settle(pairs: list[tuple[concurrent.futures.Future[Any], asyncio.Future[Any]]]) -> None:
    for fut, waiter in pairs:
        if waiter.done():
            continue
        if not fut.done() or fut.cancelled():
            waiter.cancel()
        elif (error := fut.exception()) is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(fut.result())


class Readers:
    """One read connection per thread."""

    def __init__(self, path: Path, *, fsync: bool) -> None:
        self._path = path
        self._fsync = fsync
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, fsync=self._fsync)
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
