"""Blob store on a local (or shared) file system.

Blobs are files named by a random id under a two-level fan-out. A blob is written to a temporary
file (``tmp/``), hashed while streaming by the caller, fsynced, renamed into place (and the
directory fsynced), and only then referenced by a metadata commit. A crash before the commit
leaves an unreferenced file, which the sweeper deletes after a grace period; a referenced blob is
therefore always whole. Files being written are never swept: those of this process are known to the
store, and every writer holds a lock on its file that the sweeper of any process sharing the folder
respects (:mod:`nuage.storage.blobs.writelock`); a file moved into place counts its age from the move.
Object keys never become paths.

Small blobs (up to ``inline_max`` bytes) never become files: their bytes travel inside the blob id
(:mod:`nuage.storage.blobs.inline`), which the metadata commit stores in the object's row, so a small
PUT costs one shared group commit instead of two fsyncs. Nothing on disk belongs to them and nothing
needs sweeping. Writing is :mod:`nuage.storage.blobs.writer`'s (direct I/O where it can).

Reads hold the blobs they read (:meth:`LocalBlobStore.hold`): a blob deleted while held (its version
was overwritten or deleted during a slow download, say) stays on disk until the last reader lets go,
so a read that began on a version finishes on it. A hold is taken only on blobs that are still there;
``hold`` answering False means the version was replaced before the read began.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nuage.ids import new_id
from nuage.storage.blobs.deferred import SHARED_DELETE_GRACE, DeferredUnlinks
from nuage.storage.blobs.inline import inline_bytes, is_inline
from nuage.storage.blobs.integrity import CRC_CHUNK, BlobCorrupt, crc32c
from nuage.storage.blobs.reader import read_file
from nuage.storage.blobs.writelock import being_written, unlink_unless_written
from nuage.storage.blobs.writer import O_DIRECT, BlobWriter, StagePool
from nuage.types import BlobId

IO_THREADS = 8                 # threads that wait for the disk for writers and cold reads (LocalBlobStore.io)
DEFAULT_INLINE_MAX = 16 * 1024


def _takes_direct_io(folder: Path) -> bool:
    """Whether files in ``folder`` can be opened for direct I/O (EINVAL where the file system refuses)."""
    probe = folder / f".direct-probe-{new_id()}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_DIRECT, 0o600))
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(probe)
    return True


class LocalBlobStore:
    def __init__(self, root: Path, *, fsync: bool = True, inline_max: int = DEFAULT_INLINE_MAX,
                 direct: bool = True, shared: bool = False, delete_grace: float = SHARED_DELETE_GRACE) -> None:
        """``shared``: other processes (workers, gateways) read this folder too. Their reads are not held
        here, so a blob that no metadata references any more is removed ``delete_grace`` seconds later,
        not at once: a read that looked its version up just before stays able to open the file."""
        self.inline_max = inline_max
        self.root = root / "blobs"
        self.tmp = root / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync
        # O_DIRECT writes (see .writer) where this file system takes them; off for good if a write is refused
        self.direct = direct and fsync and O_DIRECT != 0 and _takes_direct_io(self.tmp)
        self.stages = StagePool()
        # Disk waits (direct writes, fsyncs, early write-back, reads of what is not in memory) run here,
        # not in the event loop's shared pool, where SQL jobs and S3 Select scans can keep every thread
        # busy for seconds.
        self.io = ThreadPoolExecutor(IO_THREADS, thread_name_prefix="nuage-blob-io")
        self.active: set[str] = set()     # ids of blobs being written by this process
        self._held: dict[str, int] = {}   # blob id -> reads in progress
        self._doomed: set[str] = set()    # deleted while held: removed when the last hold goes
        self._hold_lock = threading.Lock()
        # (no grace: removed at once, as when no other process reads here)
        self._later = DeferredUnlinks(self.path, delete_grace) if shared and delete_grace > 0 else None
        # for the metrics (counted on the event loop): bytes of blob files read and written, fsyncs
        self.bytes_read = 0
        self.bytes_written = 0
        self.fsyncs = 0

    def close(self) -> None:
        """Wait for the disk work under way (uploads in flight have been answered or refused). Blobs still
        waiting out their grace stay on disk: the sweeper removes them as orphans."""
        self.io.shutdown(wait=True)
        if self._later is not None:
            self._later.stop()

    def path(self, blob_id: str) -> Path:
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    def writer(self, *, chunk_crcs: bool = True) -> BlobWriter:
        """A new blob; ``chunk_crcs`` keeps the CRC of each chunk (encrypted blobs have tags instead)."""
        return BlobWriter(self, BlobId(new_id()), chunk_crcs=chunk_crcs)

    async def read(self, blob_id: str, offset: int = 0, length: int | None = None,
                   crc: int | None = None) -> AsyncIterator[bytes]:
        """Stream ``length`` bytes of a blob from ``offset`` (to its end when ``length`` is None). With
        ``crc`` (given only for a read of the whole blob) the bytes are checked: BlobCorrupt is raised
        before the last piece when they do not match."""
        if is_inline(blob_id):
            data = inline_bytes(blob_id)
            end = len(data) if length is None else offset + length
            if end > len(data):
                if crc is not None:
                    raise BlobCorrupt("row", f"{len(data)} bytes where {end} were written")
                raise OSError(f"inline blob is shorter than its metadata says ({len(data)} < {end})")
            if crc is not None and crc32c(data) != crc:
                raise BlobCorrupt("row", "CRC32C of the bytes kept in the row does not match")
            if end > offset:
                yield data[offset:end]
            return
        async for data in read_file(self.path(blob_id), offset, length, self.io, crc):
            self.bytes_read += len(data)
            yield data

    async def read_checked(self, blob_id: str, size: int, offset: int, length: int,
                           crcs: bytes) -> AsyncIterator[bytes]:
        """``length`` bytes of a file blob of ``size`` bytes from ``offset``, read in whole CRC_CHUNK
        chunks each checked against ``crcs`` (those of the chunks the range covers, in order) before any
        of its bytes is handed out."""
        first = offset // CRC_CHUNK
        start, end = first * CRC_CHUNK, min(size, -(-(offset + length) // CRC_CHUNK) * CRC_CHUNK)
        if len(crcs) != 4 * -(-(end - start) // CRC_CHUNK):
            raise BlobCorrupt(blob_id, "its chunk checksums do not cover the range")
        buf = bytearray()
        index, skip, left = 0, offset - start, length
        async for piece in read_file(self.path(blob_id), start, end - start, self.io):
            self.bytes_read += len(piece)
            buf += piece
            out = []
            pos = 0
            with memoryview(buf) as view:   # released before buf is shortened
                while left > 0:
                    n = min(CRC_CHUNK, end - start - index * CRC_CHUNK)
                    if len(buf) - pos < n:
                        break
                    if crc32c(view[pos:pos + n]) != int.from_bytes(crcs[4 * index:4 * index + 4], "big"):
                        raise BlobCorrupt(blob_id, f"chunk {first + index} does not match its CRC32C")
                    take = min(n - skip, left)
                    out.append(bytes(view[pos + skip:pos + skip + take]))
                    pos += n
                    index += 1
                    skip = 0
                    left -= take
            del buf[:pos]
            if out:
                yield out[0] if len(out) == 1 else b"".join(out)

    def read_all(self, blob_id: str) -> bytes:
        return inline_bytes(blob_id) if is_inline(blob_id) else self.path(blob_id).read_bytes()

    @property
    def quarantine_dir(self) -> Path:
        return self.root.parent / "quarantine"

    def keep_evidence(self, blob_id: str) -> None:
        """Keep the bytes of a damaged blob file in ``quarantine/`` (a hard link: no copy, and it stays
        when the blob itself is deleted with its object). The sweeper never looks there."""
        if is_inline(blob_id):
            return
        self.quarantine_dir.mkdir(exist_ok=True)
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.link(self.path(blob_id), self.quarantine_dir / blob_id)

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
        if self._later is not None:
            self._later.add(blob_id)
            return
        self.unlink_now(blob_id)

    def unlink_now(self, blob_id: str) -> None:
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

    def delete_tmp(self, name: str) -> bool:
        """Remove a temporary file left behind; False (and it stays) when a writer, of this process or
        another, still has it."""
        return name not in self.active and unlink_unless_written(self.tmp / name)

    def delete_orphan(self, blob_id: str) -> bool:
        """Remove a blob file that no metadata references, unless a writer still has it open (it is being
        moved into place); False then."""
        if blob_id in self.active or being_written(self.path(blob_id)):
            return False
        self.delete([blob_id])
        return True

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
