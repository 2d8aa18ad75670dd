"""What every gateway of a PostgreSQL database must agree on (migration 0010): the console's state
(console_state.py), and a count of the IAM changes heard of: triggers notify ``nuage_iam`` at every change
of access keys, users, groups, policies and accounts, whichever gateway made it (PostgreSQL delivers the
notification at the commit, to every listening gateway).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from nuage.storage.meta.console_state import ConsoleState, Statement
from nuage.storage.meta.postgres.db import AConn, Database
from nuage.storage.meta.postgres.notify import ECHO_WAIT

__all__ = ["IAM_CHANNEL", "IAMChanges", "console_state"]

IAM_CHANNEL = "nuage_iam"
T = TypeVar("T")


class IAMChanges:
    """The IAM version of a gateway: a count of the notifications heard, and of the times its listening
    connection started listening (again: changes made meanwhile went unheard). While it does not listen the
    count stays put and the identity cache's age limit (1 s) is the bound: when PostgreSQL is down, which
    is the usual reason, the identities cached go on serving (nobody can change them meanwhile)."""

    def __init__(self) -> None:
        self._count = 0
        self._listening = False
        self._heard = threading.Condition()

    def notified(self, _payload: str = "") -> None:
        """From the listener thread."""
        with self._heard:
            self._count += 1
            self._heard.notify_all()

    def set_listening(self, listening: bool) -> None:
        with self._heard:
            if listening:
                self._count += 1      # changes made while nobody listened went unheard
            self._listening = listening
            self._heard.notify_all()

    def write_heard(self, write: Callable[[], T]) -> T:
        """Run ``write`` (a transaction that changes IAM tables, whose triggers notify) and return once a
        notification came back to this gateway after it: PostgreSQL notifies every listening gateway at
        the same moment, so the others have heard of the change by the time its answer leaves, all but
        always before its client's next request. ECHO_WAIT seconds at most; at once when not listening."""
        with self._heard:
            before = self._count
        result = write()
        with self._heard:
            if self._listening:
                self._heard.wait_for(lambda: self._count != before, timeout=ECHO_WAIT)
        return result

    def version(self) -> int:
        return self._count


def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


def console_state(db: Database) -> ConsoleState:
    async def run(statements: list[Statement]) -> int:
        async def tx(conn: AConn) -> int:
            # one console write at a time in the cluster (sign-ins and sign-outs are rare): each statement
            # then sees what the one before committed, as on SQLite, and the throttle's limit is exact
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('nuage:console', 2))")
            rowcount = 0
            for sql, params in statements:
                rowcount = (await conn.execute(_pg(sql), params)).rowcount
            return rowcount
        return await db.write(tx)

    async def count(statement: Statement) -> int:
        async def query(conn: AConn) -> int:
            cur = await conn.execute(_pg(statement[0]), statement[1])
            row = await cur.fetchone()
            return int(row[0]) if row else 0
        return await db.read(query)

    return ConsoleState(run, count)
