"""A stored object as one local file DuckDB can read: the blob file itself when the object is one
plain blob on disk, else a private copy of its plaintext in the scratch folder (inline objects,
multipart objects of several blobs, server-side encrypted objects), removed when done."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nuage.core.objects import ObjectService, check_intact
from nuage.core.sse import is_encrypted
from nuage.storage.blobs.inline import is_inline
from nuage.storage.meta.records import ObjectRecord


@dataclass
class LocalObject:
    path: Path
    size: int
    temporary: bool

    def release(self) -> None:
        if self.temporary:
            self.path.unlink(missing_ok=True)


def direct_path(objects: ObjectService, rec: ObjectRecord) -> Path | None:
    """The blob file holding the object's bytes as they are, when there is exactly one."""
    if len(rec.segments) != 1 or is_encrypted(rec.extra) or is_inline(rec.segments[0].blob):
        return None
    return objects.blobs.path(rec.segments[0].blob)


async def verified_direct_path(objects: ObjectService, rec: ObjectRecord) -> Path | None:
    """:func:`direct_path`, once the file's bytes have been checked against the CRC taken when it was
    written: DuckDB reads the file itself, so damage would otherwise reach a query unseen. The check reads
    the file once (which leaves it in the page cache for DuckDB); a damaged or quarantined version raises
    ObjectCorrupt (and is quarantined) as a GET would."""
    direct = direct_path(objects, rec)
    if direct is not None and rec.segments[0].crc is None:   # written before blobs had a CRC
        check_intact(rec)
    elif direct is not None:
        async for _ in objects.stream(rec):
            pass
    return direct


def scratch_dir(data_dir: Path) -> Path:
    path = data_dir / "scratch"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


async def local_object(objects: ObjectService, rec: ObjectRecord, data_key: bytes | None,
                       scratch: Path, suffix: str = "") -> LocalObject:
    direct = await verified_direct_path(objects, rec) if data_key is None else None
    if direct is not None:
        return LocalObject(direct, rec.size, False)
    fd, name = tempfile.mkstemp(dir=scratch, prefix="obj-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            async for chunk in objects.stream(rec, None, data_key):
                await asyncio.to_thread(f.write, chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return LocalObject(path, rec.size, True)
