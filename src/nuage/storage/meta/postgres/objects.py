"""Transactions on object versions (async, inside the transaction of Database.write).

Writes to one key are serialized across every gateway by a transaction-scoped advisory lock on the
(bucket, key) pair (``lock_key``), taken before the key's latest version is read: a row lock cannot do
it, since the key may have no row yet (``If-None-Match: *`` on a new key) and the latest row changes
hands within the transaction. The bucket's row is held ``FOR KEY SHARE`` (a bucket being deleted waits,
a bucket deleted already refuses the write). Usage counters are updated with an upsert whose row lock
serializes writers of one bucket, so the quota check that follows reads exact figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from nuage.errors import (
    BucketNotFound,
    ConditionalRequestConflict,
    KeyNotFound,
    QuotaExceeded,
    VersionNotFound,
)
from nuage.storage.blobs.inline import is_inline
from nuage.storage.meta.extra import apply_changes
from nuage.storage.meta.postgres.codec import INSERT_OBJECT, OBJECT_COLUMNS, object_from_row, object_params
from nuage.storage.meta.postgres.db import AConn
from nuage.storage.meta.records import ObjectRecord, WriteCondition
from nuage.storage.meta.sqlite.objects import check_condition, new_version_id
from nuage.types import NEW_VERSION, NULL_VERSION, VERSIONING_ENABLED, BucketName, ObjectKey


async def lock_key(conn: AConn, bucket: str, key: str) -> None:
    """Hold the key's advisory lock until the transaction ends (bucket names have no '/': one string per
    pair; a hash collision only makes two keys wait for each other)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"{bucket}/{key}",))


