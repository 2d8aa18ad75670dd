"""Transactions on multipart uploads and their parts."""

from __future__ import annotations

import sqlite3

from nuage.errors import UploadNotFound
from nuage.storage.meta.records import ObjectRecord, PartRecord, UploadRecord, WriteCondition
from nuage.storage.meta.sqlite import objects
from nuage.storage.meta.sqlite.codec import dumps, part_from_row, upload_from_row, upload_meta

UPLOAD_COLUMNS = "upload_id, bucket, key, initiated, owner, meta"
PART_COLUMNS = "upload_id, part_number, size, etag, last_modified, blob, checksums, crc"


def get_upload(conn: sqlite3.Connection, upload_id: str) -> UploadRecord | None:
    row = conn.execute(f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id=?", (upload_id,)).fetchone()
    return upload_from_row(row) if row else None


def create_upload(conn: sqlite3.Connection, rec: UploadRecord) -> None:
    conn.execute(
        f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?,?,?,?,?,?)",
        (rec.upload_id, rec.bucket, rec.key, rec.initiated, rec.owner, upload_meta(rec)),
    )


def put_part(conn: sqlite3.Connection, part: PartRecord) -> list[str]:
    if get_upload(conn, part.upload_id) is None:
        raise UploadNotFound()
    released: list[str] = []
    old = conn.execute("SELECT blob FROM parts WHERE upload_id=? AND part_number=?",
                       (part.upload_id, part.part_number)).fetchone()
    if old is not None:
        released.append(old[0])
        objects.unregister_blobs(conn, [old[0]])
    conn.execute(
        f"INSERT OR REPLACE INTO parts ({PART_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
        (part.upload_id, part.part_number, part.size, part.etag, part.last_modified, part.blob,
         dumps(part.checksums), part.crc),
    )
    objects.register_blobs(conn, [part.blob])
    objects.register_chunk_crcs(conn, [(part.blob, part.chunk_crcs)])
    return released


def list_parts(conn: sqlite3.Connection, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
    return [
        part_from_row(r)
        for r in conn.execute(
            f"SELECT {PART_COLUMNS} FROM parts WHERE upload_id=? AND part_number>? ORDER BY part_number LIMIT ?",
            (upload_id, after, limit),
        )
    ]


def _drop_upload(conn: sqlite3.Connection, upload_id: str, keep: set[str]) -> list[str]:
    released = [r[0] for r in conn.execute("SELECT blob FROM parts WHERE upload_id=?", (upload_id,))
                if r[0] not in keep]
    objects.unregister_blobs(conn, released)
    conn.execute("DELETE FROM parts WHERE upload_id=?", (upload_id,))
    conn.execute("DELETE FROM uploads WHERE upload_id=?", (upload_id,))
    return released


def abort_upload(conn: sqlite3.Connection, upload_id: str) -> list[str]:
    if get_upload(conn, upload_id) is None:
        raise UploadNotFound()
    return _drop_upload(conn, upload_id, set())


def complete_upload(
    conn: sqlite3.Connection, upload_id: str, rec: ObjectRecord, versioning: str, cond: WriteCondition | None,
    expected_parts: list[PartRecord],
) -> tuple[ObjectRecord, list[str]]:
    """Turn an upload into an object version whose segments are the chosen parts' blobs."""
    if get_upload(conn, upload_id) is None:
        raise UploadNotFound()
    current = {p.part_number: p for p in list_parts(conn, upload_id)}
    for part in expected_parts:
        now = current.get(part.part_number)
        if now is None or now.blob != part.blob:
            from nuage.errors import InvalidPart
            raise InvalidPart()
    keep = {s.blob for s in rec.segments}
    released = _drop_upload(conn, upload_id, keep)
    stored, more = objects.put_version(conn, rec, versioning, cond, blobs_registered=True)
    return stored, released + more
