"""Small secret files of a data folder (keys, the root credentials), created once even when several processes
start on an empty folder at the same moment: each writes a temporary file of its own name, then links it into
place (``link`` fails when the name exists), so the first one wins and the others read the winner's file,
which is complete before it has a name."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["create_once", "replace", "sync_dir"]


def _write_temp(path: Path, content: bytes) -> Path:
    """``content`` in a new file (0600, fsynced) beside ``path``, under a name no other process uses."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def sync_dir(folder: Path) -> None:
    """fsync a folder (its entries: a file just linked or renamed into it); not every file system can."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def create_once(path: Path, content: bytes) -> tuple[bytes, bool]:
    """The file's content, and whether this call created it: an existing file is read, never replaced;
    otherwise ``content`` is written (0600, the folder made 0700 when missing). Of several processes that
    create it at once, exactly one wins; the others get its content."""
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes(), False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = _write_temp(path, content)
    try:
        os.link(tmp, path)
        created = True
    except FileExistsError:
        created = False
    finally:
        tmp.unlink(missing_ok=True)
    if created:
        sync_dir(path.parent)
        return content, True
    return path.read_bytes(), False


def replace(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (0600) whole or not at all, replacing what was there."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = _write_temp(path, content)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_dir(path.parent)
