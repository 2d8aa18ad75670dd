"""A metadata database that does not answer, as S3 clients are told of it: PostgreSQL stopped, restarting,
unreachable or out of connections (psycopg's OperationalError family, its pool's timeout included), or
SQLite locked by another process for longer than the busy timeout, wherever below the request it happened.

That is no fault of the request and no bug of the server: the answer is 503 ServiceUnavailable (with the S3
XML body), which SDKs retry on their own with back-off, never 500. The gateway itself needs nothing: the
connection pools reconnect once the database is back. The reason is logged once a minute at most, not
once per refused request.

The PostgreSQL driver is recognized by its classes' names: a SQLite gateway never loads it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from nuage.logthrottle import LogThrottle
from nuage.s3 import errors as e

__all__ = ["database_unavailable"]

log = logging.getLogger("nuage.s3")

_DRIVER_ERRORS = frozenset(("OperationalError", "InterfaceError"))   # psycopg's, and their subclasses
_SQLITE_BUSY = frozenset((sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED))
_reports = LogThrottle(60.0)


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


def _reason(exc: BaseException) -> str | None:
    """Why ``exc`` (or what caused it) says the metadata database did not answer, or None."""
    for cause in _chain(exc):
        if _is_driver_error(cause):
            first = str(cause).strip().splitlines()
            return f"{type(cause).__name__}: {first[0] if first else 'no detail'}"
        if isinstance(cause, sqlite3.Error) and getattr(cause, "sqlite_errorcode", None) in _SQLITE_BUSY:
            return f"SQLite: {cause}"
    return None


def database_unavailable(exc: BaseException, method: str, path: str) -> e.S3Error | None:
    """The 503 to answer when ``exc`` says the metadata database did not answer (logged, throttled);
    None when it says nothing of the kind."""
    reason = _reason(exc)
    if reason is None:
        return None
    left_out = _reports.admit("database")
    if left_out is not None:
        more = f" ({left_out} more answered so since the last report)" if left_out else ""
        log.error("the metadata database did not answer (%s): %s %s answered 503 ServiceUnavailable%s",
                  reason, method, path, more)
    return e.ServiceUnavailable("The service is unavailable for a moment. Please try again.")
