"""PostgreSQL statements of the console's tables (migration 0007): usage samples and console passwords."""

from __future__ import annotations

import time
from collections.abc import Sequence

from nuage.storage.meta.postgres.db import AConn, Conn

UsageRow = tuple[str, int, int, int, int]     # bucket, ts, bytes, objects, requests


async def bucket_usage_all(conn: AConn) -> list[tuple[str, int, int]]:
    """(bucket, bytes, objects) of every bucket."""
    cur = await conn.execute(
        "SELECT b.name, u.bytes, u.objects FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name")
    return [(str(r[0]), int(r[1] or 0), int(r[2] or 0)) for r in await cur.fetchall()]


async def add_usage_samples(conn: AConn, rows: Sequence[UsageRow], keep_after: int) -> None:
    if rows:
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO usage_samples (bucket, ts, bytes, objects, requests) VALUES (%s,%s,%s,%s,%s) "
                "ON CONFLICT (bucket, ts) DO UPDATE SET bytes=excluded.bytes, objects=excluded.objects, "
                "requests=excluded.requests", list(rows))
    await conn.execute("DELETE FROM usage_samples WHERE ts < %s", (keep_after,))


async def usage_samples(conn: AConn, buckets: Sequence[str], since: int) -> list[UsageRow]:
    if not buckets:
        return []
    cur = await conn.execute(
        "SELECT bucket, ts, bytes, objects, requests FROM usage_samples WHERE ts >= %s AND bucket = ANY(%s) "
        "ORDER BY ts, bucket", (since, list(buckets)))
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in await cur.fetchall()]


def get_console_password(conn: Conn, account_id: str, user_name: str) -> tuple[str, float] | None:
    """(hash, when it was set)."""
    row = conn.execute("SELECT hash, updated FROM console_passwords WHERE account_id=%s AND user_name=%s",
                       (account_id, user_name)).fetchone()
    return (str(row[0]), float(row[1])) if row else None


def set_console_password(conn: Conn, account_id: str, user_name: str, hashed: str | None) -> None:
    if hashed is None:
        conn.execute("DELETE FROM console_passwords WHERE account_id=%s AND user_name=%s", (account_id, user_name))
    else:
        conn.execute("INSERT INTO console_passwords (account_id, user_name, hash, updated) VALUES (%s,%s,%s,%s) "
                     "ON CONFLICT (account_id, user_name) DO UPDATE SET hash=excluded.hash, updated=excluded.updated",
                     (account_id, user_name, hashed, time.time()))
