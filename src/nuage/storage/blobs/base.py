"""What services may ask of a blob store: the :class:`BlobStore` protocol.

Services (core, s3, query, replication, ...) are typed against these protocols, never against a
concrete store, so a different backend only has to offer these members. They are exactly the ones
called from outside ``storage/``; what only the sweeper, the scrubber or the server's wiring needs
(walking files, temporary files, the I/O pool, direct I/O) stays on the concrete store.
A Protocol is a typing construct only: calls go straight to the concrete store's methods (the
runtime check it allows is for tests, never on a request's path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Protocol, runtime_checkable

from nuage.types import BlobId

__all__ = ["BlobSink", "BlobStore"]


@runtime_checkable
class BlobSink(Protocol):
    """One blob being written (:meth:`BlobStore.writer`): ``write`` appends, ``finish`` makes it durable
    and returns its id, ``abort`` drops it. Used by one task at a time."""

    @property
    def crc(self) -> int:
        """CRC32C of every byte written so far."""
        ...

    @property
    def chunk_crcs(self) -> bytes | None:
        """The CRC32C of each chunk, for a blob of several chunks written with ``chunk_crcs``."""
        ...

    async def write(self, data: bytes | bytearray | memoryview) -> None: ...

    async def finish(self) -> BlobId: ...

    def abort(self) -> None: ...


@runtime_checkable
class BlobStore(Protocol):
    """Blobs named by id, written once, read in ranges, deleted when no metadata references them."""

    @property
    def root(self) -> Path:
        """The folder holding the blobs; its parent is the server's data directory."""
        ...

    def path(self, blob_id: str) -> Path:
        """The file of a (non-inline) blob, for readers that open it themselves (S3 Select's DuckDB)."""
        ...

    def writer(self, *, chunk_crcs: bool = True) -> BlobSink:
        """A new blob; ``chunk_crcs`` keeps the CRC of each chunk (encrypted blobs have tags instead)."""
        ...

    def read(self, blob_id: str, offset: int = 0, length: int | None = None,
             crc: int | None = None) -> AsyncIterator[bytes]:
        """``length`` bytes from ``offset`` (to the end when None); with ``crc`` (a read of the whole
        blob) BlobCorrupt is raised before the last piece when the bytes do not match."""
        ...

    def read_checked(self, blob_id: str, size: int, offset: int, length: int,
                     crcs: bytes) -> AsyncIterator[bytes]:
        """A range of a file blob of ``size`` bytes, each chunk checked against ``crcs`` before any of
        its bytes is handed out."""
        ...

    def keep_evidence(self, blob_id: str) -> None:
        """Keep the bytes of a damaged blob aside (quarantine), even once the blob is deleted."""
        ...

    def delete(self, blob_ids: Iterable[str]) -> None:
        """Remove blobs no metadata references any more; held ones go when released."""
        ...

    def hold(self, blob_ids: Iterable[str]) -> bool:
        """Keep these blobs until :meth:`release` even if deleted meanwhile; False (nothing held) when
        one of them is gone already."""
        ...

    def release(self, blob_ids: Iterable[str]) -> None: ...
