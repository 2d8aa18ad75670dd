"""Transactions on object versions (run on the writer thread, inside its transaction)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from nuage.errors import (
    ConditionalRequestConflict,
    KeyNotFound,
    PreconditionFailed,
    QuotaExceeded,
    VersionNotFound,
)
from nuage.ids import new_id
from nuage.storage.blobs.inline import is_inline
from nuage.storage.meta.extra import apply_changes
from nuage.storage.meta.records import ObjectRecord, WriteCondition
from nuage.storage.meta.sqlite.codec import OBJECT_COLUMNS, object_from_row, object_params
from nuage.types import NEW_VERSION, NULL_VERSION, VERSIONING_ENABLED, BucketName, ObjectKey, VersionId

INSERT_OBJECT = (
    "INSERT INTO objects (bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified, "
    "owner, meta, segments, tags, crc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def new_version_id() -> VersionId:
    return VersionId(new_id())


def latest(conn: sqlite3.Connection, bucket: str, key: str) -> ObjectRecord | None:
    row = conn.execute(
        f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=? AND is_latest=1", (bucket, key)
    ).fetchone()
    return object_from_row(row) if row else None


def by_version(conn: sqlite3.Connection, bucket: str, key: str, version_id: str) -> ObjectRecord | None:
    row = conn.execute(
        f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=? AND version_id=?",
        (bucket, key, version_id),
    ).fetchone()
    return object_from_row(row) if row else None


def check_condition(current: ObjectRecord | None, cond: WriteCondition | None) -> None:
    if cond is None:
        return
    live = current if current is not None and not current.delete_marker else None
    if cond.if_none_match is not None and live is not None and _etag_in(cond.if_none_match, live.etag):
        raise PreconditionFailed()
    if cond.if_match is not None:
        if live is None:
            raise KeyNotFound()
        if not _etag_in(cond.if_match, live.etag):
            raise PreconditionFailed()


def _etag_in(header: str, etag: str) -> bool:
    return any(c.strip() == "*" or c.strip().strip('"') == etag for c in header.split(","))


def quotas_for(conn: sqlite3.Connection, bucket: str) -> list[tuple[str, str, int | None, int | None]]:
    """(kind, target, max bytes, max objects) of the bucket's own quota and of its owner account's."""
    rows = conn.execute(
        "SELECT kind, target, max_bytes, max_objects FROM quotas WHERE (kind='bucket' AND target=?) OR "
        "(kind='account' AND target=(SELECT a.account_id FROM accounts a JOIN buckets b ON a.canonical_id=b.owner "
        "WHERE b.name=?))", (bucket, bucket)).fetchall()
    return [(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]


def account_usage(conn: sqlite3.Connection, account_id: str) -> tuple[int, int]:
    """(bytes, objects) of all the buckets of an account."""
    row = conn.execute(
        "SELECT COALESCE(SUM(u.bytes), 0), COALESCE(SUM(u.objects), 0) FROM bucket_usage u "
        "JOIN buckets b ON b.name=u.bucket JOIN accounts a ON a.canonical_id=b.owner WHERE a.account_id=?",
        (account_id,)).fetchone()
    return int(row[0]), int(row[1])


def adjust_usage(conn: sqlite3.Connection, bucket: str, d_bytes: int, d_objects: int, *,
                 enforce: bool = False, net: tuple[int, int] | None = None) -> None:
    """Change a bucket's usage counters inside the current transaction. With ``enforce``, a growth that
    takes the bucket or its account over a quota raises QuotaExceeded (and the transaction is rolled back).
    ``net`` is the write's net change (an overwrite replaces what it releases): a write that does not grow
    a measure is never refused on it, even when a lowered quota is already exceeded."""
    if d_bytes == 0 and d_objects == 0:
        return
    conn.execute(
        "INSERT INTO bucket_usage (bucket, bytes, objects) VALUES (?,?,?) ON CONFLICT(bucket) DO UPDATE SET "
        "bytes=bytes+excluded.bytes, objects=objects+excluded.objects", (bucket, d_bytes, d_objects))
    d_bytes, d_objects = net if net is not None else (d_bytes, d_objects)
    if not enforce or (d_bytes <= 0 and d_objects <= 0):
        return
    for kind, target, max_bytes, max_objects in quotas_for(conn, bucket):
        if kind == "bucket":
            row = conn.execute("SELECT bytes, objects FROM bucket_usage WHERE bucket=?", (bucket,)).fetchone()
            used_bytes, used_objects = int(row[0]), int(row[1])
        else:
            used_bytes, used_objects = account_usage(conn, target)
        what = "bucket" if kind == "bucket" else "account"
        if d_bytes > 0 and max_bytes is not None and used_bytes > max_bytes:
            raise QuotaExceeded(f"The {what} quota of {max_bytes} bytes would be exceeded.")
        if d_objects > 0 and max_objects is not None and used_objects > max_objects:
            raise QuotaExceeded(f"The {what} quota of {max_objects} objects would be exceeded.")


def _release(conn: sqlite3.Connection, rec: ObjectRecord) -> list[str]:
    blobs = [s.blob for s in rec.segments]
    unregister_blobs(conn, blobs)
    return blobs


def register_blobs(conn: sqlite3.Connection, blobs: list[str]) -> None:
    """Record blob files that metadata references (inline blobs are in the row itself)."""
    conn.executemany("INSERT OR IGNORE INTO blobs (id) VALUES (?)", [(b,) for b in blobs if not is_inline(b)])


def unregister_blobs(conn: sqlite3.Connection, blobs: list[str]) -> None:
    """Forget blob files (and their chunk CRCs) that no metadata references any more."""
    params = [(b,) for b in blobs if not is_inline(b)]
    conn.executemany("DELETE FROM blobs WHERE id=?", params)
    conn.executemany("DELETE FROM blob_chunks WHERE blob=?", params)


def register_chunk_crcs(conn: sqlite3.Connection, pairs: list[tuple[str, bytes | None]]) -> None:
    """Keep the chunk CRCs of new blob files (blob id, CRCs or None)."""
    rows = [(blob, crcs) for blob, crcs in pairs if crcs is not None and not is_inline(blob)]
    if rows:
        conn.executemany("INSERT OR REPLACE INTO blob_chunks (blob, crcs) VALUES (?,?)", rows)


def chunk_crcs(conn: sqlite3.Connection, blob: str, first: int, count: int,
               whole_max: int) -> tuple[bytes | None, bytes | None]:
    """In one lookup: (all the chunk CRCs of a blob of at most ``whole_max`` chunks, else None; the CRCs
    of chunks ``first`` to ``first + count - 1`` of a larger one, else None). (None, None): none kept,
    or not that many."""
    row = conn.execute("SELECT rowid, length(crcs), CASE WHEN length(crcs) <= ? THEN crcs END FROM blob_chunks "
                       "WHERE blob=?", (4 * whole_max, blob)).fetchone()
    if row is None:
        return None, None
    if row[2] is not None:
        return bytes(row[2]), None
    if row[1] < 4 * (first + count):
        return None, None
    with conn.blobopen("blob_chunks", "crcs", row[0], readonly=True) as value:
        value.seek(4 * first)
        return None, value.read(4 * count)


def _remove_row(conn: sqlite3.Connection, rec: ObjectRecord) -> list[str]:
    conn.execute("DELETE FROM objects WHERE seq=?", (rec.seq,))
    adjust_usage(conn, rec.bucket, -rec.size, -1)
    return _release(conn, rec)


def _promote_newest(conn: sqlite3.Connection, bucket: str, key: str) -> None:
    conn.execute(
        "UPDATE objects SET is_latest=1 WHERE seq=(SELECT max(seq) FROM objects WHERE bucket=? AND key=?)",
        (bucket, key),
    )


def put_version(
    conn: sqlite3.Connection, rec: ObjectRecord, versioning: str, cond: WriteCondition | None,
    *, blobs_registered: bool = False, enforce_quota: bool = True,
) -> tuple[ObjectRecord, list[str]]:
    """Make ``rec`` the latest version of its key. Returns the stored record and released blobs.
    The bucket's usage counts the new version (net of a replaced null version); with ``enforce_quota``
    a write that would take the bucket or its account over a quota raises QuotaExceeded."""
    current = latest(conn, rec.bucket, rec.key)
    check_condition(current, cond)
    released: list[str] = []
    replaced = (0, 0)   # (bytes, versions) of the null version this write replaces
    if versioning == VERSIONING_ENABLED:
        rec.version_id = new_version_id()
    else:
        rec.version_id = NULL_VERSION
        # Some version of a key is always the latest: no latest, no null version; a null latest is it.
        old_null = (None if current is None else current if current.version_id == NULL_VERSION
                    else by_version(conn, rec.bucket, rec.key, NULL_VERSION))
        if old_null is not None:
            replaced = (old_null.size, 1)
            released += _remove_row(conn, old_null)
            if current is not None and current.seq == old_null.seq:
                current = None
    if current is not None:
        conn.execute("UPDATE objects SET is_latest=0 WHERE seq=?", (current.seq,))
    rec.is_latest = True
    cur = conn.execute(INSERT_OBJECT, object_params(rec))
    rec.seq = int(cur.lastrowid or 0)
    adjust_usage(conn, rec.bucket, rec.size, 1, enforce=enforce_quota,
                 net=(rec.size - replaced[0], 1 - replaced[1]))
    if not blobs_registered:
        register_blobs(conn, [s.blob for s in rec.segments])
    register_chunk_crcs(conn, [(s.blob, s.chunk_crcs) for s in rec.segments])
    return rec, released


def delete(
    conn: sqlite3.Connection, bucket: str, key: str, version_id: str | None, versioning: str,
    owner: str, now: float, guard: Callable[[ObjectRecord], None] | None = None,
) -> tuple[ObjectRecord | None, list[str]]:
    """DeleteObject. Returns (the removed version or the new delete marker, released blobs).
    ``guard`` sees a version about to be removed inside the transaction and may refuse by raising."""
    if version_id is not None:
        target = by_version(conn, bucket, key, version_id)
        if target is None:
            return None, []
        if guard is not None:
            guard(target)
        released = _remove_row(conn, target)
        if target.is_latest:
            _promote_newest(conn, bucket, key)
        return target, released
    if not versioning:
        current = latest(conn, bucket, key)
        if current is None:
            return None, []
        released = _remove_row(conn, current)
        return current, released
    marker = ObjectRecord(
        bucket=BucketName(bucket), key=ObjectKey(key), version_id=NEW_VERSION, size=0, etag="", last_modified=now,
        owner=owner,
        delete_marker=True,
    )
    stored, released = put_version(conn, marker, versioning, None, enforce_quota=False)
    return stored, released


def set_tags(conn: sqlite3.Connection, bucket: str, key: str, version_id: str | None,
             tags: dict[str, str]) -> ObjectRecord:
    rec = latest(conn, bucket, key) if version_id is None else by_version(conn, bucket, key, version_id)
    if rec is None:
        raise KeyNotFound() if version_id is None else VersionNotFound()
    if rec.delete_marker:
        raise KeyNotFound() if version_id is None else VersionNotFound()
    conn.execute("UPDATE objects SET tags=? WHERE seq=?", (json.dumps(tags), rec.seq))
    rec.tags = tags
    return rec


def update_extra(conn: sqlite3.Connection, bucket: str, key: str, version_id: str | None,
                 changes: dict[str, str | None],
                 guard: Callable[[ObjectRecord], None] | None = None) -> ObjectRecord:
    """Set or clear entries of an object version's ``extra`` map (acl, retention, legal hold...).
    ``guard`` sees the version before the change, inside the transaction, and may refuse by raising."""
    rec = latest(conn, bucket, key) if version_id is None else by_version(conn, bucket, key, version_id)
    if rec is None or rec.delete_marker:
        raise KeyNotFound() if version_id is None else VersionNotFound()
    if guard is not None:
        guard(rec)
    apply_changes(rec.extra, changes)
    meta = json.loads(conn.execute("SELECT meta FROM objects WHERE seq=?", (rec.seq,)).fetchone()[0])
    if rec.extra:
        meta["x"] = rec.extra
    else:
        meta.pop("x", None)
    conn.execute("UPDATE objects SET meta=? WHERE seq=?", (json.dumps(meta), rec.seq))
    return rec


def race_guard(conn: sqlite3.Connection, bucket: str, key: str, expected_seq: int | None) -> None:
    """Fail when the latest version changed since ``expected_seq`` was read (copy onto itself)."""
    current = latest(conn, bucket, key)
    if (current.seq if current else None) != expected_seq:
        raise ConditionalRequestConflict()
