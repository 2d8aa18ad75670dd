"""Blob store on a local (or shared) file system.

Blobs are files named by a random id under a two-level fan-out. A blob is written to a temporary
file (``tmp/``), hashed while streaming by the caller, fsynced, renamed into place (and the
directory fsynced), and only then referenced by a metadata commit. A crash before the commit
leaves an unreferenced file, which the sweeper deletes after a grace period; a referenced blob is
therefore always whole. Files being written are known to the store and never swept.
Object keys never become paths.

Small blobs (up to ``inline_max`` bytes) never become files: their bytes travel inside the blob id
(``raw:`` and the bytes as Latin-1 text, one character per byte; ``inline:<base64>`` in databases
written before), which the metadata commit stores in the object's row, so a small PUT costs one
shared group commit instead of two fsyncs. Nothing on disk belongs to them and nothing needs sweeping.

Reads hold the blobs they read (:meth:`LocalBlobStore.hold`): a blob deleted while held (its version
was overwritten or deleted during a slow download, say) stays on disk until the last reader lets go,
so a read that began on a version finishes on it. A hold is taken only on blobs that are still there;
``hold`` answering False means the version was replaced before the read began.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from nuage.ids import new_id
from nuage.types import BlobId

READ_CHUNK = 1024 * 1024
RAW_PREFIX = "raw:"             # the bytes as Latin-1 text: converting is a copy, not a decode
INLINE_PREFIX = "inline:"       # base64 (earlier versions): still read
DEFAULT_INLINE_MAX = 16 * 1024


def is_inline(blob_id: str) -> bool:
    return blob_id.startswith(RAW_PREFIX) or blob_id.startswith(INLINE_PREFIX)


def inline_id(data: bytes) -> BlobId:
    return BlobId(RAW_PREFIX + data.decode("latin-1"))


def inline_bytes(blob_id: str) -> bytes:
    if blob_id.startswith(RAW_PREFIX):
        return blob_id[len(RAW_PREFIX):].encode("latin-1")
    return base64.b64decode(blob_id[len(INLINE_PREFIX):])


class LocalBlobStore:
    def __init__(self, root: Path, *, fsync: bool = True, inline_max: int = DEFAULT_INLINE_MAX) -> None:
        self.inline_max = inline_max
        self.root = root / "blobs"
        self.tmp = root / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        self.active: set[str] = set()     # ids of blobs being written by this process
        self._held: dict[str, int] = {}   # blob id -> reads in progress
        self._doomed: set[str] = set()    # deleted while held: removed when the last hold goes
        self._hold_lock = threading.Lock()

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    def writer(self) -> BlobWriter:
        return BlobWriter(self, BlobId(new_id()))

    async def read(self, blob_id: str, offset: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """Stream ``length`` bytes of a blob from ``offset`` (to its end when ``length`` is None)."""
        if is_inline(blob_id):
            data = inline_bytes(blob_id)
            end = len(data) if length is None else offset + length
            if end > len(data):
                raise OSError(f"inline blob is shorter than its metadata says ({len(data)} < {end})")
            if end > offset:
                yield data[offset:end]
            return
        fd = os.open(self.path(blob_id), os.O_RDONLY)
        try:
            remaining = length if length is not None else os.fstat(fd).st_size - offset
            pos = offset
            while remaining > 0:
                data = os.pread(fd, min(READ_CHUNK, remaining), pos)
                if not data:
                    raise OSError(f"blob {blob_id} is shorter than its metadata says")
                pos += len(data)
                remaining -= len(data)
                yield data
        finally:
            os.close(fd)

    def read_all(self, blob_id: str) -> bytes:
        return inline_bytes(blob_id) if is_inline(blob_id) else self.path(blob_id).read_bytes()

    def delete(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs no metadata references any more; those being read go when the reads are done."""
        for blob_id in blob_ids:
            if is_inline(blob_id):
                continue
            with self._hold_lock:
                if blob_id in self._held:
                    self._doomed.add(blob_id)
                    continue
            self._unlink(blob_id)

    def _unlink(self, blob_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(blob_id))

    def hold(self, blob_ids: Iterable[str]) -> bool:
        """Keep these blobs on disk until :meth:`release`, even if deleted meanwhile. False (and nothing
        held) when one of them is gone already: whoever looked them up saw a version since replaced."""
        files = [b for b in blob_ids if not is_inline(b)]
        with self._hold_lock:   # a delete waits here, so what is checked stays true once held
            # a blob held already is on disk (deleting it only dooms it): only the others are looked at
            if not all(blob_id in self._held or self.path(blob_id).exists() for blob_id in files):
                return False
            for blob_id in files:
                self._held[blob_id] = self._held.get(blob_id, 0) + 1
        return True

    def release(self, blob_ids: Iterable[str]) -> None:
        gone = []
        with self._hold_lock:
            for blob_id in blob_ids:
                if is_inline(blob_id):
                    continue
                left = self._held.get(blob_id, 0) - 1
                if left > 0:
                    self._held[blob_id] = left
                    continue
                self._held.pop(blob_id, None)
                if blob_id in self._doomed:
                    self._doomed.discard(blob_id)
                    gone.append(blob_id)
        for blob_id in gone:
            self._unlink(blob_id)

    def held(self) -> int:
        """How many blobs reads hold now (for tests and metrics)."""
        with self._hold_lock:
            return len(self._held)

    def walk_tmp(self) -> Iterable[tuple[str, float]]:
        """Temporary files not being written by this process (left by a crash), with mtimes."""
        for entry in os.scandir(self.tmp):
            if entry.name in self.active:
                continue
            try:
                yield entry.name, entry.stat().st_mtime
            except FileNotFoundError:
                continue

    def delete_tmp(self, name: str) -> None:
        if name not in self.active:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp / name)

    def walk(self) -> Iterable[tuple[str, float]]:
        """Every blob id on disk with its modification time (for the sweeper)."""
        for first in os.scandir(self.root):
            if not first.is_dir():
                continue
            for second in os.scandir(first.path):
                if not second.is_dir():
                    continue
                for entry in os.scandir(second.path):
                    try:
                        yield entry.name, entry.stat().st_mtime
                    except FileNotFoundError:
                        continue


