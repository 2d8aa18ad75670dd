"""`nuage restore`: a backup folder (see :mod:`nuage.storage.backupfiles`) made a data folder again.

Only into a new or empty folder: a restore never mixes with, or overwrites, data. Before anything is
copied, the SQLite metadata passes ``PRAGMA integrity_check`` and its schema version is one this version
of Nuage knows (an older one is fine: the server applies the missing migrations when it starts). The
folder is assembled beside the target and renamed into place (or inside an existing empty folder, a mount
point say, and moved up), so a failed restore leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nuage.secretfiles import sync_dir
from nuage.storage.backupfiles import (
    BLOBS,
    META_FILE,
    BackupError,
    Manifest,
    blob_path,
    copy_file,
    copy_keys,
    is_empty_folder,
    latest_schema,
    referenced_blobs,
    schema_version,
    walk_blobs,
)


@dataclass
class Restored:
    manifest: Manifest
    schema_version: int | None = None
    blobs: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)   # referenced by the metadata, absent from the backup


def restore(src: Path, data_dir: Path, *, on_blob: Callable[[int], None] | None = None) -> Restored:
    """Restore the backup in ``src`` into ``data_dir`` (new or empty). :class:`BackupError` when the
    backup is not one, is damaged, or is newer than this version of Nuage, or the folder holds data."""
    manifest = Manifest.load(src)
    if not is_empty_folder(data_dir):
        raise BackupError(f"{data_dir} is not an empty folder: restore into a new one (nothing was changed)")
    done = Restored(manifest)
    wanted: set[str] | None = None
    if manifest.metadata == "sqlite":
        done.schema_version, wanted = check_database(src / META_FILE)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    exists = data_dir.exists()   # (empty): assembled inside it, on its own file system (a mount point, say)
    work = (data_dir / f".restoring-{secrets.token_hex(4)}" if exists
            else data_dir.parent / f".{data_dir.name}.restoring-{secrets.token_hex(4)}")
    work.mkdir()
    try:
        if manifest.metadata == "sqlite":
            copy_file(src / META_FILE, work / META_FILE)
        present = walk_blobs(src / BLOBS)
        for blob_id in sorted(present):
            size = copy_file(blob_path(src / BLOBS, blob_id), blob_path(work / BLOBS, blob_id))
            done.blobs += 1
            done.bytes += size
            if on_blob is not None:
                on_blob(size)
        for folder, _, _ in os.walk(work / BLOBS):
            sync_dir(Path(folder))
        if wanted is not None:
            done.missing = sorted(wanted - set(present))
        copy_keys(src, work)
        if exists:
            for entry in sorted(work.iterdir()):
                os.replace(entry, data_dir / entry.name)
            work.rmdir()
            sync_dir(data_dir)
        else:
            os.replace(work, data_dir)
        sync_dir(data_dir.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return done


def check_database(path: Path) -> tuple[int, set[str]]:
    """The schema version of a backed-up SQLite database and the blob files it references, once it passes
    the integrity check; :class:`BackupError` otherwise."""
    if not path.is_file():
        raise BackupError(f"{path} is missing from the backup")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened: {exc}") from None
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            raise BackupError(f"{path} fails the SQLite integrity check: {rows[0]}")
        version = schema_version(conn)
        wanted = referenced_blobs(conn)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} fails the SQLite integrity check: {exc}") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.close()
    known = latest_schema()
    if version == 0:
        raise BackupError(f"{path} holds no Nuage schema")
    if version > known:
        raise BackupError(f"{path} has schema version {version}, newer than this Nuage's {known}: restore it with "
                          f"the version of Nuage that took it (or a later one)")
    return version, wanted
