"""Whole-blob checksums: every blob's CRC32C is taken while it is written (:class:`BlobWriter.crc`) and
kept in the metadata that references it; a read that covers a whole blob, and every scrub, compares.

CRC32C (hardware-assisted through awscrt) costs well under a microsecond for a small object and a few
percent of a core at disk speed, so it is checked on every read that can be checked. A range read that
covers only part of a blob cannot be: its bytes are served unverified (a scrub finds the damage).
"""

from __future__ import annotations

from collections.abc import Iterable

from awscrt.checksums import crc32c

__all__ = ["BlobCorrupt", "crc32c", "crc_of"]


class BlobCorrupt(OSError):
    """A blob's bytes do not match the CRC taken when it was written (bit rot, a torn or truncated
    file, or a row changed behind the store's back)."""

    def __init__(self, blob_id: str, detail: str) -> None:
        super().__init__(f"blob {blob_id[:40]} is damaged: {detail}")
        self.blob_id = blob_id
        self.detail = detail


def crc_of(pieces: Iterable[bytes | bytearray | memoryview]) -> int:
    crc = 0
    for piece in pieces:
        crc = crc32c(piece, crc)
    return crc
