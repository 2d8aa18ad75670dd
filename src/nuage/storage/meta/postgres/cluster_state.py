"""What every gateway of a PostgreSQL database must agree on (migration 0010): the console's state
(console_state.py), and a count of the IAM changes heard of: triggers notify ``nuage_iam`` at every change
of access keys, users, groups, policies and accounts, whichever gateway made it (PostgreSQL delivers the
notification at the commit, to every listening gateway).
"""

from __future__ import annotations

import threading

from nuage.storage.meta.console_state import ConsoleState, Statement
from nuage.storage.meta.postgres.db import AConn, Database

__all__ = ["IAM_CHANNEL", "IAMChanges", "console_state"]

IAM_CHANNEL = "nuage_iam"


class IAMChanges:
    """The IAM version of a gateway: a count of the notifications heard, or None while not listening
    (changes would go unheard: nothing may be cached then)."""

    def __init__(self) -> None:
        self._count = 0
        self._listening = False
        self._lock = threading.Lock()

    def notified(self, _payload: str = "") -> None:
        with self._lock:
            self._count += 1

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self._count += 1          # what was heard before a lost connection is no proof of anything after
            self._listening = listening

    def version(self) -> int | None:
        return self._count if self._listening else None


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def console_state(db: Database) -> ConsoleState:
    async def run(statements: list[Statement]) -> None:
        async def tx(conn: AConn) -> None:
            for sql, params in statements:
                await conn.execute(_pg(sql), params)
        await db.write(tx)

    async def count(statement: Statement) -> int:
        async def query(conn: AConn) -> int:
            cur = await conn.execute(_pg(statement[0]), statement[1])
            row = await cur.fetchone()
            return int(row[0]) if row else 0
        return await db.read(query)

    return ConsoleState(run, count)
