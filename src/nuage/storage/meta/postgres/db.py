"""PostgreSQL plumbing: connection pools, numbered migrations under a cluster-wide lock, transactions.

Two pools share one database URL. The protocol's async methods (every object, bucket and multipart
request) take connections from an ``AsyncConnectionPool`` of the event loop they run on (opened on first
use: the store is made before the server's loop exists). Its synchronous methods (signature checks, IAM,
scrubs, console passwords, SQL job records) use a small ``ConnectionPool``: they run before any await or
on threads of their own, and a blocking round trip there is what SQLite's reads cost too.

Every connection is in autocommit: a read is one statement; a write is one explicit transaction
(``transaction()``) at READ COMMITTED, made atomic across gateways by the locks its statements take
(see store.py). Nothing is cached across statements, so several gateways can share the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool

T = TypeVar("T")
AConn = psycopg.AsyncConnection[tuple[Any, ...]]
Conn = psycopg.Connection[tuple[Any, ...]]

#: pg_advisory_lock key held while migrations run (any constant; 'nuage' in ASCII)
MIGRATION_LOCK = 0x6E75616765
ASYNC_POOL_MAX = 16      # connections per event loop: concurrent transactions of one gateway
SYNC_POOL_MAX = 4        # connections for the synchronous methods
CONNECT_TIMEOUT = 10     # seconds to reach the server before a request gives up
# seconds a request waits for a connection of the pool: while the database is down, a request fails
# (503 ServiceUnavailable, which SDKs retry) rather than hang for as long as the outage lasts
POOL_TIMEOUT = 5.0
# a pooled connection idle for longer than this is checked (one round trip) before a request gets it
IDLE_CHECK = 1.0


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def migration_files() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of the PostgreSQL migrations, in order."""
    folder = resources.files("nuage.storage.meta").joinpath("migrations").joinpath("postgresql")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(int(f.name.split("_", 1)[0]), f.name, f.read_text()) for f in files]


def sqlite_numbers() -> list[int]:
    """The numbers of the SQLite migrations: both backends must have the same ones."""
    folder = resources.files("nuage.storage.meta").joinpath("migrations")
    return sorted(int(f.name.split("_", 1)[0]) for f in folder.iterdir() if f.name.endswith(".sql"))


def applied_versions(conn: Conn) -> set[int]:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_version").fetchall()}


def migrate(url: str) -> tuple[int, list[str]]:
    """Apply the migrations not applied yet, each in its own transaction, under a session advisory lock:
    gateways starting together apply each one once (the others wait, then find nothing to do).
    Returns (the schema version, the names of the files applied now)."""
    done: list[str] = []
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            # CREATE TABLE IF NOT EXISTS can still race another session's: the lock is taken first
            applied = applied_versions(conn)
            for number, name, sql in migration_files():
                if number in applied:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())   # several statements, no parameters: one simple query
                    conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
                applied.add(number)
                done.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return max(applied, default=0), done


def check(url: str) -> tuple[int, list[str]]:
    """(the schema version, the names of the migrations not applied yet); changes nothing."""
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        row = conn.execute("SELECT to_regclass('schema_version')").fetchone()
        applied = set() if row is None or row[0] is None else {
            int(r[0]) for r in conn.execute("SELECT version FROM schema_version").fetchall()}
    missing = [name for number, name, _ in migration_files() if number not in applied]
    return max(applied, default=0), missing


class IdleChecks:
    """The pools' check of a connection they hand out: one round trip to the server (an empty query), but
    only for a connection that lay idle for longer than ``idle`` seconds. A connection in steady use costs
    no extra round trip per request (a check on every checkout doubled a GET's round trips); one that waited
    long enough for the server to have restarted or cut it is checked, and the pool replaces it when it is
    dead. A connection that breaks while in use is closed by the driver and dropped by the pool on return;
    its request fails as the database's outage it is (503 ServiceUnavailable)."""

    def __init__(self, idle: float) -> None:
        self.idle = idle
        self._used: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()

    def _due(self, conn: object) -> bool:
        now = time.monotonic()
        last = self._used.get(conn)
        self._used[conn] = now
        return last is None or now - last > self.idle

    def check_sync(self, conn: Conn) -> None:
        if self._due(conn):
            ConnectionPool.check_connection(conn)

    async def check_async(self, conn: AConn) -> None:
        if self._due(conn):
            await AsyncConnectionPool.check_connection(conn)


_checks = IdleChecks(IDLE_CHECK)


class Database:
    """The pools of one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sync_pool: ConnectionPool[Conn] = ConnectionPool(
            url, min_size=1, max_size=SYNC_POOL_MAX, kwargs=_kwargs(), open=False, timeout=POOL_TIMEOUT,
            check=_checks.check_sync, name="nuage-sync")
        self.sync_pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        self._async: dict[asyncio.AbstractEventLoop, tuple[AsyncConnectionPool[AConn], asyncio.Task[None]]] = {}

    async def _pool(self) -> AsyncConnectionPool[AConn]:
        loop = asyncio.get_running_loop()
        entry = self._async.get(loop)
        if entry is None:
            pool: AsyncConnectionPool[AConn] = AsyncConnectionPool(
                self.url, min_size=2, max_size=ASYNC_POOL_MAX, kwargs=_kwargs(), open=False, timeout=POOL_TIMEOUT,
                check=_checks.check_async, name="nuage-async")
            entry = (pool, loop.create_task(pool.open()))
            self._async[loop] = entry
        await asyncio.shield(entry[1])
        return entry[0]

    async def read(self, fn: Callable[[AConn], Awaitable[T]]) -> T:
        """Run ``fn`` on a connection in autocommit (each statement sees what was committed before it)."""
        pool = await self._pool()
        async with pool.connection() as conn:
            return await fn(conn)

    async def write(self, fn: Callable[[AConn], Awaitable[T]]) -> T:
        """Run ``fn`` in one transaction. Cancelling the caller does not cancel the write: once started it
        commits (or fails) as a whole, so callers never guess wrong about it (as SQLite's writer)."""
        async def run() -> T:
            pool = await self._pool()
            async with pool.connection() as conn, conn.transaction():
                return await fn(conn)
        task = asyncio.ensure_future(run())
        # a write whose caller went away: its failure was nobody's to hear (and is no unhandled error)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(task)

    def read_sync(self, fn: Callable[[Conn], T]) -> T:
        with self.sync_pool.connection() as conn:
            return fn(conn)

    def write_sync(self, fn: Callable[[Conn], T]) -> T:
        with self.sync_pool.connection() as conn, conn.transaction():
            return fn(conn)

    def close(self) -> None:
        self.sync_pool.close()
        for loop, (pool, _) in list(self._async.items()):
            # a pool can only be closed on its own loop; once that loop is gone, so are its tasks, and
            # the connections close with the process
            if not loop.is_closed() and not loop.is_running():
                with contextlib.suppress(Exception):
                    loop.run_until_complete(pool.close())
        self._async.clear()


def _kwargs() -> dict[str, Any]:
    # prepare_threshold: statements run a few times are prepared server-side (their plans kept)
    return {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "prepare_threshold": 2}
