"""The lock a blob file's writer holds, which every sweeper respects: across the processes (gateways,
workers) that share a blob folder, a file being written is never removed as an orphan, however long its
writer waits for the next bytes of a slow upload.

A writer takes an exclusive ``flock`` on the file it creates and keeps it until it closes the file (the
kernel drops it when the process dies, so a crash leaves a file no one holds). A sweeper takes the same
lock, without waiting, before it removes an old file: a file someone holds stays. Where the file system
has no such locks, writers go without and sweepers fall back on the file's age alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


def hold_for_writing(fd: int) -> None:
    """Lock the file ``fd`` was just created as (the lock goes when the last descriptor of it closes)."""
    with contextlib.suppress(OSError):       # no locks on this file system: the age is all a sweeper sees
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def unlink_unless_written(path: Path) -> bool:
    """Remove ``path`` unless a writer holds it (holding its lock meanwhile, so none can take it); False
    when a writer holds it or it is gone already."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            pass                              # no locks on this file system
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True
    finally:
        os.close(fd)


def being_written(path: Path) -> bool:
    """Whether a writer holds ``path`` now."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False
