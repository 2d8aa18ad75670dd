"""SQLite statements of the console's tables (migration 0007): usage samples and console passwords."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

UsageRow = tuple[str, int, int, int, int]     # bucket, ts, bytes, objects, requests


def bucket_usage_all(conn: sqlite3.Connection) -> list[tuple[str, int, int]]:
    """(bucket, bytes, objects) of every bucket."""
    return [(str(r[0]), int(r[1] or 0), int(r[2] or 0)) for r in conn.execute(
        "SELECT b.name, u.bytes, u.objects FROM buckets b LEFT JOIN bucket_usage u ON u.bucket = b.name")]


def add_usage_samples(conn: sqlite3.Connection, rows: Sequence[UsageRow], keep_after: int) -> None:
    conn.executemany("INSERT OR REPLACE INTO usage_samples (bucket, ts, bytes, objects, requests) VALUES (?,?,?,?,?)",
                     rows)
    conn.execute("DELETE FROM usage_samples WHERE ts < ?", (keep_after,))


def usage_samples(conn: sqlite3.Connection, buckets: Sequence[str], since: int) -> list[UsageRow]:
    if not buckets:
        return []
    marks = ",".join("?" * len(buckets))
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in conn.execute(
        f"SELECT bucket, ts, bytes, objects, requests FROM usage_samples WHERE ts >= ? AND bucket IN ({marks}) "
        "ORDER BY ts, bucket", (since, *buckets))]


def get_console_password(conn: sqlite3.Connection, account_id: str, user_name: str) -> tuple[str, float] | None:
    """(hash, when it was set)."""
    row = conn.execute("SELECT hash, updated FROM console_passwords WHERE account_id=? AND user_name=?",
                       (account_id, user_name)).fetchone()
    return (str(row[0]), float(row[1])) if row else None


def set_console_password(conn: sqlite3.Connection, account_id: str, user_name: str, hashed: str | None) -> None:
    if hashed is None:
        conn.execute("DELETE FROM console_passwords WHERE account_id=? AND user_name=?", (account_id, user_name))
    else:
        conn.execute("INSERT OR REPLACE INTO console_passwords (account_id, user_name, hash, updated) "
                     "VALUES (?,?,?,?)", (account_id, user_name, hashed, time.time()))