EARLY_FLUSH = 8 * 1024 * 1024


def _flush_and_close(fd: int) -> None:
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One blob being written. ``write`` appends (to memory while the blob is small enough to be
    inlined, then to a temporary file); ``finish`` makes it durable and returns its id."""

    def __init__(self, store: LocalBlobStore, blob_id: BlobId) -> None:
        self.store = store
        self.blob_id = blob_id
        self.size = 0
        self._buf: bytearray | None = bytearray() if store.inline_max > 0 else None
        self._fd: int | None = None
        self._closed = False
        self._unflushed = 0                                   # bytes written since the last early flush
        self._flushing: asyncio.Future[None] | None = None
        if self._buf is None:
            self._open()

    @property
    def _tmp_path(self) -> Path:
        return self.store.tmp / self.blob_id

    def _open(self) -> None:
        self.store.active.add(self.blob_id)
        self._fd = os.open(self._tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)

    def write(self, data: bytes | memoryview) -> None:
        if self._buf is not None:
            if self.size + len(data) <= self.store.inline_max:
                self._buf += data
                self.size += len(data)
                return
            pending, self._buf = self._buf, None
            self._open()
            self._write_fd(pending)
        self._write_fd(data)
        self.size += len(data)

    def _write_fd(self, data: bytes | bytearray | memoryview) -> None:
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
            self._flushing = asyncio.get_running_loop().run_in_executor(None, _flush_and_close, os.dup(self._fd))

    def _sync_and_close(self) -> None:
        assert self._fd is not None
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
            if self._flushing is not None:
                with contextlib.suppress(OSError):   # the fsync below reports any write-back error
                    await self._flushing
            if self.store.fsync:
                await asyncio.get_running_loop().run_in_executor(None, self._sync_and_close)
            else:
                self._sync_and_close()
        finally:
            self.store.active.discard(self.blob_id)
        return self.blob_id

    def abort(self) -> None:
        if self._flushing is not None:   # its outcome no longer matters; take it so nothing logs it
            self._flushing.add_done_callback(lambda f: f.cancelled() or f.exception())
        if self._buf is not None:
            self._closed = True
            return
        if not self._closed and self._fd is not None:
            os.close(self._fd)
            self._closed = True
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp_path)
        self.store.active.discard(self.blob_id)
        self.store.delete([self.blob_id])
