"""Background work that runs on one gateway of a cluster at a time: the holder of a lease, a session-level
advisory lock (``pg_try_advisory_lock``) held on a connection of its own for as long as the work runs.

The other gateways try again every POLL seconds. When the holder dies (even by ``kill -9``) its
connection closes and PostgreSQL releases the lock: another gateway takes the work over within POLL
seconds. A holder that loses its connection (the lock with it) notices at its next check, within POLL
seconds, and stops the work before it tries to take the lease again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg

from nuage.storage.meta.postgres.db import CONNECT_TIMEOUT

log = logging.getLogger("nuage.leases")

POLL = 2.0                    # seconds between tries (and between the holder's checks of its connection)
APPLICATION = "nuage-lease"   # pg_stat_activity.application_name of a lease's connection: nuage-lease:NAME:PID


def lock_key_text(name: str) -> str:
    return f"nuage-lease:{name}"


async def run_once_per_cluster(url: str, name: str, run: Callable[[], Coroutine[Any, Any, None]],
                               poll: float = POLL) -> None:
    """Run ``run()`` while holding the lease ``name``; forever (until cancelled)."""
    while True:
        try:
            await _hold_and_run(url, name, run, poll)
        except psycopg.OperationalError as exc:   # the database went away: so did the lease
            log.warning("lease %s: %s; trying again", name, str(exc).strip().splitlines()[0] if str(exc) else exc)
        await asyncio.sleep(poll)


async def _hold_and_run(url: str, name: str, run: Callable[[], Coroutine[Any, Any, None]], poll: float) -> None:
    conn = await psycopg.AsyncConnection.connect(
        url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name=f"{APPLICATION}:{name}:{os.getpid()}",
        keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
    try:
        while True:
            cur = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (lock_key_text(name),))
            row = await cur.fetchone()
            if row is not None and row[0]:
                break
            await asyncio.sleep(poll)
        task = asyncio.create_task(run())
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=poll)
                if not task.done():
                    await conn.execute("SELECT 1")   # raises once the connection (and the lock) is gone
            await task   # the work ended by itself (an error shows here)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    finally:
        with contextlib.suppress(Exception):
            await conn.close()   # closing releases the lock
