"""Whole-blob checksums: every blob's CRC32C is taken while it is written (:class:`BlobWriter.crc`) and
kept in the metadata that references it; a read that covers a whole blob, and every scrub, compares.

CRC32C (hardware-assisted through awscrt) costs well under a microsecond for a small object and a few
percent of a core at disk speed, so it is checked on every read that can be checked. A range read that
covers only part of a blob checks the CRCs of the 16 KiB chunks it covers (unencrypted files larger than
one chunk keep one per chunk; encrypted ones are authenticated chunk by chunk instead).
"""

from __future__ import annotations

from awscrt.checksums import crc32c

__all__ = ["CRC_CHUNK", "BlobCorrupt", "ChunkCrcs", "crc32c"]

CRC_CHUNK = 16 * 1024   # bytes per chunk CRC of a blob file (what a small range read reads at least)


class BlobCorrupt(OSError):
    """A blob's bytes do not match the CRC taken when it was written (bit rot, a torn or truncated
    file, or a row changed behind the store's back)."""

    def __init__(self, blob_id: str, detail: str) -> None:
        super().__init__(f"blob {blob_id[:40]} is damaged: {detail}")
        self.blob_id = blob_id
        self.detail = detail


class ChunkCrcs:
    """The CRC32C of each CRC_CHUNK-byte chunk of what is written (the last chunk may be shorter)."""

    def __init__(self) -> None:
        self._done = bytearray()
        self._crc = 0
        self._fill = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            n = min(len(view), CRC_CHUNK - self._fill)
            self._crc = crc32c(view[:n], self._crc)
            self._fill += n
            view = view[n:]
            if self._fill == CRC_CHUNK:
                self._done += self._crc.to_bytes(4, "big")
                self._crc = self._fill = 0

    def value(self) -> bytes:
        return bytes(self._done) + (self._crc.to_bytes(4, "big") if self._fill else b"")
