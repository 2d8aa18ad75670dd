"""What every process of a SQLite database must agree on: the console's state (console_state.py,
migration 0010), and the IAM version, which every signed request reads.

The IAM version is an 8-byte token in a small file beside the database (``locks/iam.version``), mapped
into memory by every process: a process that commits a change of access keys, users, groups, policies or
accounts writes a new random token there right after the commit, before its answer leaves; every other
process reads it on its next request (a read of shared memory, no query and no system call) and empties
its identity cache when it differs. Only processes of this machine can share a SQLite database, so they
all share the file too. A change made past Nuage (by hand in the database) is not announced: the identity
cache's age limit covers it.
"""

from __future__ import annotations

import mmap
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from nuage.storage.meta.console_state import ConsoleState, Statement

__all__ = ["IAMBeacon", "console_state"]

SIZE = 8


class IAMBeacon:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < SIZE:
                os.ftruncate(fd, SIZE)   # zeros: every process that races here agrees
            self._map = mmap.mmap(fd, SIZE)
        finally:
            os.close(fd)

    def version(self) -> int:
        return int.from_bytes(self._map[:SIZE], "little")

    def changed(self) -> None:
        """After a commit that changed identities: a token that no process has seen (random, so that two
        processes announcing at once cannot write the same one)."""
        self._map[:SIZE] = secrets.token_bytes(SIZE)

    def close(self) -> None:
        self._map.close()


def console_state(connection: Callable[[], sqlite3.Connection],
                  write: Callable[[Callable[[sqlite3.Connection], int]], Awaitable[int]]) -> ConsoleState:
    async def run(statements: list[Statement]) -> int:
        def tx(conn: sqlite3.Connection) -> int:
            rowcount = 0
            for sql, params in statements:
                rowcount = conn.execute(sql, params).rowcount
            return rowcount
        return await write(tx)

    async def count(statement: Statement) -> int:
        return int(connection().execute(*statement).fetchone()[0])

    return ConsoleState(run, count)
