"""What a backup folder holds, and the file plumbing that `nuage backup` and `nuage restore` share.

A backup folder::

    nuage-backup.json       the manifest: format, metadata kind (sqlite or postgresql), schema version, counts
    meta.sqlite3            the SQLite metadata, one self-contained file (absent for PostgreSQL: pg_dump's)
    blobs/ab/cd/ID          the blob files the metadata references, in the data folder's own layout
    secrets/ keys/          the IAM sealing key and the SSE master key (and whatever else those folders hold)
    root-credentials.json   the operator's root key
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from nuage.secretfiles import sync_dir

MANIFEST = "nuage-backup.json"
FORMAT = 1
META_FILE = "meta.sqlite3"
BLOBS = "blobs"
#: small files and folders of the data folder that a restored server cannot do without
KEY_FOLDERS = ("secrets", "keys")
KEY_FILES = ("root-credentials.json",)


class BackupError(Exception):
    """A backup or restore refused or failed: the message says why, in one line, for the operator."""


@dataclass
class Manifest:
    format: int = FORMAT
    metadata: str = "sqlite"             # "sqlite" (meta.sqlite3 here) or "postgresql" (pg_dump's job)
    schema_version: int | None = None
    blobs: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)   # referenced blobs that were gone before they were copied
    created: float = 0.0

    def save(self, folder: Path) -> None:
        write_file(folder / MANIFEST, json.dumps(asdict(self), indent=2).encode())

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise BackupError(f"{folder} is not a Nuage backup (no {MANIFEST})") from None
        except (OSError, ValueError) as exc:
            raise BackupError(f"{path} is unreadable ({exc})") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("metadata") not in ("sqlite",
                                                                                                    "postgresql"):
            raise BackupError(f"{path} is not a backup manifest this version of Nuage reads (format {FORMAT})")
        known = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        return cls(**known)


def blob_path(root: Path, blob_id: str) -> Path:
    """Where a blob file lives under a ``blobs`` folder (the blob store's two-level fan-out)."""
    return root / blob_id[:2] / blob_id[2:4] / blob_id


def walk_blobs(root: Path) -> list[str]:
    """The ids of the blob files under ``root`` (files that vanish while walked are skipped)."""
    found: list[str] = []
    with contextlib.suppress(FileNotFoundError):
        for first in os.scandir(root):
            if not first.is_dir():
                continue
            with contextlib.suppress(FileNotFoundError):
                for second in os.scandir(first.path):
                    if second.is_dir():
                        with contextlib.suppress(FileNotFoundError):
                            found.extend(entry.name for entry in os.scandir(second.path))
    return found


def latest_schema() -> int:
    """The highest migration number this version of Nuage knows."""
    folder = resources.files("nuage.storage.meta").joinpath("migrations")
    return max(int(f.name.split("_", 1)[0]) for f in folder.iterdir() if f.name.endswith(".sql"))


def schema_version(conn: sqlite3.Connection) -> int:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_version'").fetchone() is None:
        return 0
    return int(conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0])


def referenced_blobs(conn: sqlite3.Connection) -> set[str]:
    """The blob files a SQLite metadata database references (its ``blobs`` table: object versions and the
    parts of uploads in progress; bytes kept in the rows need no file)."""
    return {str(r[0]) for r in conn.execute("SELECT id FROM blobs")}


def is_empty_folder(path: Path) -> bool:
    """``path`` does not exist, or is a folder with nothing in it."""
    if not path.exists():
        return True
    return path.is_dir() and next(path.iterdir(), None) is None


def sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file(path: Path, content: bytes) -> None:
    with open(path, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def copy_file(src: Path, dst: Path) -> int:
    """Copy one file (its bytes and mode) and fsync it; returns its size."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    shutil.copymode(src, dst)
    sync_file(dst)
    return dst.stat().st_size


def copy_keys(src: Path, dst: Path) -> int:
    """The key folders and files of ``src`` (those present) into ``dst``, modes kept; returns how many
    files. Temporary files of a key being created (``.NAME.PID.X.tmp``) are left out."""
    count = 0
    for name in KEY_FOLDERS:
        folder = src / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not (path.name.startswith(".") and path.name.endswith(".tmp")):
                copy_file(path, dst / path.relative_to(src))
                count += 1
        target = dst / name
        if target.exists():
            shutil.copymode(folder, target)
            sync_dir(target)
    for name in KEY_FILES:
        if (src / name).is_file():
            copy_file(src / name, dst / name)
            count += 1
    sync_dir(dst)
    return count
