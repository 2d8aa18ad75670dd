"""SQL jobs: one SELECT over many stored objects, run by DuckDB on the blob files themselves.

Submitting checks everything before a job exists: one SELECT statement; every ``s3://`` reference
expanded, the caller allowed ``s3:ListBucket`` where it lists and ``s3:GetObject`` on every object it
reads, ``s3:PutObject`` on the destination when the result is saved as an object; the bytes to scan
within the limit. The job then runs in a worker thread on a DuckDB connection that may read exactly
those files (external access off, configuration locked), in a worker process of its own whose address
space is limited (memory) and which is killed at the time limit or when the job is cancelled. Its result
is a Parquet file in the data folder (at most ``max_result_bytes``, and within the account's quota, where
it counts as stored bytes), read back as JSON or CSV, or is written as a new object (CSV or Parquet).
Jobs are rows of ``query_jobs`` (migrations 0006, 0011 and 0012).

Several processes share the jobs (the gateways of one PostgreSQL database, the worker processes of a
gateway; one data folder): a job runs in the process it was submitted to, its owner, which moves the
row's heartbeat every ``heartbeat_seconds`` while it has unfinished jobs, and writes with it how far each
job is (its progress). Any process reads a job, its progress and its result (a file of the shared
folder); a cancellation asked for through another process is a flag in the row, which the owner reads on
its next heartbeat and acts on (it kills the job's DuckDB process). Jobs whose owner stopped beating
for ``orphan_seconds`` (a process killed, a machine gone) are ended by the recovery at start and by
``maintain``, which runs in one process of the cluster at a time and also removes expired results;
a job's scratch files are a folder of its own, removed with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuage.core.identities import Identity
from nuage.core.ingest import Integrity
from nuage.core.objects import ObjectAttrs, ObjectService
from nuage.core.quotas import Quotas
from nuage.core.select import frames
from nuage.core.select.engine import connect
from nuage.core.select.errors import Cancelled, SelectError
from nuage.core.select.process import POOL, Worker, error_of, json_of, timed_out
from nuage.core.select.source import LocalObject, local_object, verified_direct_path
from nuage.core.select.translate import sql_string
from nuage.core.select.work import Budget, JobWork, memory_exceeded, parse_size
from nuage.errors import NuageError
from nuage.logthrottle import LogThrottle
from nuage.query.errors import (
    BucketMissing,
    JobMissing,
    JobNotFinished,
    KeyMissing,
    NoDataNamed,
    NoResult,
    ObjectRefused,
    QuotaUsedUp,
    ScanLimitExceeded,
    TooManyObjects,
    json_error,
)
from nuage.query.refs import Reference, find_references, rewrite, single_select
from nuage.query.results import read_rows
from nuage.storage.meta.jobs import Ending, JobRecord, JobStore
from nuage.types import BucketName, ObjectKey

log = logging.getLogger("nuage.query")

#: (caller, action, bucket, key or None, condition keys) -> allowed
AccessCheck = Callable[[Identity, str, BucketName, ObjectKey | None, Mapping[str, Sequence[str]]], Awaitable[bool]]

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})
MAX_OBJECTS = 100_000
MAX_KEPT_JOBS = 100_000
LIST_PAGE = 1000
SCRATCH_DAYS = 1.0       # a scratch entry no job claims any more (a process killed mid-CSV) goes after this
INTERRUPTED = Ending(FAILED, "Interrupted", "The server that ran the job stopped while it ran.")
CANCELLED_ORPHAN = Ending(CANCELLED, "QueryCancelled", "The query was cancelled.")


@dataclass(frozen=True)
class Limits:
    max_bytes_scanned: int = 100 * 1024**3
    max_seconds: float = 600.0
    memory_limit: str = "2GB"
    threads: int | None = None
    concurrent_jobs: int = 2
    result_days: float = 7.0          # results kept with their job are removed after this many days
    max_result_bytes: int = 1024**3   # the Parquet result of one job
    max_temp_bytes: int = 10 * 1024**3   # what one job may spill to disk
    heartbeat_seconds: float = 2.0    # how often a process says it still runs its jobs (and reads cancels)
    orphan_seconds: float = 30.0      # a job whose process has not said so for this long is ended

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """$NUAGE_QUERY_MAX_BYTES, $NUAGE_QUERY_MAX_SECONDS, $NUAGE_QUERY_MEMORY (DuckDB syntax: 2GB),
        $NUAGE_QUERY_THREADS, $NUAGE_QUERY_CONCURRENCY, $NUAGE_QUERY_RESULT_DAYS,
        $NUAGE_QUERY_MAX_RESULT_BYTES, $NUAGE_QUERY_MAX_TEMP_BYTES, $NUAGE_QUERY_HEARTBEAT_SECONDS,
        $NUAGE_QUERY_ORPHAN_SECONDS; the defaults otherwise."""
        d = cls()
        threads = env.get("NUAGE_QUERY_THREADS")
        limits = cls(max_bytes_scanned=int(env.get("NUAGE_QUERY_MAX_BYTES", d.max_bytes_scanned)),
                     max_seconds=float(env.get("NUAGE_QUERY_MAX_SECONDS", d.max_seconds)),
                     memory_limit=env.get("NUAGE_QUERY_MEMORY", d.memory_limit),
                     threads=int(threads) if threads else None,
                     concurrent_jobs=int(env.get("NUAGE_QUERY_CONCURRENCY", d.concurrent_jobs)),
                     result_days=float(env.get("NUAGE_QUERY_RESULT_DAYS", d.result_days)),
                     max_result_bytes=int(env.get("NUAGE_QUERY_MAX_RESULT_BYTES", d.max_result_bytes)),
                     max_temp_bytes=int(env.get("NUAGE_QUERY_MAX_TEMP_BYTES", d.max_temp_bytes)),
                     heartbeat_seconds=float(env.get("NUAGE_QUERY_HEARTBEAT_SECONDS", d.heartbeat_seconds)),
                     orphan_seconds=float(env.get("NUAGE_QUERY_ORPHAN_SECONDS", d.orphan_seconds)))
        parse_size(limits.memory_limit)      # a bad value stops the start, not every job
        if not 0 < limits.heartbeat_seconds * 3 <= limits.orphan_seconds:
            # a live owner late by a beat or two must never look gone
            raise ValueError("NUAGE_QUERY_ORPHAN_SECONDS must be at least 3 heartbeats "
                             "(NUAGE_QUERY_HEARTBEAT_SECONDS, which must be positive)")
        return limits

    @property
    def budget(self) -> Budget:
        return Budget(parse_size(self.memory_limit), self.threads, self.max_temp_bytes)


@dataclass(frozen=True)
class Output:
    format: str                       # json | csv (to the caller); csv | parquet (as an object)
    bucket: BucketName | None = None
    key: ObjectKey | None = None

    @property
    def to_object(self) -> bool:
        return self.bucket is not None

    def as_json(self) -> str:
        return json.dumps({k: v for k, v in (("format", self.format), ("bucket", self.bucket),
                                              ("key", self.key)) if v is not None})


@dataclass
class _Running:
    worker: Worker | None = None
    cancelled: bool = False
    timed_out: bool = False
    progress: float = 0.0
    written: float | None = None      # the progress as the row has it (written with the heartbeat)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)   # set when cancelled


class QueryService:
    def __init__(self, store: JobStore, objects: ObjectService, may: AccessCheck, data_dir: Path,
                 limits: Limits | None = None) -> None:
        self.store = store
        self.objects = objects
        self.may = may
        self.limits = limits or Limits()
        self.root = data_dir / "query"
        self.results = self.root / "results"
        self.scratch = self.root / "scratch"
        for p in (self.results, self.scratch):
            p.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._running: dict[str, _Running] = {}
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._beating: asyncio.Task[None] | None = None
        self._reports = LogThrottle(60.0)
        # this process, as the owner of the jobs it runs (a pid alone repeats across machines and restarts)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.quotas = Quotas(objects.meta, self.results_bytes)
        # told (bucket, bytes) of the objects each job read, once its query completed (metering)
        self.on_scanned: Callable[[str, int], Awaitable[None]] | None = None

    def running(self) -> tuple[int, int]:
        """(jobs running, jobs waiting for a place to run) in this process (the metrics)."""
        running = sum(1 for state in self._running.values() if state.worker is not None)
        return running, len(self._running) - running

    # -- lifecycle ----------------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """End the unfinished jobs whose owner stopped beating ``orphan_seconds`` ago (a process that
        stopped or was killed), with their scratch files; never the jobs of a live process (another
        gateway, another worker). Returns their ids."""
        now = time.time()
        ended = self.store.end_orphans(now, now - self.limits.orphan_seconds, self.owner,
                                       INTERRUPTED, CANCELLED_ORPHAN)
        for job_id in ended:
            shutil.rmtree(self.scratch / job_id, ignore_errors=True)
            (self.results / f"{job_id}.parquet").unlink(missing_ok=True)   # a result half written
        return ended

    def expire_results(self) -> None:
        """Remove results kept longer than the limit, and scratch files no job claims any more (a CSV
        answer or a job's folder whose process was killed)."""
        now = time.time()
        cutoff = now - self.limits.result_days * 86400
        for path in self.results.glob("*.parquet"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
        # a job's folder is touched as long as it runs: at most max_seconds
        forgotten = now - max(SCRATCH_DAYS * 86400, 2 * self.limits.max_seconds)
        for path in self.scratch.iterdir():
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < forgotten:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()

    async def maintain(self) -> None:
        """Forever: end the jobs of processes gone (every heartbeat) and remove expired results (hourly).
        Work for one process of the cluster at a time (the server runs it under a lease)."""
        expired_at = 0.0
        while True:
            try:
                await asyncio.to_thread(self.recover)
                if time.time() - expired_at > 3600:
                    await asyncio.to_thread(self.expire_results)
                    expired_at = time.time()
            except Exception as exc:  # noqa: BLE001 - a database outage: the next round tries again
                self._report("upkeep", exc)
            await asyncio.sleep(self.limits.heartbeat_seconds)

    async def _beat(self) -> None:
        """While this process runs jobs: move their heartbeat, and stop those someone cancelled elsewhere."""
        try:
            while True:
                await asyncio.sleep(self.limits.heartbeat_seconds)
                if not self._running:
                    return
                moved = {job_id: state.progress for job_id, state in self._running.items()
                         if state.progress != state.written}
                try:
                    cancels = await asyncio.to_thread(self.store.beat, self.owner, time.time(), moved)
                except Exception as exc:  # noqa: BLE001 - a database outage: the next beat tries again
                    self._report("heartbeat", exc)
                    continue
                for job_id, done in moved.items():
                    if (state := self._running.get(job_id)) is not None:
                        state.written = done
                for job_id in cancels:
                    self._stop(job_id)
        finally:
            self._beating = None

    def _report(self, what: str, exc: Exception) -> None:
        """A failed round of background work, logged once a minute at most (it runs every few seconds)."""
        left_out = self._reports.admit(what)
        if left_out is not None:
            log.warning("SQL jobs %s failed (%d more since): %s: %s", what, left_out, type(exc).__name__, exc)

    def _stop(self, job_id: str) -> bool:
        """Cancel a job this process runs; False when it runs none of that id."""
        state = self._running.get(job_id)
        if state is None:
            return False
        state.cancelled = True
        state.stopped.set()
        if state.worker is not None:
            state.worker.kill()
        return True

    # -- submit -------------------------------------------------------------------------------------
    async def submit(self, caller: Identity, sql: str, output: Output,
                     conditions: Mapping[str, Sequence[str]]) -> JobRecord:
        text = single_select(sql)
        refs = find_references(text)
        if not refs:
            raise NoDataNamed("The query names no stored data: use 's3://bucket/key' "
                              "(wildcards allowed) in its FROM clause.")
        total, count = await self._expand(caller, refs, conditions)
        if total > self.limits.max_bytes_scanned:
            raise ScanLimitExceeded(f"The query would scan {total} bytes, more than the "
                                    f"limit of {self.limits.max_bytes_scanned}.")
        max_result, quota_bound = self.limits.max_result_bytes, False
        if output.to_object:
            assert output.bucket is not None and output.key is not None
            if not await self.may(caller, "s3:PutObject", output.bucket, output.key, conditions):
                raise ObjectRefused(f"Access denied: writing s3://{output.bucket}/{output.key}.")
        else:
            room = await self._quota_room(caller)
            if room is not None and room <= 0:
                raise QuotaUsedUp("The account's storage quota is used up (stored objects and "
                                  "kept SQL results): the result could not be kept.")
            if room is not None and room < max_result:
                max_result, quota_bound = room, True
        rec = JobRecord(job_id=secrets.token_hex(8), account_id=caller.account_id, principal=caller.arn,
                        sql=sql, status=QUEUED, created=time.time(), output=output.as_json(),
                        bytes_scanned=total, objects=count, owner=self.owner)
        rec.heartbeat = rec.created
        await asyncio.to_thread(self.store.put_job, rec)
        state = _Running()
        self._running[rec.job_id] = state
        if self._beating is None:
            self._beating = asyncio.create_task(self._beat())
        task = asyncio.create_task(self._run(rec, caller, text, refs, output, state,
                                                 (max_result, quota_bound)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return rec

    async def _expand(self, caller: Identity, refs: list[Reference],
                      conditions: Mapping[str, Sequence[str]]) -> tuple[int, int]:
        """Fill each reference's keys; (bytes, objects) to read. Raises AccessDenied naming the first
        object the caller may not read."""
        total = 0
        seen: set[tuple[str, str]] = set()
        for ref in refs:
            if await self.objects.meta.get_bucket(ref.bucket) is None:
                raise BucketMissing(f"The bucket {ref.bucket} does not exist.")
            if ref.has_wildcard:
                if not await self.may(caller, "s3:ListBucket", ref.bucket, None, conditions):
                    raise ObjectRefused(f"Access denied: listing s3://{ref.bucket}/.")
                marker: str | None = None
                while True:
                    page = await self.objects.list(ref.bucket, ref.prefix, "", marker, LIST_PAGE)
                    for obj in page.objects:
                        if ref.matches(obj.key):
                            ref.keys.append(obj.key)
                            if (ref.bucket, obj.key) not in seen:
                                total += obj.size
                    if not page.truncated or not page.objects:
                        break
                    marker = page.next_marker or page.objects[-1].key
                    if len(ref.keys) > MAX_OBJECTS:
                        raise TooManyObjects(f"A query reads at most {MAX_OBJECTS} objects.")
                if not ref.keys:
                    raise KeyMissing(f"No object matches s3://{ref.bucket}/{ref.pattern}.")
            else:
                rec = await self.objects.find(ref.bucket, ObjectKey(ref.pattern))
                if rec is None or rec.delete_marker:
                    if not await self.may(caller, "s3:ListBucket", ref.bucket, None, conditions):
                        # worded as the refusal of an existing object: no existence oracle
                        raise ObjectRefused(f"Access denied: reading s3://{ref.bucket}/{ref.pattern}.")
                    raise KeyMissing(f"The key s3://{ref.bucket}/{ref.pattern} does not exist.")
                ref.keys.append(ObjectKey(ref.pattern))
                if (ref.bucket, ref.pattern) not in seen:
                    total += rec.size
            for key in ref.keys:
                if (ref.bucket, key) in seen:
                    continue
                seen.add((ref.bucket, key))
                if not await self.may(caller, "s3:GetObject", ref.bucket, key, conditions):
                    raise ObjectRefused(f"Access denied: reading s3://{ref.bucket}/{key}.")
        return total, len(seen)

    # -- run ----------------------------------------------------------------------------------------
    async def _quota_room(self, caller: Identity) -> int | None:
        """Bytes the account may still store (objects and kept results), None without a quota."""
        quota = await self.quotas.account_quota(caller.account_id)
        if quota.max_bytes is None:
            return None
        return quota.max_bytes - await self.quotas.account_bytes(caller.account_id, caller.canonical_id)

    async def results_bytes(self, account_id: str) -> int:
        """Bytes of the results kept for the account's jobs."""
        recs = await asyncio.to_thread(self.store.list_jobs, account_id, MAX_KEPT_JOBS)

        def size() -> int:
            total = 0
            for r in recs:
                with contextlib.suppress(OSError):
                    total += (self.results / f"{r.job_id}.parquet").stat().st_size
            return total
        return await asyncio.to_thread(size)

    async def _run(self, rec: JobRecord, caller: Identity, sql: str, refs: list[Reference], output: Output,
                   state: _Running, result_limit: tuple[int, bool]) -> None:
        work = self.scratch / rec.job_id
        locals_: list[LocalObject] = []
        try:
            async with self._slot(state):
                rec.status, rec.started = RUNNING, time.time()
                await asyncio.to_thread(self.store.put_job, rec)
                work.mkdir(mode=0o700, parents=True, exist_ok=True)
                files: dict[tuple[str, str], str] = {}
                names: dict[str, str] = {}
                scanned: dict[str, int] = {}     # bucket -> bytes of the objects read
                for ref in refs:
                    for key in ref.keys:
                        if (ref.bucket, key) in files:
                            continue
                        obj = await self.objects.head(ref.bucket, key, None)
                        scanned[ref.bucket] = scanned.get(ref.bucket, 0) + obj.size
                        direct = await verified_direct_path(self.objects, obj)
                        if direct is not None:
                            files[(ref.bucket, key)] = str(direct)
                        else:
                            local = await local_object(self.objects, obj, None, work)
                            locals_.append(local)
                            files[(ref.bucket, key)] = str(local.path)
                        names[files[(ref.bucket, key)]] = f"s3://{ref.bucket}/{key}"
                result = self.results / f"{rec.job_id}.parquet"
                (work / "tmp").mkdir(mode=0o700, exist_ok=True)
                job = JobWork(rewrite(sql, refs, files), list(files.values()), str(result), str(work / "tmp"),
                              self.limits.budget, result_limit[0], names, [str(self.root.parent)],
                              quota_bound=result_limit[1])
                rows, columns = await self._execute(job, state)
                if self.on_scanned is not None:
                    for bucket, size in scanned.items():
                        await self.on_scanned(bucket, size)
                rec.rows, rec.columns = rows, json.dumps(columns)
                if output.to_object:
                    await self._save(caller, rec, result, output, work)
                    result.unlink(missing_ok=True)
                rec.status = SUCCEEDED
        except SelectError as exc:
            rec.status = CANCELLED if state.cancelled else FAILED
            rec.error_code, rec.error_message = json_error(exc)[0], exc.message
        except NuageError as exc:      # saving the result: QuotaExceeded, a bucket gone, a locked key...
            rec.status, rec.error_code, rec.error_message = FAILED, type(exc).__name__, exc.message
        except Exception:
            log.exception("SQL job %s failed", rec.job_id)
            # the details (which may name server files) go to the log only
            rec.status, rec.error_code, rec.error_message = FAILED, "InternalError", (
                "The job failed on an internal error; the server log has the details.")
        except asyncio.CancelledError:   # the server stops: it says so itself rather than leave an orphan
            rec.status, rec.error_code, rec.error_message = (
                INTERRUPTED.status, INTERRUPTED.code, INTERRUPTED.message)
            raise
        finally:
            rec.finished = time.time()
            if rec.status != SUCCEEDED:    # a result only a failed save left behind is no one's
                (self.results / f"{rec.job_id}.parquet").unlink(missing_ok=True)
            for local in locals_:
                local.release()
            shutil.rmtree(work, ignore_errors=True)
            await asyncio.to_thread(self.store.put_job, rec)
            state.done.set()
            self._running.pop(rec.job_id, None)

    @contextlib.asynccontextmanager
    async def _slot(self, state: _Running) -> AsyncIterator[None]:
        """One of the ``concurrent_jobs`` places to run in; Cancelled when the job is cancelled while it
        waits for one (it ends at once, not when a place frees up)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.concurrent_jobs)
        slots = self._slots
        take = asyncio.ensure_future(slots.acquire())
        stop = asyncio.ensure_future(state.stopped.wait())
        try:
            await asyncio.wait({take, stop}, return_when=asyncio.FIRST_COMPLETED)
            if state.cancelled:
                raise Cancelled("The query was cancelled.")
        except BaseException:
            take.cancel()    # a no-op once it took the place, which goes back then
            if take.done() and not take.cancelled():
                slots.release()
            raise
        finally:
            stop.cancel()
        try:
            yield
        finally:
            slots.release()

    async def _execute(self, job: JobWork, state: _Running) -> tuple[int, list[str]]:
        """Run the job in a worker process: (rows, columns) of its result file."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.max_seconds
        worker = await POOL.take()
        state.worker = worker
        try:
            if state.cancelled:
                raise Cancelled("The query was cancelled.")
            await worker.start(job)
            while True:
                try:
                    frame = await asyncio.wait_for(worker.recv(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    state.timed_out = True
                    raise timed_out(self.limits.max_seconds) from None
                if frame is None:
                    if state.cancelled:
                        raise Cancelled("The query was cancelled.")
                    raise memory_exceeded(job.budget)
                kind, payload = frame
                if kind == frames.PROGRESS:
                    state.progress = max(state.progress, min(100.0, float(json_of(payload)["progress"])))
                elif kind == frames.ERROR:
                    raise error_of(payload)
                elif kind == frames.DONE:
                    done = json_of(payload)
                    return int(done["rows"]), [str(c) for c in done["columns"]]
        finally:
            state.worker = None
            await worker.close()

    async def _save(self, caller: Identity, rec: JobRecord, result: Path, output: Output, work: Path) -> None:
        assert output.bucket is not None and output.key is not None
        path = result
        if output.format == "csv":
            path = work / "result.csv"
            await asyncio.to_thread(_parquet_to_csv, result, path)
        content_type = "text/csv" if output.format == "csv" else "application/vnd.apache.parquet"
        size = path.stat().st_size
        await self.objects.put(output.bucket, output.key, _file_chunks(path), Integrity(length=size),
                               ObjectAttrs(content_type=content_type), caller.canonical_id)

    # -- read ---------------------------------------------------------------------------------------
    async def job(self, caller: Identity, job_id: str) -> JobRecord:
        rec = await asyncio.to_thread(self.store.get_job, job_id)
        if rec is None or not _visible(caller, rec):
            raise JobMissing(f"There is no job {job_id}.")
        return rec

    async def jobs(self, caller: Identity, limit: int = 100) -> list[JobRecord]:
        recs = await asyncio.to_thread(self.store.list_jobs, caller.account_id, limit)
        return [r for r in recs if _visible(caller, r)]

    def progress(self, rec: JobRecord) -> float | None:
        """How far the unfinished job ``rec`` is, in percent: this process's own count for a job it runs;
        for another process's, what its owner wrote with its last heartbeat (the row ``rec`` was read
        from). None for a finished job."""
        state = self._running.get(rec.job_id)
        if state is not None:
            return state.progress
        return None if rec.status in FINAL else (rec.progress or 0.0)

    async def wait(self, job_id: str, timeout: float) -> None:
        state = self._running.get(job_id)
        if state is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.done.wait(), timeout)

    async def cancel(self, caller: Identity, job_id: str) -> JobRecord:
        """Cancel a job, whichever process runs it: at once here; elsewhere its owner stops it at its
        next heartbeat (within ``heartbeat_seconds``), and a job whose owner is gone is ended here.
        Returns the job once it ended, or as it is after ``cancel_wait`` seconds."""
        rec = await self.job(caller, job_id)
        if rec.status in FINAL:
            return rec
        if self._stop(job_id):
            await self.wait(job_id, 30.0)
            return await self.job(caller, job_id)
        await asyncio.to_thread(self.store.request_cancel, job_id)
        deadline = time.monotonic() + self.cancel_wait
        while True:
            if rec.heartbeat is None or rec.heartbeat < time.time() - self.limits.orphan_seconds:
                await asyncio.to_thread(self.recover)
            rec = await self.job(caller, job_id)
            if rec.status in FINAL or time.monotonic() > deadline:
                return rec
            await asyncio.sleep(0.1)

    @property
    def cancel_wait(self) -> float:
        """How long a cancellation through another process waits for the job to end: its owner's next
        heartbeat, the DuckDB process killed and the row written, with room to spare."""
        return 2 * self.limits.heartbeat_seconds + 10.0

    async def result(self, caller: Identity, job_id: str, max_rows: int) -> tuple[list[str], list[list[Any]]]:
        rec = await self.job(caller, job_id)
        path = self._result_path(rec)
        return await asyncio.to_thread(read_rows, path, max_rows)

    async def result_csv(self, caller: Identity, job_id: str) -> Path:
        rec = await self.job(caller, job_id)
        path = self._result_path(rec)
        out = self.scratch / f"{job_id}-{secrets.token_hex(4)}.csv"
        await asyncio.to_thread(_parquet_to_csv, path, out)
        return out

    def _result_path(self, rec: JobRecord) -> Path:
        if rec.status != SUCCEEDED:
            raise (JobNotFinished if rec.status not in FINAL else NoResult)(
                f"The job is {rec.status}; it has no result.")
        path = self.results / f"{rec.job_id}.parquet"
        with contextlib.suppress(OSError):   # expired, though the hourly removal did not come by yet
            if path.stat().st_mtime < time.time() - self.limits.result_days * 86400:
                path.unlink()
        if not path.exists():
            saved = "bucket" in json.loads(rec.output)
            raise NoResult("The result of this job was saved as an object." if saved else
                           f"The result of this job is no longer kept ({self.limits.result_days:g} days).")
        return path


def _visible(caller: Identity, rec: JobRecord) -> bool:
    return rec.account_id == caller.account_id and (caller.is_root or rec.principal == caller.arn)


def _parquet_to_csv(src: Path, dst: Path) -> None:
    conn = connect(memory_limit="512MB")
    try:
        conn.execute(f"COPY (SELECT * FROM read_parquet({sql_string(str(src))})) TO {sql_string(str(dst))} "
                     "(FORMAT CSV, HEADER true)")
    finally:
        conn.close()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, 1024 * 1024):
            yield chunk
