"""A full disk, as S3 clients are told of it: the file system refused an object's bytes (ENOSPC, or
EDQUOT for a quota) or SQLite refused a commit (SQLITE_FULL), wherever below the request it happened.

S3 itself never runs out of space and has no error for it. MinIO answers 507 Insufficient Storage (its
XMinioStorageFull); Nuage answers 507 too, with the code ``InsufficientStorage``: SDKs retry 500, 502,
503 and 504 (and throttling codes) on their own, which would only hammer a full disk, while a 507
reaches the caller at once with a message that says why. The reason is logged once a minute at most,
not once per refused request."""

from __future__ import annotations

import errno
import logging
import sqlite3

from nuage.logthrottle import LogThrottle

__all__ = ["full_disk", "note_full_disk"]

log = logging.getLogger("nuage.s3")

_FULL_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT))
_reports = LogThrottle(60.0)


def full_disk(exc: BaseException) -> str | None:
    """Why ``exc`` (or what caused it) says the disk is full, or None when it does not."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return f"{errno.errorcode.get(current.errno or 0, '?')}: {current.strerror}"
        if isinstance(current, sqlite3.Error) and getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return f"SQLite: {current}"
        current = current.__cause__ or current.__context__
    return None


def note_full_disk(reason: str, method: str, path: str) -> None:
    """Log a full disk: the first time, then once a minute at most with how many went unlogged."""
    left_out = _reports.admit("full")
    if left_out is None:
        return
    more = f" ({left_out} more refused since the last report)" if left_out else ""
    log.error("storage is full (%s): %s %s answered 507 InsufficientStorage%s; writes are refused until "
              "space is freed", reason, method, path, more)
