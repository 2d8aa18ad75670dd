"""Transactions on multipart uploads and their parts. Every write to an upload locks its row
(``FOR UPDATE``): parts written through different gateways, an abort and a completion of the same upload
take turns, so no part's blob is ever lost track of. A completion takes the key's lock first (the same
order as every other write of the key)."""

from __future__ import annotations

from nuage.errors import InvalidPart, UploadNotFound
from nuage.storage.meta.postgres import objects
from nuage.storage.meta.postgres.codec import (
    PART_COLUMNS,
    UPLOAD_COLUMNS,
    blob_of,
    blob_param,
    dumps,
    part_from_row,
    upload_from_row,
    upload_meta,
)
from nuage.storage.meta.postgres.db import AConn
from nuage.storage.meta.records import ObjectRecord, PartRecord, UploadRecord, WriteCondition


async def get_upload(conn: AConn, upload_id: str, *, lock: bool = False) -> UploadRecord | None:
    cur = await conn.execute(f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id=%s"
                             + (" FOR UPDATE" if lock else ""), (upload_id,))
    row = await cur.fetchone()
    return upload_from_row(row) if row else None


async def create_upload(conn: AConn, rec: UploadRecord) -> None:
    await conn.execute(f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s)",
                       (rec.upload_id, rec.bucket, rec.key, rec.initiated, rec.owner, upload_meta(rec)))


async def put_part(conn: AConn, part: PartRecord) -> list[str]:
    if await get_upload(conn, part.upload_id, lock=True) is None:
        raise UploadNotFound()
    released: list[str] = []
    cur = await conn.execute("SELECT blob FROM parts WHERE upload_id=%s AND part_number=%s",
                             (part.upload_id, part.part_number))
    old = await cur.fetchone()
    if old is not None:
        released.append(blob_of(old[0]))
        await objects.unregister_blobs(conn, released)
    await conn.execute(
        f"INSERT INTO parts ({PART_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT (upload_id, part_number) "
        "DO UPDATE SET size=excluded.size, etag=excluded.etag, last_modified=excluded.last_modified, "
        "blob=excluded.blob, checksums=excluded.checksums, crc=excluded.crc",
        (part.upload_id, part.part_number, part.size, part.etag, part.last_modified, blob_param(part.blob),
         dumps(part.checksums), part.crc))
    await objects.register_blobs(conn, [part.blob])
    await objects.register_chunk_crcs(conn, [(part.blob, part.chunk_crcs)])
    return released


async def list_parts(conn: AConn, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
    cur = await conn.execute(f"SELECT {PART_COLUMNS} FROM parts WHERE upload_id=%s AND part_number>%s "
                             "ORDER BY part_number LIMIT %s", (upload_id, after, limit))
    return [part_from_row(r) for r in await cur.fetchall()]


async def _drop_upload(conn: AConn, upload_id: str, keep: set[str]) -> list[str]:
    cur = await conn.execute("SELECT blob FROM parts WHERE upload_id=%s", (upload_id,))
    released = [b for b in (blob_of(r[0]) for r in await cur.fetchall()) if b not in keep]
    await objects.unregister_blobs(conn, released)
    await conn.execute("DELETE FROM parts WHERE upload_id=%s", (upload_id,))
    await conn.execute("DELETE FROM uploads WHERE upload_id=%s", (upload_id,))
    return released


async def abort_upload(conn: AConn, upload_id: str) -> list[str]:
    if await get_upload(conn, upload_id, lock=True) is None:
        raise UploadNotFound()
    return await _drop_upload(conn, upload_id, set())


async def complete_upload(conn: AConn, upload_id: str, rec: ObjectRecord, versioning: str,
                          cond: WriteCondition | None, expected_parts: list[PartRecord],
                          ) -> tuple[ObjectRecord, list[str]]:
    """Turn an upload into an object version whose segments are the chosen parts' blobs."""
    await objects.lock_key(conn, rec.bucket, rec.key)
    if await get_upload(conn, upload_id, lock=True) is None:
        raise UploadNotFound()
    current = {p.part_number: p for p in await list_parts(conn, upload_id)}
    for part in expected_parts:
        now = current.get(part.part_number)
        if now is None or now.blob != part.blob:
            raise InvalidPart()
    keep = {s.blob for s in rec.segments}
    released = await _drop_upload(conn, upload_id, keep)
    stored, more = await objects.put_version(conn, rec, versioning, cond, blobs_registered=True, locked=True)
    return stored, released + more
