"""SQL job records in SQLite (migration 0006)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import astuple, fields

from nuage.storage.meta.jobs import JobRecord

Write = Callable[[Callable[[sqlite3.Connection], None]], object]
COLUMNS = ", ".join(f.name for f in fields(JobRecord))


class SQLiteJobStore:
    def __init__(self, read: Callable[[], sqlite3.Connection], write: Write) -> None:
        self._read = read
        self._write = write

    def put_job(self, rec: JobRecord) -> None:
        values = astuple(rec)

        def tx(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT OR REPLACE INTO query_jobs ({COLUMNS}) VALUES ({', '.join('?' * len(values))})",
                         values)
        self._write(tx)

    def get_job(self, job_id: str) -> JobRecord | None:
        row = self._read().execute(f"SELECT {COLUMNS} FROM query_jobs WHERE job_id=?", (job_id,)).fetchone()
        return JobRecord(*row) if row else None

    def list_jobs(self, account_id: str, limit: int) -> list[JobRecord]:
        rows = self._read().execute(f"SELECT {COLUMNS} FROM query_jobs WHERE account_id=? ORDER BY created DESC "
                                    "LIMIT ?", (account_id, limit)).fetchall()
        return [JobRecord(*r) for r in rows]

    def fail_unfinished(self, now: float, code: str, message: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE query_jobs SET status='failed', finished=?, error_code=?, error_message=? "
                         "WHERE status IN ('queued', 'running')", (now, code, message))
        self._write(tx)
