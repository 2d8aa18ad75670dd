"""`nuage backup`: a consistent copy of a running data folder, taken without stopping the server.

The order is what makes it consistent. Blob files never change once in place, and a blob is released
(its file removed) only after the metadata commit that stopped referencing it. So:

1. **Pin** every blob file on disk: a hard link of each into a staging folder of the data folder
   (``.backup-*``; no bytes copied, and the sweeper never looks there). A pinned file stays readable
   however the server deletes its name meanwhile.
2. **Snapshot** the metadata with SQLite's online backup API from a read connection: in WAL mode it
   holds a read transaction, so writers carry on, and the copy is the database as of one commit.
3. **Pin the rest**: blobs the snapshot references that were written after step 1 began are linked now.
   One can be gone already only if its object was written during steps 1-2 *and* replaced or deleted in
   the moment since the snapshot; then steps 1-3 run again (a new snapshot, which no longer references
   it), a few times at most, after which it is reported as missing.
4. **Copy** the pinned blobs that the snapshot references into the backup (nothing else: orphans and
   blobs of later writes stay behind), then the key folders and the root credentials.

Taking the blobs first and the metadata after would be wrong the other way round: a snapshot would
reference blobs written after the copy. Small objects kept in the metadata rows need no file.

On PostgreSQL the metadata is the database's to back up (``pg_dump``, taken *before* this command so the
blobs copied after it cover it): the backup then holds every blob file on disk, the keys and credentials.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
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
    referenced_blobs,
    schema_version,
    walk_blobs,
)

ROUNDS = 5   # snapshots tried before a blob that vanished in the moment after one is reported missing
STAGING_PREFIX = ".backup-"

OnBlob = Callable[[int], None]


def take_backup(data_dir: Path, dest: Path, *, postgres: bool = False, with_blobs: bool = True,
                on_blob: OnBlob | None = None) -> Manifest:
    """Back ``data_dir`` up into ``dest`` (a new or empty folder). ``postgres``: the metadata is in
    PostgreSQL and is left to pg_dump. :class:`BackupError` for what the operator must fix."""
    meta_path = data_dir / META_FILE
    if not data_dir.is_dir() or not (postgres or meta_path.is_file()):
        raise BackupError(f"no Nuage data in {data_dir}")
    if not is_empty_folder(dest):
        raise BackupError(f"{dest} is not an empty folder: back up into a new one")
    with contextlib.suppress(ValueError):
        dest.resolve().relative_to(data_dir.resolve())
        raise BackupError(f"{dest} is inside the data folder {data_dir}: back up somewhere else")
    dest.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(metadata="postgresql" if postgres else "sqlite", created=time.time())
    staging = data_dir / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        pinned: set[str] = set()
        wanted: set[str] = set()
        for _ in range(ROUNDS):
            if with_blobs:
                pinned |= _pin_all(data_dir / BLOBS, staging, pinned)
            if postgres:
                wanted = set(pinned)
                break
            manifest.schema_version, wanted = _snapshot(meta_path, dest / META_FILE)
            if not with_blobs:
                break
            for blob_id in wanted - pinned:
                if _pin(data_dir / BLOBS, staging, blob_id):
                    pinned.add(blob_id)
            if wanted <= pinned:
                break
        if with_blobs:
            manifest.missing = sorted(wanted - pinned)
            for blob_id in sorted(wanted & pinned):
                size = copy_file(blob_path(staging, blob_id), blob_path(dest / BLOBS, blob_id))
                manifest.blobs += 1
                manifest.bytes += size
                if on_blob is not None:
                    on_blob(size)
            _sync_tree(dest / BLOBS)
        copy_keys(data_dir, dest)
        manifest.save(dest)
        sync_dir(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _pin(blobs: Path, staging: Path, blob_id: str) -> bool:
    """A hard link to one blob file in the staging folder (a copy where the file system has no hard
    links); False when the file is gone."""
    src, dst = blob_path(blobs, blob_id), blob_path(staging, blob_id)
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileNotFoundError:
        return False
    except FileExistsError:
        return True
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
            raise
        try:
            shutil.copyfile(src, dst)
        except FileNotFoundError:
            return False
    return True


def _pin_all(blobs: Path, staging: Path, already: set[str]) -> set[str]:
    return {blob_id for blob_id in walk_blobs(blobs) if blob_id not in already and _pin(blobs, staging, blob_id)}


def _snapshot(meta_path: Path, target: Path) -> tuple[int, set[str]]:
    """Copy the SQLite database into ``target`` (one self-contained file, no WAL) as of one commit, while
    the server keeps writing; returns its schema version and the blob files it references."""
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(meta_path, timeout=30.0)   # (only read: a read-only open of a WAL file can fail)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            src.backup(dst)   # all pages in one step: one read transaction, so one consistent state
            dst.execute("PRAGMA journal_mode=DELETE")
            version, wanted = schema_version(dst), referenced_blobs(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot copy {meta_path}: {exc}") from None
    finally:
        src.close()
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return version, wanted


def _sync_tree(root: Path) -> None:
    if not root.is_dir():
        return
    for folder, _, _ in os.walk(root):
        sync_dir(Path(folder))
