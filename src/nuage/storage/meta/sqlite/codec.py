"""Rows to records and back."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from nuage.storage.blobs.inline import inline_bytes, inline_id, is_inline
from nuage.storage.meta.records import ObjectRecord, PartRecord, Segment, UploadRecord

OBJECT_COLUMNS = (
    "seq, bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified, owner, meta, "
    "segments, tags, crc"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def object_meta(rec: ObjectRecord) -> str:
    meta: dict[str, Any] = {}
    if rec.content_type is not None:
        meta["ct"] = rec.content_type
    if rec.headers:
        meta["h"] = rec.headers
    if rec.user_meta:
        meta["u"] = rec.user_meta
    if rec.checksums:
        meta["c"] = rec.checksums
    if rec.checksum_type:
        meta["ctype"] = rec.checksum_type
    if rec.part_sizes is not None:
        meta["p"] = rec.part_sizes
    if rec.part_checksums is not None:
        meta["pc"] = rec.part_checksums
    if rec.storage_class != "STANDARD":
        meta["sc"] = rec.storage_class
    if rec.extra:
        meta["x"] = rec.extra
    return _dumps(meta)


def _segments_value(segments: list[Segment]) -> str | bytes:
    """The ``segments`` column: JSON ``[[blob id, size, crc], ...]`` (``[blob id, size]`` when the blob
    has no CRC), or for an object whose bytes are all in one inline blob, those bytes themselves (a BLOB
    value: no encoding either way; their CRC goes in the ``crc`` column)."""
    if len(segments) == 1 and is_inline(segments[0].blob):
        return inline_bytes(segments[0].blob)
    return _dumps([[s.blob, s.size] if s.crc is None else [s.blob, s.size, s.crc] for s in segments])


def _row_crc(segments: list[Segment]) -> int | None:
    """The ``crc`` column: the CRC of the bytes kept in the row (None when the row keeps blob ids)."""
    if len(segments) == 1 and is_inline(segments[0].blob):
        return segments[0].crc
    return None


def object_params(rec: ObjectRecord) -> tuple[Any, ...]:
    return (
        rec.bucket, rec.key, rec.version_id, int(rec.is_latest), int(rec.delete_marker), rec.size,
        rec.etag, rec.last_modified, rec.owner, object_meta(rec),
        _segments_value(rec.segments), _dumps(rec.tags) if rec.tags else "{}", _row_crc(rec.segments),
    )


def _loads(text: str) -> Any:
    return {} if text == "{}" else json.loads(text)


def segments_of(value: str | bytes, crc: int | None) -> list[Segment]:
    """The segments of an object from its ``segments`` and ``crc`` columns."""
    if isinstance(value, bytes):
        return [Segment(inline_id(value), len(value), crc)]
    return [Segment(*s) for s in json.loads(value)]


def object_from_row(row: sqlite3.Row | tuple[Any, ...], *, light: bool = False) -> ObjectRecord:
    """A record from a row; ``light`` skips blob segments and tags (listings need neither)."""
    meta = _loads(row[10])
    return ObjectRecord(
        seq=row[0], bucket=row[1], key=row[2], version_id=row[3], is_latest=bool(row[4]),
        delete_marker=bool(row[5]), size=row[6], etag=row[7], last_modified=row[8], owner=row[9],
        content_type=meta.get("ct"), headers=meta.get("h", {}), user_meta=meta.get("u", {}),
        checksums=meta.get("c", {}), checksum_type=meta.get("ctype"), part_sizes=meta.get("p"),
        part_checksums=meta.get("pc"), storage_class=meta.get("sc", "STANDARD"), extra=meta.get("x", {}),
        segments=[] if light else segments_of(row[11], row[13]),
        tags={} if light else _loads(row[12]),
    )


def upload_meta(rec: UploadRecord) -> str:
    return _dumps({
        "ct": rec.content_type, "h": rec.headers, "u": rec.user_meta, "t": rec.tags,
        "ca": rec.checksum_algorithm, "ctype": rec.checksum_type, "sc": rec.storage_class, "x": rec.extra,
    })


def upload_from_row(row: tuple[Any, ...]) -> UploadRecord:
    meta = json.loads(row[5])
    return UploadRecord(
        upload_id=row[0], bucket=row[1], key=row[2], initiated=row[3], owner=row[4],
        content_type=meta.get("ct"), headers=meta.get("h", {}), user_meta=meta.get("u", {}),
        tags=meta.get("t", {}), checksum_algorithm=meta.get("ca"), checksum_type=meta.get("ctype"),
        storage_class=meta.get("sc", "STANDARD"), extra=meta.get("x", {}),
    )


def part_from_row(row: tuple[Any, ...]) -> PartRecord:
    return PartRecord(
        upload_id=row[0], part_number=row[1], size=row[2], etag=row[3], last_modified=row[4], blob=row[5],
        checksums=json.loads(row[6]), crc=row[7],
    )


def dumps(value: Any) -> str:
    return _dumps(value)
