"""Writing one blob: small ones stay in memory (inlined into the metadata row), larger ones go to a
temporary file that :meth:`BlobWriter.finish` makes durable and moves into place.

A durable store writes the file with direct I/O (``O_DIRECT``) where the file system allows it, as
MinIO writes its part files: the bytes are gathered in page-aligned staging buffers and each full
buffer is written to the device by a thread while the next one fills, so the event loop never waits
for the disk and the bytes never pass through the page cache. The page cache route costs a copy into
the cache plus the kernel's work of tracking and writing back dirty pages, all of it on the server's
core, and the fsync before the commit has to push every byte anyway, so large PUTs go faster this way
(``bench/README.md`` has the figures). The price: an object read right after
its upload comes from the disk, not from memory; large uploads no longer push hot objects out of the
cache. The tail shorter than a block goes through the page cache (no padding and no truncation:
cutting a file costs ext4 a journalled orphan record), and the fsync covers both. Where ``O_DIRECT``
is refused (tmpfs on older kernels, some network file systems) the store falls back, once and for
good, to buffered writes with early write-back of large blobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING

from nuage.storage.blobs.inline import inline_id
from nuage.storage.blobs.integrity import CRC_CHUNK, ChunkCrcs, crc32c
from nuage.storage.blobs.writelock import hold_for_writing
from nuage.types import BlobId

if TYPE_CHECKING:
    from nuage.storage.blobs.localfs import LocalBlobStore

__all__ = ["ALIGN", "EARLY_FLUSH", "O_DIRECT", "STAGE_SIZE", "BlobWriter", "StagePool"]

EARLY_FLUSH = 8 * 1024 * 1024   # buffered writes: start writing back every 8 MiB while the rest arrives
STAGE_SIZE = 1024 * 1024        # direct writes: bytes per write to the device
ALIGN = 4096                    # direct writes: offsets, lengths and buffers aligned to this
O_DIRECT: int = getattr(os, "O_DIRECT", 0)   # 0 where the platform has none (direct I/O is then off)
POOL_MAX = 16                   # staging buffers kept for reuse (touching fresh pages costs more than copying)

_Data = bytes | bytearray | memoryview


class StagePool:
    """Page-aligned staging buffers (anonymous mappings), reused: a fresh mapping costs a page fault
    per page on first touch, more than the copy into it."""

    def __init__(self, size: int = STAGE_SIZE, keep: int = POOL_MAX) -> None:
        self.size = size
        self.keep = keep
        self._free: list[mmap.mmap] = []

    def take(self) -> mmap.mmap:
        return self._free.pop() if self._free else mmap.mmap(-1, self.size)

    def give(self, buf: mmap.mmap) -> None:
        if len(self._free) < self.keep:
            self._free.append(buf)
            return
        # The thread that wrote from it may not have dropped its view yet: then the collector
        # unmaps it when the view goes.
        with contextlib.suppress(BufferError):
            buf.close()


def _drop_direct(fd: int) -> None:
    """Later writes on ``fd`` go through the page cache."""
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~O_DIRECT)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> bool:
    """Write all of ``data`` at ``offset``. A direct write the file system refuses (EINVAL: an
    alignment it wants bigger than ours) is done again buffered, and False says so."""
    direct = True
    while data:
        try:
            n = os.pwrite(fd, data, offset)
        except OSError as exc:
            if exc.errno != errno.EINVAL or not direct:
                raise
            _drop_direct(fd)
            direct = False
            continue
        data = data[n:]
        offset += n
    return direct


def _flush_and_close(fd: int) -> None:
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob being written. ``write`` appends (to memory while the blob is small enough to be
    inlined, then to a temporary file); ``finish`` makes it durable and returns its id; ``abort``
    drops it. One writer is used by one task at a time."""

    def __init__(self, store: LocalBlobStore, blob_id: BlobId, *, chunk_crcs: bool = True) -> None:
        self.store = store
        self.blob_id = blob_id
        self.size = 0
        self.crc = 0   # CRC32C of every byte written (what a read of the whole blob is checked against)
        self._chunks: ChunkCrcs | None = ChunkCrcs() if chunk_crcs else None
        self._buf: bytearray | None = bytearray() if store.inline_max > 0 else None
        self._fd: int | None = None
        self._closed = False
        # buffered writes
        self._unflushed = 0                                   # bytes written since the last early flush
        self._flushing: asyncio.Future[None] | None = None
        # direct writes
        self._direct = False
        self._stage: mmap.mmap | None = None                  # the buffer being filled
        self._filled = 0                                      # bytes in it
        self._offset = 0                                      # where it goes in the file
        self._pending: asyncio.Future[bool] | None = None     # the write of the previous buffer
        self._pending_stage: mmap.mmap | None = None
        self._syncing: asyncio.Future[None] | None = None     # finish's thread: fsync, close, rename
        if self._buf is None:
            self._open()

    @property
    def chunk_crcs(self) -> bytes | None:
        """The CRC of each CRC_CHUNK bytes written, for a blob larger than one chunk (None otherwise, or
        when the writer was asked not to keep them)."""
        if self._chunks is None or self.size <= CRC_CHUNK:
            return None
        return self._chunks.value()

    @property
    def _tmp_path(self) -> Path:
        return self.store.tmp / self.blob_id

    def _open(self) -> None:
        self.store.active.add(self.blob_id)
        self._direct = self.store.direct   # the store probed its folder for O_DIRECT when it opened
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | (O_DIRECT if self._direct else 0)
        self._fd = os.open(self._tmp_path, flags, 0o640)
        hold_for_writing(self._fd)   # no sweeper of any process removes it while it is open here

    async def write(self, data: _Data) -> None:
        self.crc = crc32c(data, self.crc)
        if self._chunks is not None:
            self._chunks.update(data)
        if self._buf is not None:
            if self.size + len(data) <= self.store.inline_max:
                self._buf += data
                self.size += len(data)
                return
            pending, self._buf = self._buf, None
            self._open()
            await self._write_file(pending)
        await self._write_file(data)
        self.size += len(data)

    async def _write_file(self, data: _Data) -> None:
        self.store.bytes_written += len(data)
        if self._direct:
            await self._stage_bytes(data)
        else:
            self._write_buffered(data)

    # -- direct writes -------------------------------------------------------------------------------
    async def _stage_bytes(self, data: _Data) -> None:
        view = memoryview(data).cast("B")
        while view:
            if self._stage is None:
                self._stage = self.store.stages.take()
                self._filled = 0
            n = min(len(view), len(self._stage) - self._filled)
            self._stage[self._filled:self._filled + n] = view[:n]
            self._filled += n
            view = view[n:]
            if self._filled == len(self._stage):
                await self._submit()

    async def _submit(self) -> None:
        """Hand the full staging buffer to a thread, after the write before it is done: one write in
        flight, one buffer filling (the last, partial buffer is written by finish's thread)."""
        await self._wait_pending()
        assert self._stage is not None and self._fd is not None
        stage, self._stage = self._stage, None
        self._pending_stage = stage
        self._pending = asyncio.get_running_loop().run_in_executor(
            self.store.io, _pwrite_all, self._fd, memoryview(stage), self._offset)
        self._offset += len(stage)

    async def _wait_pending(self) -> None:
        if self._pending is None:
            return
        # Shielded: a cancelled request (the client went away) does not cancel a write a thread may be
        # doing from the buffer, on the fd; abort() lets both go when that write is over.
        if not await asyncio.shield(self._pending):
            self.store.direct = False   # refused: later blobs are written buffered from the start
        self._pending = None
        if self._pending_stage is not None:
            self.store.stages.give(self._pending_stage)
            self._pending_stage = None

    async def _finish_direct(self) -> memoryview | None:
        """Wait for the write in flight; return what the last buffer holds (None if nothing)."""
        await self._wait_pending()
        if self._stage is None or not self._filled:
            return None
        return memoryview(self._stage)[:self._filled]

    # -- buffered writes -----------------------------------------------------------------------------
    def _write_buffered(self, data: _Data) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._unflushed += len(data)
        if self.store.fsync and self._unflushed >= EARLY_FLUSH and (
                self._flushing is None or self._flushing.done()):
            # Start writing back what a large blob has so far while the rest arrives, so that the
            # fsync before the commit has little left to do (on a duplicate fd: abort may close ours).
            self._unflushed = 0
            self._flushing = asyncio.get_running_loop().run_in_executor(
                self.store.io, _flush_and_close, os.dup(self._fd))

    # -- the end -------------------------------------------------------------------------------------
    def _sync_and_close(self, last: memoryview | None = None) -> None:
        """(In a thread when durable.) Write ``last`` (what direct writes have left), make the file
        durable, move it into place and make the move durable."""
        assert self._fd is not None
        if last is not None:   # direct writes' last buffer: whole blocks direct, the rest buffered
            whole = len(last) // ALIGN * ALIGN
            if whole:
                _pwrite_all(self._fd, last[:whole], self._offset)
            if whole < len(last):
                _drop_direct(self._fd)
                _pwrite_all(self._fd, last[whole:], self._offset + whole)
        # the age a sweeper's grace counts from is the move into place, not the last bytes (which a slow
        # upload may have sent long ago): the commit that references the blob comes right after
        os.utime(self._fd)
        if self.store.fsync:
            os.fsync(self._fd)
        os.close(self._fd)
        self._closed = True
        final = self.store.path(self.blob_id)
        try:
            os.rename(self._tmp_path, final)
        except FileNotFoundError:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self._tmp_path, final)
        if self.store.fsync:
            dfd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    async def finish(self) -> BlobId:
        """Make the bytes durable and return the id, ready to be referenced by a commit: an inline
        id for a small blob (durable with the commit itself); otherwise fsync the file (in a
        thread) and move it into place."""
        if self._buf is not None:
            self._closed = True
            self.blob_id = inline_id(bytes(self._buf))
            return self.blob_id
        try:
            last = await self._finish_direct() if self._direct else None
            if self._flushing is not None:
                with contextlib.suppress(OSError):   # the fsync below reports any write-back error
                    await self._flushing
            if self.store.fsync:
                self._syncing = asyncio.get_running_loop().run_in_executor(self.store.io, self._sync_and_close, last)
                # Shielded: cancelled (a shutdown's deadline), the thread still owns the fd and the last
                # buffer until it is done, and abort() waits for it before undoing anything.
                await asyncio.shield(self._syncing)
                self.store.fsyncs += 2   # the file and its folder
            else:
                self._sync_and_close(last)
        finally:
            self.store.active.discard(self.blob_id)
            if self._stage is not None and (self._syncing is None or self._syncing.done()):
                self.store.stages.give(self._stage)
                self._stage = None
        return self.blob_id

    def abort(self) -> None:
        if self._syncing is not None and not self._syncing.done():
            self._syncing.add_done_callback(self._abort_after_sync)
            return
        if self._flushing is not None:   # its outcome no longer matters; take it so nothing logs it
            self._flushing.add_done_callback(lambda f: f.cancelled() or f.exception())
        if self._stage is not None:
            self.store.stages.give(self._stage)
            self._stage = None
        if self._buf is not None:
            self._closed = True
            return
        if not self._closed and self._fd is not None:
            fd, self._closed = self._fd, True
            pending, stage = self._pending, self._pending_stage
            self._pending = self._pending_stage = None
            if pending is not None and not pending.done():
                # a thread may be about to write to fd: close it (and reuse the buffer) only after
                pending.add_done_callback(lambda f: self._after_abort(f, fd, stage))
            else:
                self._after_abort(pending, fd, stage)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp_path)
        self.store.active.discard(self.blob_id)
        self.store.delete([self.blob_id])

    def _after_abort(self, pending: asyncio.Future[bool] | None, fd: int, stage: mmap.mmap | None) -> None:
        if pending is not None and not pending.cancelled():
            pending.exception()   # retrieved: an aborted write's error is not worth a log line
        os.close(fd)
        if stage is not None:
            self.store.stages.give(stage)

    def _abort_after_sync(self, syncing: asyncio.Future[None]) -> None:
        if not syncing.cancelled():
            syncing.exception()   # retrieved: the blob is being dropped anyway
        self.abort()              # the file may have been moved into place: delete() removes it
