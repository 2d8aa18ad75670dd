"""A metadata database that does not answer: PostgreSQL stopped, restarting, unreachable or out of
connections (psycopg's OperationalError and InterfaceError families, its pool's timeout included), or SQLite
locked by another process for longer than the busy timeout, wherever below the request it happened.

That is no fault of the request and no bug of the server. Every protocol answers it as its own "503 Service
Unavailable" with a ``Retry-After`` header (:data:`RETRY_AFTER`), never 500; the gateway itself needs
nothing, since the connection pools reconnect once the database is back. :func:`database_unavailable`
tells such a failure from any other and logs it, once a minute at most per protocol (not once per refused
request); each protocol renders the answer (S3 XML in nuage.s3.unavailable, IAM XML, the JSON of the admin
and query APIs, the console's page).

The PostgreSQL driver is recognized by its classes' names: a SQLite gateway never loads it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from nuage.logthrottle import LogThrottle

__all__ = ["RETRY_AFTER", "database_unavailable", "unavailable_reason"]

#: seconds a client is asked to wait before trying again (the ``Retry-After`` header of every such 503)
RETRY_AFTER = 1
REPORT_EVERY = 60.0   # seconds between two log lines of one protocol about it

# psycopg's, and their subclasses: psycopg_pool's PoolTimeout, TooManyRequests and PoolClosed are OperationalErrors
_DRIVER_ERRORS = frozenset(("OperationalError", "InterfaceError"))
_SQLITE_BUSY = frozenset((sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED))
_reports = LogThrottle(REPORT_EVERY)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what caused it, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _is_driver_error(exc: BaseException) -> bool:
    return any(cls.__module__ == "psycopg" and cls.__name__ in _DRIVER_ERRORS for cls in type(exc).__mro__)


def unavailable_reason(exc: BaseException) -> str | None:
    """Why ``exc`` (or what caused it) says the metadata database did not answer, or None."""
    for cause in _chain(exc):
        if _is_driver_error(cause):
            first = str(cause).strip().splitlines()
            return f"{type(cause).__name__}: {first[0] if first else 'no detail'}"
        if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorcode", None) in _SQLITE_BUSY:
            return f"SQLite: {cause}"
    return None


def database_unavailable(exc: BaseException, log: logging.Logger, request: str, answer: str) -> bool:
    """Whether ``exc`` says the metadata database did not answer; if so, logged on ``log`` (``request``,
    such as ``"GET /path"``, was answered ``answer``), at most one line per :data:`REPORT_EVERY` seconds
    for each logger, saying how many more were answered so meanwhile."""
    reason = unavailable_reason(exc)
    if reason is None:
        return False
    left_out = _reports.admit(log.name)
    if left_out is not None:
        more = f" ({left_out} more answered so since the last report)" if left_out else ""
        log.error("the metadata database did not answer (%s): %s answered %s%s", reason, request, answer, more)
    return True
