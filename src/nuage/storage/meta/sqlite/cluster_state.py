"""What every process of a SQLite database must agree on (migration 0010): the console's state
(console_state.py), and the IAM version, a counter that triggers bump at every change of access keys,
users, groups, policies and accounts, whichever process made it.

The IAM version is read on every signed request, so it costs no query while nothing changed: the reading
connection first asks SQLite whether any other connection committed since it last looked
(``PRAGMA data_version``, from the shared memory of the WAL, no I/O), and reads the counter's row only then.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable

from nuage.storage.meta.console_state import ConsoleState, Statement

__all__ = ["IAMVersion", "console_state"]


class IAMVersion:
    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        self._connection = connection     # this thread's read connection
        self._local = threading.local()   # (data_version, IAM version) this thread's connection last saw

    def __call__(self) -> int:
        conn = self._connection()
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        seen: tuple[int, int] | None = getattr(self._local, "seen", None)
        if seen is not None and seen[0] == data_version:
            return seen[1]
        row = conn.execute("SELECT version FROM iam_version").fetchone()
        version = int(row[0]) if row else 0
        self._local.seen = (data_version, version)
        return version


def console_state(connection: Callable[[], sqlite3.Connection],
                  write: Callable[[Callable[[sqlite3.Connection], None]], Awaitable[None]]) -> ConsoleState:
    async def run(statements: list[Statement]) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            for sql, params in statements:
                conn.execute(sql, params)
        await write(tx)

    async def count(statement: Statement) -> int:
        return int(connection().execute(*statement).fetchone()[0])

    return ConsoleState(run, count)
