"""What the web console keeps in the metadata store, so that every worker process and every gateway of a
region agrees on it (migration 0010): the sessions ended by a sign-out, until their cookies would have
expired anyway, and the failed sign-ins the throttle counts, one row each while it is in the window.

The statements are the same for both backends; they are written here once, with ``?`` placeholders
(the PostgreSQL store turns them into ``%s``), as lists of (statement, parameters) to run in one
transaction (writes) or as one query of a count (reads); each store only says how to run them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Statement = tuple[str, tuple[object, ...]]
Write = Callable[[list[Statement]], Awaitable[int]]     # runs statements in one transaction: the last one's rowcount
Count = Callable[[Statement], Awaitable[int]]          # runs a query of one number


class ConsoleState:
    """The console's state in a metadata store, given the store's way to write and to count."""

    def __init__(self, write: Write, count: Count) -> None:
        self._write = write
        self._count = count

    async def end_session(self, session: str, expires: float, now: float) -> None:
        """Remember the session ``session`` (an opaque id) as signed out until ``expires``; forget those
        that expired before ``now``."""
        await self._write(end_session(session, expires, now))

    async def session_ended(self, session: str, now: float) -> bool:
        return await self._count(session_ended(session, now)) > 0

    async def add_failure(self, client: str, name: str, now: float, window: float, limit: int) -> bool:
        """Count a sign-in attempt of ``name`` from ``client`` as failed (until ``clear_failures``), unless
        ``limit`` failed within ``window`` seconds already: then False, and nothing is counted. Failures older
        than the window (of every name) are forgotten. The check and the count are one statement, so that
        attempts at once through several processes cannot all pass it."""
        return await self._write(add_failure(client, name, now, window, limit)) > 0

    async def failures(self, client: str, name: str, since: float) -> int:
        """How many failed sign-ins of ``name`` from ``client`` since ``since``."""
        return await self._count(failures(client, name, since))

    async def clear_failures(self, client: str, name: str) -> None:
        await self._write(clear_failures(client, name))


def end_session(session: str, expires: float, now: float) -> list[Statement]:
    return [("INSERT INTO console_signouts (session, expires) VALUES (?, ?) "
             "ON CONFLICT (session) DO UPDATE SET expires = excluded.expires", (session, expires)),
            ("DELETE FROM console_signouts WHERE expires < ?", (now,))]


def session_ended(session: str, now: float) -> Statement:
    return "SELECT count(*) FROM console_signouts WHERE session = ? AND expires >= ?", (session, now)


def add_failure(client: str, name: str, now: float, window: float, limit: int) -> list[Statement]:
    since = now - window
    return [("DELETE FROM console_signin_failures WHERE at <= ?", (since,)),
            ("INSERT INTO console_signin_failures (client, name, at) SELECT ?, ?, ? WHERE (SELECT count(*) FROM "
             "console_signin_failures WHERE client = ? AND name = ? AND at > ?) < ?",
             (client, name, now, client, name, since, limit))]


def failures(client: str, name: str, since: float) -> Statement:
    return ("SELECT count(*) FROM console_signin_failures WHERE client = ? AND name = ? AND at > ?",
            (client, name, since))


def clear_failures(client: str, name: str) -> list[Statement]:
    return [("DELETE FROM console_signin_failures WHERE client = ? AND name = ?", (client, name))]
