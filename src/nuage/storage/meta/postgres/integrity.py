"""Damaged blobs: the quarantine and the pages of blobs a scrub checks (synchronous: a scrub runs on a
thread of its own), and the chunk CRCs range reads check."""

from __future__ import annotations

import json

from nuage.storage.meta.extra import Facts, quarantine_entries
from nuage.storage.meta.postgres.db import Conn
from nuage.storage.meta.records import ScrubItem
from nuage.storage.meta.sqlite.codec import dumps, segments_of

_QUARANTINE_COLUMNS = "blob, bucket, key, version_id, found, source, detail"


def quarantine(conn: Conn, seq: int | None, bucket: str, key: str, version_id: str, name: str,
               source: str, detail: str, now: float) -> bool:
    """Record a damaged blob and flag its object version (when it still exists). True when the blob was
    not recorded before."""
    cur = conn.execute(f"INSERT INTO quarantine ({_QUARANTINE_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s) "
                       "ON CONFLICT (blob) DO NOTHING", (name, bucket, key, version_id, now, source, detail))
    added = cur.rowcount == 1
    if seq is not None:
        # the key's lock, as every change of a version's metadata takes (objects.lock_key)
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{bucket}/{key}",))
        row = conn.execute("SELECT meta FROM objects WHERE seq=%s", (seq,)).fetchone()
        if row is not None:
            meta = json.loads(row[0])
            extra = meta.setdefault("x", {})
            if not Facts(extra).quarantined:
                extra.update(quarantine_entries(now))
                conn.execute("UPDATE objects SET meta=%s WHERE seq=%s", (dumps(meta), seq))
    return added


def object_items(conn: Conn, after_seq: int, limit: int) -> tuple[list[ScrubItem], int]:
    """The blobs of up to ``limit`` object versions after ``after_seq``, and the last seq seen."""
    items: list[ScrubItem] = []
    last = after_seq
    for seq, bucket, key, version_id, meta, segments, inline, crc in conn.execute(
            "SELECT seq, bucket, key, version_id, meta, segments, inline_data, crc FROM objects WHERE seq>%s AND "
            "delete_marker=0 ORDER BY seq LIMIT %s", (after_seq, limit)).fetchall():
        last = seq
        flagged = Facts(json.loads(meta).get("x", {})).quarantined
        for seg in segments_of(bytes(inline) if segments is None else segments, crc):
            items.append(ScrubItem(seq, bucket, key, version_id, seg.blob, seg.crc, flagged))
    return items, last


def part_items(conn: Conn) -> list[ScrubItem]:
    """The blobs of the parts of uploads in progress."""
    return [ScrubItem(None, bucket, key, upload_id, bytes(blob).decode("utf-8", "surrogatepass"), crc)
            for upload_id, bucket, key, blob, crc in conn.execute(
                "SELECT p.upload_id, u.bucket, u.key, p.blob, p.crc FROM parts p JOIN uploads u "
                "ON u.upload_id=p.upload_id ORDER BY p.upload_id, p.part_number").fetchall()]


def quarantine_rows(conn: Conn) -> list[tuple[str, str, str, str, float, str, str]]:
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]), str(r[5]), str(r[6])) for r in conn.execute(
        f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine ORDER BY found").fetchall()]


def chunk_crcs(conn: Conn, blob: str, first: int, count: int, whole_max: int) -> tuple[bytes | None, bytes | None]:
    """As the SQLite store's: (all the CRCs of a blob of at most ``whole_max`` chunks, else None; those of
    chunks ``first`` to ``first + count - 1`` of a larger one, else None)."""
    row = conn.execute(
        "SELECT length(crcs), CASE WHEN length(crcs) <= %s THEN crcs ELSE substring(crcs FROM %s FOR %s) END "
        "FROM blob_chunks WHERE blob=%s", (4 * whole_max, 4 * first + 1, 4 * count, blob)).fetchone()
    if row is None:
        return None, None
    if row[0] <= 4 * whole_max:
        return bytes(row[1]), None
    if row[0] < 4 * (first + count):
        return None, None
    return None, bytes(row[1])
