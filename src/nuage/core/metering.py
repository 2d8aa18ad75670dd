"""Metering: what each account uses, per bucket, region and UTC hour, for its bill (nuage.billing).

The hot path only adds to a dictionary in memory (:meth:`Meter.count`: one cell of counters per (owner,
bucket, hour), the hour computed again only when the clock passes into the next one); a background task
(:meth:`Meter.run_forever`) adds what was counted to the metadata store every ``interval`` seconds, in one
transaction (``MetadataStore.add_meter_counts``: an upsert that adds, so the flushes of every worker
process and gateway sum exactly), and once more when the server stops cleanly. A flush that fails (the
database down) puts its counts back and they go with the next one: nothing is lost but, after kill -9, what
was counted since the last flush (``interval`` seconds at most).

Counts are kept under the canonical id of the account they bill (a bucket's owner, as a bucket record
names it); the flush turns it into the account's 12-digit id (cached; read on a thread).

Storage is sampled by :class:`StorageSampler`, on one process of the cluster at a time: every ``interval``
seconds the bytes of every bucket (every object version, and the parts of unfinished multipart uploads)
are written as the current hour's ``storage_byte_hours`` unless that hour has a sample already; hours the
cluster missed (down, or no sample in them) are filled with the first sample after them, as if the bytes
had stayed as they are then (up to ``MAX_FILL_HOURS``).

:meth:`Meter.count` and :meth:`Meter.add` must be called on the event loop's thread (S3 requests, S3 Select
answers, SQL jobs and replication all count there): the dictionary needs no lock then. Another thread uses
:meth:`Meter.add_threadsafe`, which hands the count to the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from nuage.core.identities import account_id_for
from nuage.logthrottle import LogThrottle
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.metering import (
    BYTES_IN,
    BYTES_OUT,
    BYTES_REPLICATED,
    BYTES_SCANNED,
    HOUR,
    REQUESTS_A,
    REQUESTS_B,
    STORAGE_BYTE_HOURS,
    MeterRow,
)
from nuage.storage.meta.outage import unavailable_reason

__all__ = ["BYTES_IN", "BYTES_OUT", "BYTES_REPLICATED", "BYTES_SCANNED", "REQUESTS_A", "REQUESTS_B",
           "STORAGE_BYTE_HOURS", "Meter", "StorageSampler"]

log = logging.getLogger("nuage.metering")

MAX_FILL_HOURS = 31 * 24     # hours the sampler fills in after a gap, at most
MAX_KEYS = 200_000           # distinct keys counted between two flushes (beyond, a flush is asked for at once)

Key = tuple[str, str, int]    # (owner's canonical id, bucket or '', hour)
Clock = Callable[[], float]
_reports = LogThrottle(60.0)   # a database outage is reported once a minute, not at every flush
#: the counters of a cell, by index (storage_byte_hours is the sampler's, never counted in memory)
COUNTED = (REQUESTS_A, REQUESTS_B, BYTES_IN, BYTES_OUT, BYTES_REPLICATED, BYTES_SCANNED)
INDEX = {metric: i for i, metric in enumerate(COUNTED)}
A, B, IN, OUT, REPLICATED, SCANNED = range(len(COUNTED))
NONE = -1    # a request class that is not counted (DELETE)


class Meter:
    """Counts in memory, flushed to the metadata store in batches."""

    def __init__(self, meta: MetadataStore, region: str, *, clock: Clock = time.time,
                 interval: float = 10.0, enabled: bool = True) -> None:
        self.meta = meta
        self.region = region
        self.clock = clock
        self.interval = interval
        self.enabled = enabled
        self._counts: dict[Key, list[int]] = {}   # (owner, bucket, hour) -> counters, indexed as COUNTED
        self._hour = -1
        self._next_hour = float("-inf")      # the clock value where the cached hour ends
        self._accounts: dict[str, str] = {}  # canonical id -> 12-digit account id
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None   # the loop that counts and flushes
        self.flushes = 0                     # batches written (tests and the bench read it)

    def hour(self) -> int:
        """The start of the current UTC hour (seconds since the epoch), from the cached value while it lasts."""
        now = self.clock()
        if now >= self._next_hour or now < self._hour:
            self._hour = int(now // HOUR) * HOUR
            self._next_hour = self._hour + HOUR
        return self._hour

    def count(self, owner: str, bucket: str, klass: int, sent: int = 0, received: int = 0, scanned: int = 0) -> None:
        """One request for the account whose canonical id is ``owner``: its class (A, B or NONE) and its bytes
        out, in and scanned (event loop only). The hot path: one dictionary lookup."""
        now = self.clock()
        if now >= self._next_hour or now < self._hour:
            self.hour()
        key = (owner, bucket, self._hour)
        cell = self._counts.get(key)
        if cell is None:
            cell = self._new_cell(key)
        if klass >= 0:
            cell[klass] += 1
        if sent:
            cell[OUT] += sent
        if received:
            cell[IN] += received
        if scanned:
            cell[SCANNED] += scanned

    def _new_cell(self, key: Key) -> list[int]:
        cell = self._counts[key] = [0] * len(COUNTED)
        if len(self._counts) > MAX_KEYS:
            self._wake.set()
        return cell

    def add(self, owner: str, bucket: str, metric: str, value: int = 1) -> None:
        """Count ``value`` of ``metric`` for the account whose canonical id is ``owner`` (event loop only)."""
        if not self.enabled or value <= 0:
            return
        key = (owner, bucket, self.hour())
        cell = self._counts.get(key)
        if cell is None:
            cell = self._new_cell(key)
        cell[INDEX[metric]] += value

    def add_threadsafe(self, owner: str, bucket: str, metric: str, value: int = 1) -> None:
        """:meth:`add` from another thread: handed to the event loop that counts (no lock on the hot path)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the meter is not running (run_forever) on an event loop")
        loop.call_soon_threadsafe(self.add, owner, bucket, metric, value)

    async def add_to_bucket(self, bucket: str, metric: str, value: int) -> None:
        """Count ``value`` of ``metric`` for the owner of ``bucket`` (read through the store's bucket cache);
        nothing when the bucket no longer exists."""
        if not self.enabled or value <= 0:
            return
        rec = await self.meta.get_bucket(bucket)
        if rec is not None:
            self.add(rec.owner, bucket, metric, value)

    def pending(self) -> int:
        """Keys counted and not flushed yet."""
        return len(self._counts)

    async def flush(self) -> int:
        """Write what was counted in one transaction; on failure the counts go back (and the error is raised).
        Returns the number of rows written."""
        taken, self._counts = self._counts, {}
        if not taken:
            return 0
        try:
            rows = await self._rows(taken)
            await self.meta.add_meter_counts(rows)
        except BaseException:
            counts = self._counts          # counted meanwhile: added to what goes back
            for key, cell in taken.items():
                now = counts.get(key)
                counts[key] = cell if now is None else [x + y for x, y in zip(now, cell, strict=True)]
            raise
        self.flushes += 1
        return len(rows)

    async def _rows(self, counts: dict[Key, list[int]]) -> list[MeterRow]:
        owners = {owner for owner, _, _ in counts}
        missing = [o for o in owners if o not in self._accounts]
        if missing:
            self._accounts.update(await asyncio.to_thread(self._lookup, missing))
        accounts = self._accounts
        merged: dict[tuple[str, str, int, str], int] = {}
        for (owner, bucket, hour), cell in counts.items():
            for metric, value in zip(COUNTED, cell, strict=True):
                if value:
                    key = (accounts[owner], bucket, hour, metric)
                    merged[key] = merged.get(key, 0) + value
        return [MeterRow(account, bucket, self.region, hour, metric, value)
                for (account, bucket, hour, metric), value in merged.items()]

    def _lookup(self, owners: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for owner in owners:
            rec = self.meta.iam.account_by_canonical(owner)
            found[owner] = rec.account_id if rec is not None else account_id_for(owner)
        return found

    async def run_forever(self) -> None:
        """Flush every ``interval`` seconds (sooner when many keys were counted), and once more when cancelled
        (a clean stop: SIGTERM or SIGINT), so that a clean stop loses nothing. A flush is never cancelled
        half way (its write may commit all the same: SQLite's writer commits what was queued): a stop waits
        for the flush in flight, then writes what is left, so nothing is written twice."""
        self._loop = asyncio.get_running_loop()
        flushing: asyncio.Task[int] | None = None
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                self._wake.clear()
                flushing = asyncio.ensure_future(self.flush())
                try:
                    await asyncio.shield(flushing)
                except Exception as exc:  # noqa: BLE001 - logged (a traceback unless the database is down)
                    _failed("metering flush", exc, f"{self.pending()} counters kept for the next one")
        finally:
            if flushing is not None and not flushing.done():
                with contextlib.suppress(Exception):   # a failure put its counts back: the last flush has them
                    await asyncio.shield(flushing)
            await self._last_flush()

    async def _last_flush(self) -> None:
        for _ in range(3):
            try:
                await self.flush()
                return
            except Exception as exc:  # noqa: BLE001 - logged (a traceback unless the database is down)
                _failed("metering's last flush", exc, "trying again")
                await asyncio.sleep(0.5)
        if self._counts:
            log.error("metering: %d counts could not be written at shutdown", len(self._counts))


class StorageSampler:
    """Writes ``storage_byte_hours`` for every bucket, once per hour (run on one process of the cluster)."""

    def __init__(self, meta: MetadataStore, *, clock: Clock = time.time, interval: float = 600.0) -> None:
        self.meta = meta
        self.clock = clock
        self.interval = interval
        self._accounts: dict[str, str] = {}

    async def sample(self) -> int:
        """Sample the current hour (and fill the hours missed since the last sample); rows written."""
        hour = int(self.clock() // HOUR) * HOUR
        last = await self.meta.last_storage_sample()
        first = hour if last is None or last >= hour else max(last + HOUR, hour - MAX_FILL_HOURS * HOUR)
        buckets = await self.meta.storage_bytes()
        owners = [b.owner for b in buckets if b.owner not in self._accounts]
        if owners:
            self._accounts.update(await asyncio.to_thread(self._lookup, owners))
        hours = range(first, hour + HOUR, HOUR)
        rows = [MeterRow(self._accounts[b.owner], b.bucket, b.region, h, STORAGE_BYTE_HOURS, b.bytes)
                for h in hours for b in buckets if b.bytes > 0]
        return await self.meta.add_meter_samples(rows, list(hours))

    def _lookup(self, owners: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for owner in set(owners):
            rec = self.meta.iam.account_by_canonical(owner)
            found[owner] = rec.account_id if rec is not None else account_id_for(owner)
        return found

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception as exc:  # noqa: BLE001 - logged (a traceback unless the database is down)
                _failed("storage sample", exc, "the next sample fills the hours missed")
            await asyncio.sleep(self.interval)


def _failed(what: str, exc: Exception, then: str) -> None:
    """Log a failed flush or sample: one line (once a minute) when the database did not answer, else the
    traceback of what is a bug."""
    reason = unavailable_reason(exc)
    if reason is None:
        log.exception("%s failed (%s)", what, then)
        return
    left_out = _reports.admit(what)
    if left_out is not None:
        more = f"; {left_out} more since the last report" if left_out else ""
        log.warning("%s postponed: the metadata database did not answer (%s); %s%s", what, reason, then, more)
