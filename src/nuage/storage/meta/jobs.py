"""SQL job records (migrations 0006, 0011 and 0012) and the store the query service keeps them in.

Both backends keep them with the same SQL (``SQLJobStore``): they differ only in how a statement reaches
the database (their connections, and ``?`` or ``%s`` for a parameter).

Several processes run jobs on one database (the gateways of a PostgreSQL database, the worker processes
of a gateway): each job row names the process that runs it (``owner``) and when that process last said it
still does (``heartbeat``); a cancellation asked for through another process is a flag in the row
(``cancel_requested``) that the owner reads on its heartbeat, when it also writes how far each of its
running jobs is (``progress``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass, fields
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

UNFINISHED = "status IN ('queued', 'running')"


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
    owner: str | None = None          # the process that runs (or ran) the job
    heartbeat: float | None = None    # when the owner last said it still runs it
    progress: float | None = None     # percent done, as of the owner's last heartbeat


@dataclass(frozen=True)
class Ending:
    """How recovery ends a job whose owner is gone: (status, error code, message)."""
    status: str
    code: str
    message: str


class JobStore(Protocol):
    def put_job(self, rec: JobRecord) -> None: ...
    def get_job(self, job_id: str) -> JobRecord | None: ...
    def list_jobs(self, account_id: str, limit: int) -> list[JobRecord]: ...
    def beat(self, owner: str, now: float, progress: Mapping[str, float]) -> list[str]: ...
    def request_cancel(self, job_id: str) -> None: ...
    def end_orphans(self, now: float, stale_before: float, keep_owner: str, failed: Ending,
                    cancelled: Ending) -> list[str]: ...


class Runner(Protocol):
    """Runs ``fn`` on a connection of the database (a transaction, for writes) and returns what it did."""
    def __call__(self, fn: Callable[[Any], T], /) -> T: ...


NAMES = [f.name for f in fields(JobRecord)]
COLUMNS = ", ".join(NAMES)
# the heartbeat and progress are the owner's to move (beat), the cancellation flag anyone's (request_cancel):
# a write of the record, which the owner does at each change of status, leaves them alone
UPDATED = ", ".join(f"{name}=excluded.{name}" for name in NAMES if name not in ("job_id", "heartbeat", "progress"))


class SQLJobStore:
    """The job rows, through ``read`` and ``write`` runners; ``mark`` is the parameter placeholder."""

    def __init__(self, read: Runner, write: Runner, mark: str) -> None:
        self._read = read
        self._write = write
        self._p = mark

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    def put_job(self, rec: JobRecord) -> None:
        values = astuple(rec)
        sql = self._sql(f"INSERT INTO query_jobs ({COLUMNS}) VALUES ({', '.join('?' * len(values))}) "
                        f"ON CONFLICT (job_id) DO UPDATE SET {UPDATED}")
        self._write(lambda conn: conn.execute(sql, values))

    def get_job(self, job_id: str) -> JobRecord | None:
        sql = self._sql(f"SELECT {COLUMNS} FROM query_jobs WHERE job_id=?")
        row = self._read(lambda conn: conn.execute(sql, (job_id,)).fetchone())
        return JobRecord(*row) if row else None

    def list_jobs(self, account_id: str, limit: int) -> list[JobRecord]:
        sql = self._sql(f"SELECT {COLUMNS} FROM query_jobs WHERE account_id=? ORDER BY created DESC LIMIT ?")
        rows = self._read(lambda conn: conn.execute(sql, (account_id, limit)).fetchall())
        return [JobRecord(*r) for r in rows]

    def beat(self, owner: str, now: float, progress: Mapping[str, float]) -> list[str]:
        """Move the heartbeat of the owner's unfinished jobs and write how far they are (``progress``, by
        job id); the ids of those someone asked to cancel."""
        update = self._sql(f"UPDATE query_jobs SET heartbeat=? WHERE owner=? AND {UNFINISHED}")
        advance = self._sql(f"UPDATE query_jobs SET progress=? WHERE job_id=? AND owner=? AND {UNFINISHED}")
        select = self._sql(f"SELECT job_id FROM query_jobs WHERE owner=? AND {UNFINISHED} AND cancel_requested=1")

        def tx(conn: Any) -> list[str]:
            conn.execute(update, (now, owner))
            for job_id, done in progress.items():
                conn.execute(advance, (done, job_id, owner))
            return [str(r[0]) for r in conn.execute(select, (owner,)).fetchall()]
        return self._write(tx)

    def request_cancel(self, job_id: str) -> None:
        sql = self._sql(f"UPDATE query_jobs SET cancel_requested=1 WHERE job_id=? AND {UNFINISHED}")
        self._write(lambda conn: conn.execute(sql, (job_id,)))

    def end_orphans(self, now: float, stale_before: float, keep_owner: str, failed: Ending,
                    cancelled: Ending) -> list[str]:
        """End the unfinished jobs whose owner stopped beating before ``stale_before`` (or that have none:
        rows from before owners), but never ``keep_owner``'s: ``cancelled`` when someone asked to, else
        ``failed``. Returns their ids."""
        orphaned = f"{UNFINISHED} AND (heartbeat IS NULL OR heartbeat < ?) AND (owner IS NULL OR owner <> ?)"
        # a read first: this runs every few seconds, and almost always finds nothing to write
        probe = self._sql(f"SELECT 1 FROM query_jobs WHERE {orphaned} LIMIT 1")
        if self._read(lambda conn: conn.execute(probe, (stale_before, keep_owner)).fetchone()) is None:
            return []
        sql = self._sql(
            "UPDATE query_jobs SET finished=?, "
            "status=CASE WHEN cancel_requested=1 THEN ? ELSE ? END, "
            "error_code=CASE WHEN cancel_requested=1 THEN ? ELSE ? END, "
            "error_message=CASE WHEN cancel_requested=1 THEN ? ELSE ? END "
            f"WHERE {orphaned} RETURNING job_id")
        args = (now, cancelled.status, failed.status, cancelled.code, failed.code, cancelled.message,
                failed.message, stale_before, keep_owner)
        return self._write(lambda conn: [str(r[0]) for r in conn.execute(sql, args).fetchall()])
