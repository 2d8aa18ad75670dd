"""Damaged blobs: the quarantine (evidence rows and the flag on the object version) and the listing of
every blob a scrub checks, in pages so that a scrub never holds a long read transaction."""

from __future__ import annotations

import json
import sqlite3

from nuage.storage.meta.extra import Facts, quarantine_entries
from nuage.storage.meta.records import ScrubItem
from nuage.storage.meta.sqlite.codec import dumps, segments_of

_QUARANTINE_COLUMNS = "blob, bucket, key, version_id, found, source, detail"


def quarantine(conn: sqlite3.Connection, seq: int | None, bucket: str, key: str, version_id: str, name: str,
               source: str, detail: str, now: float) -> bool:
    """Record a damaged blob and flag its object version (when it still exists) so that reads refuse it
    at once. True when the blob was not recorded before."""
    cur = conn.execute(f"INSERT OR IGNORE INTO quarantine ({_QUARANTINE_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                       (name, bucket, key, version_id, now, source, detail))
    if seq is not None:
        row = conn.execute("SELECT meta FROM objects WHERE seq=?", (seq,)).fetchone()
        if row is not None:
            meta = json.loads(row[0])
            extra = meta.setdefault("x", {})
            if not Facts(extra).quarantined:
                extra.update(quarantine_entries(now))
                conn.execute("UPDATE objects SET meta=? WHERE seq=?", (dumps(meta), seq))
    return cur.rowcount == 1


def object_items(conn: sqlite3.Connection, after_seq: int, limit: int) -> tuple[list[ScrubItem], int]:
    """The blobs of up to ``limit`` object versions after ``after_seq``, and the last seq seen (the
    next page's ``after_seq``; unchanged at the end)."""
    items: list[ScrubItem] = []
    last = after_seq
    for seq, bucket, key, version_id, meta, segments, crc in conn.execute(
            "SELECT seq, bucket, key, version_id, meta, segments, crc FROM objects WHERE seq>? AND "
            "delete_marker=0 ORDER BY seq LIMIT ?", (after_seq, limit)):
        last = seq
        flagged = Facts(json.loads(meta).get("x", {})).quarantined
        for seg in segments_of(segments, crc):
            items.append(ScrubItem(seq, bucket, key, version_id, seg.blob, seg.crc, flagged))
    return items, last


def part_items(conn: sqlite3.Connection) -> list[ScrubItem]:
    """The blobs of the parts of uploads in progress."""
    return [ScrubItem(None, bucket, key, upload_id, blob, crc)
            for upload_id, bucket, key, blob, crc in conn.execute(
                "SELECT p.upload_id, u.bucket, u.key, p.blob, p.crc FROM parts p JOIN uploads u "
                "ON u.upload_id=p.upload_id ORDER BY p.upload_id, p.part_number")]


def quarantine_rows(conn: sqlite3.Connection) -> list[tuple[str, str, str, str, float, str, str]]:
    return [tuple(r) for r in conn.execute(f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine ORDER BY found")]
