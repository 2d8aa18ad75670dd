"""Background work that runs in one process of a machine at a time: the holder of an exclusive ``flock``
on a lock file of the data folder, for the worker processes of one gateway on SQLite (on PostgreSQL the
cluster's leases do this across machines).

The other processes try again every POLL seconds. The kernel releases the lock with its holder's file,
even after a ``kill -9``: another process takes the work over within POLL seconds.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

__all__ = ["run_once_per_machine"]

POLL = 2.0


async def run_once_per_machine(path: Path, run: Callable[[], Coroutine[Any, Any, None]],
                               poll: float = POLL) -> None:
    """Run ``run()`` while holding the lock file ``path`` (made when missing); until cancelled, or until
    ``run()`` ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(poll)
        await run()
    finally:
        os.close(fd)   # closing releases the lock