async def lock_account(conn: AConn, account_id: str) -> None:
    """Serialize the quota checks of writers to different buckets of one account."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 1))", (f"account:{account_id}",))


async def hold_bucket(conn: AConn, bucket: str) -> None:
    cur = await conn.execute("SELECT 1 FROM buckets WHERE name=%s FOR KEY SHARE", (bucket,))
    if await cur.fetchone() is None:
        raise BucketNotFound()


async def latest(conn: AConn, bucket: str, key: str) -> ObjectRecord | None:
    cur = await conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s AND key=%s AND is_latest=1",
                             (bucket, key))
    row = await cur.fetchone()
    return object_from_row(row) if row else None


async def by_version(conn: AConn, bucket: str, key: str, version_id: str) -> ObjectRecord | None:
    cur = await conn.execute(
        f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s AND key=%s AND version_id=%s",
        (bucket, key, version_id))
    row = await cur.fetchone()
    return object_from_row(row) if row else None


async def quotas_for(conn: AConn, bucket: str) -> list[tuple[str, str, int | None, int | None]]:
    """(kind, target, max bytes, max objects) of the bucket's own quota and of its owner account's."""
    cur = await conn.execute(
        "SELECT kind, target, max_bytes, max_objects FROM quotas WHERE (kind='bucket' AND target=%s) OR "
        "(kind='account' AND target=(SELECT a.account_id FROM accounts a JOIN buckets b ON a.canonical_id=b.owner "
        "WHERE b.name=%s))", (bucket, bucket))
    return [(str(r[0]), str(r[1]), r[2], r[3]) for r in await cur.fetchall()]


async def account_usage(conn: AConn, account_id: str) -> tuple[int, int]:
    cur = await conn.execute(
        "SELECT COALESCE(SUM(u.bytes), 0), COALESCE(SUM(u.objects), 0) FROM bucket_usage u "
        "JOIN buckets b ON b.name=u.bucket JOIN accounts a ON a.canonical_id=b.owner WHERE a.account_id=%s",
        (account_id,))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


async def adjust_usage(conn: AConn, bucket: str, d_bytes: int, d_objects: int, *,
                       enforce: bool = False, net: tuple[int, int] | None = None) -> None:
    """Change a bucket's usage counters inside the current transaction; with ``enforce``, a growth that
    takes the bucket or its account over a quota raises QuotaExceeded (as the SQLite store's)."""
    if d_bytes == 0 and d_objects == 0:
        return
    cur = await conn.execute(
        "INSERT INTO bucket_usage (bucket, bytes, objects) VALUES (%s,%s,%s) ON CONFLICT (bucket) DO UPDATE SET "
        "bytes=bucket_usage.bytes+excluded.bytes, objects=bucket_usage.objects+excluded.objects "
        "RETURNING bytes, objects", (bucket, d_bytes, d_objects))
    row = await cur.fetchone()
    assert row is not None
    bucket_used = int(row[0]), int(row[1])
    d_bytes, d_objects = net if net is not None else (d_bytes, d_objects)
    if not enforce or (d_bytes <= 0 and d_objects <= 0):
        return
    for kind, target, max_bytes, max_objects in await quotas_for(conn, bucket):
        if kind == "bucket":
            used_bytes, used_objects = bucket_used
        else:
            await lock_account(conn, target)
            used_bytes, used_objects = await account_usage(conn, target)
        what = "bucket" if kind == "bucket" else "account"
        if d_bytes > 0 and max_bytes is not None and used_bytes > max_bytes:
            raise QuotaExceeded(f"The {what} quota of {max_bytes} bytes would be exceeded.")
        if d_objects > 0 and max_objects is not None and used_objects > max_objects:
            raise QuotaExceeded(f"The {what} quota of {max_objects} objects would be exceeded.")


async def register_blobs(conn: AConn, blobs: list[str]) -> None:
    """Record blob files that metadata references (inline blobs are in the row itself)."""
    files = [b for b in blobs if not is_inline(b)]
    if files:
        await conn.execute("INSERT INTO blobs (id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING", (files,))


async def unregister_blobs(conn: AConn, blobs: list[str]) -> None:
    """Forget blob files (and their chunk CRCs) that no metadata references any more."""
    files = [b for b in blobs if not is_inline(b)]
    if files:
        await conn.execute("DELETE FROM blobs WHERE id = ANY(%s)", (files,))
        await conn.execute("DELETE FROM blob_chunks WHERE blob = ANY(%s)", (files,))


async def register_chunk_crcs(conn: AConn, pairs: list[tuple[str, bytes | None]]) -> None:
    for blob, crcs in pairs:
        if crcs is not None and not is_inline(blob):
            await conn.execute("INSERT INTO blob_chunks (blob, crcs) VALUES (%s,%s) ON CONFLICT (blob) DO UPDATE "
                               "SET crcs=excluded.crcs", (blob, crcs))


async def _release(conn: AConn, rec: ObjectRecord) -> list[str]:
    blobs = [s.blob for s in rec.segments]
    await unregister_blobs(conn, blobs)
    return blobs


async def _remove_row(conn: AConn, rec: ObjectRecord) -> list[str]:
    await conn.execute("DELETE FROM objects WHERE seq=%s", (rec.seq,))
    await adjust_usage(conn, rec.bucket, -rec.size, -1)
    return await _release(conn, rec)


async def _promote_newest(conn: AConn, bucket: str, key: str) -> None:
    await conn.execute(
        "UPDATE objects SET is_latest=1 WHERE seq=(SELECT max(seq) FROM objects WHERE bucket=%s AND key=%s)",
        (bucket, key))


async def insert(conn: AConn, rec: ObjectRecord) -> None:
    cur = await conn.execute(INSERT_OBJECT, object_params(rec))
    row = await cur.fetchone()
    assert row is not None
    rec.seq = int(row[0])


async def put_version(
    conn: AConn, rec: ObjectRecord, versioning: str, cond: WriteCondition | None,
    *, blobs_registered: bool = False, enforce_quota: bool = True, locked: bool = False,
) -> tuple[ObjectRecord, list[str]]:
    """Make ``rec`` the latest version of its key (as the SQLite store's put_version). ``locked``: the
    caller holds the key's lock already."""
    if not locked:
        await lock_key(conn, rec.bucket, rec.key)
    await hold_bucket(conn, rec.bucket)
    current = await latest(conn, rec.bucket, rec.key)
    check_condition(current, cond)
    released: list[str] = []
    replaced = (0, 0)
    if versioning == VERSIONING_ENABLED:
        rec.version_id = new_version_id()
    else:
        rec.version_id = NULL_VERSION
        old_null = (None if current is None else current if current.version_id == NULL_VERSION
                    else await by_version(conn, rec.bucket, rec.key, NULL_VERSION))
        if old_null is not None:
            replaced = (old_null.size, 1)
            released += await _remove_row(conn, old_null)
            if current is not None and current.seq == old_null.seq:
                current = None
    if current is not None:
        await conn.execute("UPDATE objects SET is_latest=0 WHERE seq=%s", (current.seq,))
    rec.is_latest = True
    await insert(conn, rec)
    await adjust_usage(conn, rec.bucket, rec.size, 1, enforce=enforce_quota,
                       net=(rec.size - replaced[0], 1 - replaced[1]))
    if not blobs_registered:
        await register_blobs(conn, [s.blob for s in rec.segments])
    await register_chunk_crcs(conn, [(s.blob, s.chunk_crcs) for s in rec.segments])
    return rec, released


async def delete(
    conn: AConn, bucket: str, key: str, version_id: str | None, versioning: str,
    owner: str, now: float, guard: Callable[[ObjectRecord], None] | None = None,
) -> tuple[ObjectRecord | None, list[str]]:
    """DeleteObject (as the SQLite store's delete)."""
    await lock_key(conn, bucket, key)
    if version_id is not None:
        target = await by_version(conn, bucket, key, version_id)
        if target is None:
            return None, []
        if guard is not None:
            guard(target)
        released = await _remove_row(conn, target)
        if target.is_latest:
            await _promote_newest(conn, bucket, key)
        return target, released
    if not versioning:
        current = await latest(conn, bucket, key)
        if current is None:
            return None, []
        return current, await _remove_row(conn, current)
    marker = ObjectRecord(bucket=BucketName(bucket), key=ObjectKey(key), version_id=NEW_VERSION, size=0, etag="",
                          last_modified=now, owner=owner, delete_marker=True)
    return await put_version(conn, marker, versioning, None, enforce_quota=False, locked=True)


async def _target(conn: AConn, bucket: str, key: str, version_id: str | None) -> ObjectRecord:
    await lock_key(conn, bucket, key)
    rec = await latest(conn, bucket, key) if version_id is None else await by_version(conn, bucket, key, version_id)
    if rec is None or rec.delete_marker:
        raise KeyNotFound() if version_id is None else VersionNotFound()
    return rec


async def set_tags(conn: AConn, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> ObjectRecord:
    rec = await _target(conn, bucket, key, version_id)
    await conn.execute("UPDATE objects SET tags=%s WHERE seq=%s", (json.dumps(tags), rec.seq))
    rec.tags = tags
    return rec


async def update_extra(conn: AConn, bucket: str, key: str, version_id: str | None, changes: dict[str, str | None],
                       guard: Callable[[ObjectRecord], None] | None = None) -> ObjectRecord:
    """Set or clear entries of a version's ``extra`` map; ``guard`` may refuse inside the transaction."""
    rec = await _target(conn, bucket, key, version_id)
    if guard is not None:
        guard(rec)
    apply_changes(rec.extra, changes)
    cur = await conn.execute("SELECT meta FROM objects WHERE seq=%s", (rec.seq,))
    row = await cur.fetchone()
    assert row is not None
    meta = json.loads(row[0])
    if rec.extra:
        meta["x"] = rec.extra
    else:
        meta.pop("x", None)
    await conn.execute("UPDATE objects SET meta=%s WHERE seq=%s", (json.dumps(meta), rec.seq))
    return rec


async def race_guard(conn: AConn, bucket: str, key: str, expected_seq: int | None) -> None:
    """Fail when the latest version changed since ``expected_seq`` was read (copy onto itself)."""
    await lock_key(conn, bucket, key)
    current = await latest(conn, bucket, key)
    if (current.seq if current else None) != expected_seq:
        raise ConditionalRequestConflict()
