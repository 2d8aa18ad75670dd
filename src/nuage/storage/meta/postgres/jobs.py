"""SQL job records in PostgreSQL (migration 0006): shared by every gateway, so a job started through one
can be followed through another."""

from __future__ import annotations

from dataclasses import astuple, fields

from nuage.storage.meta.jobs import JobRecord
from nuage.storage.meta.postgres.db import Database

NAMES = [f.name for f in fields(JobRecord)]
COLUMNS = ", ".join(NAMES)


class PostgresJobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put_job(self, rec: JobRecord) -> None:
        values = astuple(rec)
        updates = ", ".join(f"{name}=excluded.{name}" for name in NAMES[1:])
        self._db.write_sync(lambda conn: conn.execute(
            f"INSERT INTO query_jobs ({COLUMNS}) VALUES ({', '.join(['%s'] * len(values))}) "
            f"ON CONFLICT (job_id) DO UPDATE SET {updates}", values))

    def get_job(self, job_id: str) -> JobRecord | None:
        row = self._db.read_sync(lambda conn: conn.execute(
            f"SELECT {COLUMNS} FROM query_jobs WHERE job_id=%s", (job_id,)).fetchone())
        return JobRecord(*row) if row else None

    def list_jobs(self, account_id: str, limit: int) -> list[JobRecord]:
        rows = self._db.read_sync(lambda conn: conn.execute(
            f"SELECT {COLUMNS} FROM query_jobs WHERE account_id=%s ORDER BY created DESC LIMIT %s",
            (account_id, limit)).fetchall())
        return [JobRecord(*r) for r in rows]

    def fail_unfinished(self, now: float, code: str, message: str) -> None:
        self._db.write_sync(lambda conn: conn.execute(
            "UPDATE query_jobs SET status='failed', finished=%s, error_code=%s, error_message=%s "
            "WHERE status IN ('queued', 'running')", (now, code, message)))
