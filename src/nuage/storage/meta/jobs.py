"""SQL job records (migration 0006) and the store protocol the query service uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class JobRecord:
    job_id: str
    account_id: str
    principal: str
    sql: str
    status: str
    created: float
    output: str                       # JSON text
    started: float | None = None
    finished: float | None = None
    bytes_scanned: int = 0
    objects: int = 0
    rows: int | None = None
    columns: str | None = None        # JSON text
    error_code: str | None = None
    error_message: str | None = None


class JobStore(Protocol):
    def put_job(self, rec: JobRecord) -> None: ...
    def get_job(self, job_id: str) -> JobRecord | None: ...
    def list_jobs(self, account_id: str, limit: int) -> list[JobRecord]: ...
    def fail_unfinished(self, now: float, code: str, message: str) -> None: ...
