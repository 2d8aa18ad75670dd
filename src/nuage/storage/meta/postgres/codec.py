"""Rows to records and back: the SQLite codec (same JSON in the same columns), with the bytes of an
object kept in its row in a BYTEA column of their own (``inline_data``; ``segments`` is then NULL)."""

from __future__ import annotations

from typing import Any

from nuage.storage.meta.records import ObjectRecord, PartRecord
from nuage.storage.meta.sqlite import codec

OBJECT_COLUMNS = codec.OBJECT_COLUMNS + ", inline_data"
INSERT_OBJECT = (
    "INSERT INTO objects (bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified, "
    "owner, meta, segments, tags, crc, inline_data) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
    "RETURNING seq"
)
PART_COLUMNS = "upload_id, part_number, size, etag, last_modified, blob, checksums, crc"
UPLOAD_COLUMNS = "upload_id, bucket, key, initiated, owner, meta"

dumps = codec.dumps
upload_meta = codec.upload_meta
upload_from_row = codec.upload_from_row


def segments_value(row: tuple[Any, ...]) -> str | bytes:
    """The SQLite-style ``segments`` value of a row read with OBJECT_COLUMNS (JSON text or inline bytes)."""
    return bytes(row[14]) if row[11] is None else str(row[11])


def object_from_row(row: tuple[Any, ...], *, light: bool = False) -> ObjectRecord:
    return codec.object_from_row((*row[:11], segments_value(row), row[12], row[13]), light=light)


def object_params(rec: ObjectRecord) -> tuple[Any, ...]:
    params = codec.object_params(rec)
    segments = params[10]
    inline = segments if isinstance(segments, bytes) else None
    return (*params[:10], None if inline is not None else segments, params[11], params[12], inline)


def blob_param(blob: str) -> bytes:
    """A part's blob id as stored (UTF-8 bytes: a small part's id carries its bytes, NUL included)."""
    return blob.encode("utf-8", "surrogatepass")


def blob_of(value: bytes | memoryview) -> str:
    return bytes(value).decode("utf-8", "surrogatepass")


def part_from_row(row: tuple[Any, ...]) -> PartRecord:
    return codec.part_from_row((*row[:5], blob_of(row[5]), *row[6:]))
