"""Reading a blob file as a stream of pieces, without stopping the event loop for the disk.

A piece already in the page cache is read at once (``pread``). A piece that is not (a probe read with
``RWF_NOWAIT`` says so) is read by one of the blob store's I/O threads, on a duplicate of the file
descriptor, so the loop serves other requests meanwhile and the stream may be closed at any time.
Files written with direct I/O are not in the page cache after their upload, so this is the common case
for an object read soon after it was written. Large reads also ask the kernel to read ahead of them
(``POSIX_FADV_WILLNEED``), several requests in flight: the disk delivers much more that way than one
read at a time does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from pathlib import Path

from nuage.storage.blobs.integrity import BlobCorrupt, crc32c

__all__ = ["READ_AHEAD", "READ_AHEAD_STEP", "READ_CHUNK", "in_memory", "read_ahead", "read_file"]

READ_CHUNK = 1024 * 1024
READ_AHEAD = 16 * 1024 * 1024       # how far beyond the piece being read the kernel is asked to read
READ_AHEAD_STEP = 4 * 1024 * 1024   # ... asked for this much at a time (larger requests to the disk)

_PROBE = bytearray(1)
_CAN_READ_AHEAD = hasattr(os, "RWF_NOWAIT") and hasattr(os, "posix_fadvise")   # Linux


def in_memory(fd: int, pos: int) -> bool | None:
    """Whether the byte at ``pos`` is in the page cache; None where the file system cannot tell
    (tmpfs answers RWF_NOWAIT reads with EOPNOTSUPP; its files are in memory anyway)."""
    if not _CAN_READ_AHEAD:
        return None
    try:
        os.preadv(fd, [_PROBE], pos, os.RWF_NOWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def read_ahead(fd: int, pos: int, end: int, ahead: int) -> int:
    """Ask the kernel to read what follows the piece at ``pos`` (up to READ_AHEAD beyond it, not past
    ``end``) while that piece is sent. ``ahead`` is where what was asked so far ends; the new end is
    returned. Asking is not free even for cached bytes, so a range whose last byte is cached is not asked."""
    want = min(pos + READ_CHUNK + READ_AHEAD, end)
    if want <= ahead or not _CAN_READ_AHEAD or (want - ahead < READ_AHEAD_STEP and want < end):
        return ahead
    start = max(ahead, pos)
    if in_memory(fd, want - 1) is not True:
        os.posix_fadvise(fd, start, want - start, os.POSIX_FADV_WILLNEED)
    return want


def _pread_and_close(fd: int, size: int, pos: int) -> bytes:
    try:
        return os.pread(fd, size, pos)
    finally:
        os.close(fd)


async def read_file(path: Path, offset: int, length: int | None, io: Executor,
                    crc: int | None = None) -> AsyncIterator[bytes]:
    """Stream ``length`` bytes of the file from ``offset`` (to its end when ``length`` is None).

    With ``crc`` (the caller reads the whole blob), the bytes are checked against it before the last
    piece is handed out: a damaged blob raises BlobCorrupt instead, so whoever sends the pieces on
    never completes a response with wrong bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        remaining = length if length is not None else os.fstat(fd).st_size - offset
        pos = offset
        ahead = offset   # where the read-ahead asked for so far ends
        running = 0      # CRC32C of what was read (when checked)
        while remaining > 0:
            size = min(READ_CHUNK, remaining)
            if remaining > READ_CHUNK:
                ahead = read_ahead(fd, pos, pos + remaining, ahead)
            if in_memory(fd, pos + size - 1) is False:
                data = await asyncio.get_running_loop().run_in_executor(io, _pread_and_close, os.dup(fd), size, pos)
            else:
                data = os.pread(fd, size, pos)
            if not data:
                if crc is not None:
                    raise BlobCorrupt(path.name, "the file is shorter than its metadata says")
                raise OSError(f"{path.name} is shorter than its metadata says")
            pos += len(data)
            remaining -= len(data)
            if crc is not None:
                running = crc32c(data, running)
                if not remaining and running != crc:
                    raise BlobCorrupt(path.name, f"CRC32C {running:08x}, {crc:08x} when written")
            yield data
    finally:
        os.close(fd)
