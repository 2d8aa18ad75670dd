"""The shipping worker: reads the outbox, sends each version (bytes, metadata, tags, delete
markers) to its destination region, and removes a row only once the destination confirmed it.

Order: the rows of one key are shipped one after another in outbox order (a failure stops that
key's rows for this pass), keys in parallel. A destination that cannot be reached (or answers 5xx)
is backed off exponentially (0.2 s to 5 s) and its rows wait in the outbox, which survives restarts.
A destination that refuses (4xx: not allowed, no such bucket, versioning off) marks the version
FAILED and the row is dropped; failures are counted per rule. Signature refusals (the regions' copies
of the registry differ, or their clocks) are retried like an outage, so nothing is lost while an
operator mends the registry."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from nuage.core.bucket_config import read
from nuage.core.objects import ObjectService
from nuage.core.replication import ENABLED, REPLICATION, Rule, encode_wire, replicable, to_wire
from nuage.core.replication_consent import Consent, Source
from nuage.logthrottle import LogThrottle
from nuage.replication.app import PREFIX, RECORD_HEADER
from nuage.replication.client import HTTPClient, HTTPResponse, TransportError
from nuage.replication.locator import Locator
from nuage.replication.registry import RegionEntry, Registry
from nuage.replication.signing import sign
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import ObjectRecord
from nuage.storage.meta.replication import OP_PUT, OP_TAGS, OutboxRow
from nuage.types import BucketName

log = logging.getLogger("nuage.replication")

BATCH = 2000
LANES = 16
BACKOFF_MIN, BACKOFF_MAX = 0.2, 5.0
IDLE_WAIT = 5.0
MIN_PASS_GAP = 0.1
#: refusals that mean the registry differs between the regions (keys, clocks): retried until mended
#: a peer that is down, a failing outbox: one line per interval and kind (with how many were left out)
LOG_EVERY = 60.0
_throttle = LogThrottle(LOG_EVERY)


def _log(level: int, kind: str, message: str, *args: object, exc_info: BaseException | bool | None = None) -> None:
    """``message`` logged unless one of ``kind`` was less than :data:`LOG_EVERY` seconds ago."""
    left_out = _throttle.admit(kind)
    if left_out is None:
        return
    more = f" ({left_out} more since the last such line)" if left_out else ""
    log.log(level, message + more, *args, exc_info=exc_info)


AUTH_CODES = frozenset({"SignatureDoesNotMatch", "InvalidAccessKeyId", "RequestTimeTooSkewed"})


@dataclass
class RuleStats:
    shipped: int = 0
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=2000))
    last_shipped: float | None = None


class Retry(Exception):
    """The destination could not take the row now; try again later."""


class Shipper:
    def __init__(self, meta: MetadataStore, objects: ObjectService, registry: Registry, locator: Locator,
                 client: HTTPClient, lanes: int = LANES) -> None:
        self.meta = meta
        self.objects = objects
        self.registry = registry
        self.locator = locator
        self.client = client
        self.lanes = lanes
        self.consent = Consent(meta)
        self.stats: dict[tuple[str, str], RuleStats] = {}
        self.down: dict[str, tuple[float, float]] = {}   # region or "bucket:NAME" -> (retry at, backoff)
        self._region_of: dict[str, str] = {}                # destination bucket -> its region (last seen)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refetch = True
        self._partial = False
        # told (source bucket, bytes) of each version whose bytes were shipped (metering)
        self.on_shipped: Callable[[str, int], Awaitable[None]] | None = None

    # -- scheduling -----------------------------------------------------------------------------------
    # A key's rows go as one group, in outbox order, on one lane; a key is never on two lanes at once, so
    # its versions reach the destination in the source's order. Groups start as soon as a lane is free:
    # a commit that adds rows wakes the loop (notify), and so does a group that ends.
    def notify(self) -> None:
        """Called on the writer thread after a commit that added outbox rows."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._new_rows)

    def _new_rows(self) -> None:
        self._refetch = True
        self._wake.set()

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.meta.replication.set_notify(self.notify)
        self._refetch = True
        queue: deque[list[OutboxRow]] = deque()
        inflight: dict[tuple[str, str], asyncio.Task[bool]] = {}
        retry_at: float | None = None
        fetched = 0.0
        try:
            while True:
                self._wake.clear()
                if self._refetch:
                    if retry_at is not None:   # a destination is backing off: new rows do not each cause a fetch
                        await asyncio.sleep(max(0.0, fetched + MIN_PASS_GAP - time.monotonic()))
                    self._refetch = False
                    fetched = time.monotonic()
                    try:
                        queue = self._fetch(inflight)
                    except Exception:  # noqa: BLE001 - logged by _log; e.g. the database is busy: try again soon
                        _log(logging.ERROR, "outbox", "could not read the replication outbox", exc_info=True)
                        self._refetch = True
                        await asyncio.sleep(1.0)
                        continue
                retry_at = self._dispatch(queue, inflight)
                now = time.monotonic()
                timeout = IDLE_WAIT if retry_at is None else max(MIN_PASS_GAP, retry_at - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                if retry_at is not None and time.monotonic() >= retry_at:
                    self._refetch = True
        finally:
            self.meta.replication.set_notify(None)
            for task in inflight.values():
                task.cancel()

    def _fetch(self, inflight: dict[tuple[str, str], asyncio.Task[bool]]) -> deque[list[OutboxRow]]:
        """The waiting rows grouped by key in outbox order, except keys already on a lane."""
        rows = self.meta.replication.pending(BATCH)
        groups: dict[tuple[str, str], list[OutboxRow]] = {}
        self._partial = len(rows) == BATCH
        for row in rows:
            key = (row.bucket, row.key)
            if key in inflight:
                self._partial = True       # its later rows wait for that lane to end
                continue
            groups.setdefault(key, []).append(row)
        return deque(groups.values())

    def _dispatch(self, queue: deque[list[OutboxRow]], inflight: dict[tuple[str, str], asyncio.Task[bool]],
                  ) -> float | None:
        """Start groups on free lanes; returns when a backed-off destination may be tried again."""
        held: list[list[OutboxRow]] = []
        retry_at: float | None = None
        now = time.monotonic()
        while queue and len(inflight) < self.lanes:
            group = queue.popleft()
            blocked = self._blocked_until(group[0].dest_bucket, now)
            if blocked is not None:
                held.append(group)
                retry_at = blocked if retry_at is None else min(retry_at, blocked)
                continue
            key = (group[0].bucket, group[0].key)
            task = asyncio.create_task(self._group(group))
            inflight[key] = task
            task.add_done_callback(lambda t, k=key: self._ended(inflight, k, t))   # type: ignore[misc]
        queue.extendleft(reversed(held))
        if held and retry_at is None:
            retry_at = now + BACKOFF_MIN
        return retry_at

    def _ended(self, inflight: dict[tuple[str, str], asyncio.Task[bool]], key: tuple[str, str],
               task: asyncio.Task[bool]) -> None:
        inflight.pop(key, None)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            _log(logging.ERROR, "lane:" + type(error).__name__, "replication of %s/%s failed", key[0], key[1],
                 exc_info=error)
        if error is not None or not task.result() or self._partial:
            self._refetch = True       # rows left behind by this lane, or not fetched yet
        self._wake.set()

    def _blocked_until(self, dest_bucket: str, now: float) -> float | None:
        where = self._region_of.get(dest_bucket, "bucket:" + dest_bucket)
        down = self.down.get(where) or self.down.get("bucket:" + dest_bucket)
        return down[0] if down is not None and down[0] > now else None

    async def _group(self, rows: list[OutboxRow]) -> bool:
        """Ship a key's rows in order; False when one must wait (the rest wait behind it)."""
        for row in rows:
            try:
                await self.ship(row)
            except Retry:
                return False
            except Exception as exc:  # noqa: BLE001 - logged by _log; e.g. an unreadable blob: backed off
                _log(logging.ERROR, "row:" + type(exc).__name__, "replication of %s/%s (%s) failed", row.bucket,
                     row.key, row.version_id, exc_info=True)
                with contextlib.suppress(Retry):
                    await self._transient(row, None, f"{type(exc).__name__}: {exc}")
                return False
        return True

    # -- one row ------------------------------------------------------------------------------------
    async def ship(self, row: OutboxRow) -> None:
        """Ship one row and remove it, or mark it failed; raises Retry when it must wait."""
        rule = await self._rule(row.bucket, row.rule_id)
        if rule is None or rule.status != ENABLED or rule.destination_bucket != row.dest_bucket:
            # residency: without the rule that queued it, a version does not leave
            await self.meta.replication.failed(row, "The replication rule was removed or disabled before shipping.")
            return
        place = await self.locator.locate(row.dest_bucket)
        if place is None:
            await self._transient(row, None, f"destination bucket {row.dest_bucket} not found in any region")
            return
        region = self.registry.regions.get(place.region)
        if region is None:
            await self._transient(row, None, f"region {place.region} is not in the registry")
            return
        self._region_of[row.dest_bucket] = region.name
        at = self.down.get(region.name)
        if at is not None and at[0] > time.monotonic():
            raise Retry()
        rec = await self.meta.get_object(row.bucket, row.key, row.version_id)
        release = None if rec is None else self.objects.hold(rec)   # its bytes stay until shipped
        if rec is None or release is None:   # the version was removed before it could be shipped
            await self.meta.replication.done(row)
            return
        try:
            await self._ship_record(row, region, rec, rule)
        finally:
            release()

    async def _ship_record(self, row: OutboxRow, region: RegionEntry, rec: ObjectRecord, rule: Rule) -> None:
        reason = replicable(rec)
        if reason is not None:
            await self.meta.replication.failed(row, reason)
            return
        op = row.op
        source = await self._source(row.bucket, rule, same_region=region.name == self.registry.own.name)
        response = await self._send(region.name, region.endpoint, row.dest_bucket, rec, op, rule, source)
        if response is not None and response.status == 404 and op == OP_TAGS and _code(response) == "NoSuchVersion":
            op = OP_PUT
            response = await self._send(region.name, region.endpoint, row.dest_bucket, rec, OP_PUT, rule, source)
        if response is None or response.status >= 500 or response.status == 429 or _code(response) in AUTH_CODES:
            why = "unreachable" if response is None else f"HTTP {response.status} {_code(response)}"
            if response is not None:
                _log(logging.WARNING, "down:" + region.name, "replication to %s: %s; retrying with backoff",
                     region.name, why)
            await self._transient(row, region.name, f"{region.name}: {why}")
            return
        if self.down.pop(region.name, None) is not None and _throttle.forget("down:" + region.name):
            log.info("replication to %s: reachable again", region.name)
        self.down.pop("bucket:" + row.dest_bucket, None)
        if response.status >= 300:
            await self.meta.replication.failed(row, f"{region.name}: {_code(response)}: {_message(response)}")
            self.locator.forget(row.dest_bucket)
            return
        await self.meta.replication.done(row)
        if self.on_shipped is not None and op == OP_PUT and not rec.delete_marker:
            await self.on_shipped(row.bucket, rec.size)
        stats = self.stats.setdefault((row.bucket, row.rule_id), RuleStats())
        stats.shipped += 1
        stats.last_shipped = time.time()
        stats.lags.append(max(0.0, stats.last_shipped - row.created))

    async def _transient(self, row: OutboxRow, region: str | None, error: str) -> None:
        """Back off the destination (its region, or the bucket while it cannot be found) and raise Retry."""
        where = region if region is not None else "bucket:" + row.dest_bucket
        if region is None:
            self.locator.forget(row.dest_bucket)
        _, backoff = self.down.get(where, (0.0, BACKOFF_MIN / 2))
        backoff = min(BACKOFF_MAX, backoff * 2)
        self.down[where] = (time.monotonic() + backoff, backoff)
        await self.meta.replication.attempt_failed(row, error)
        raise Retry()

    async def _rule(self, bucket: str, rule_id: str) -> Rule | None:
        """The bucket's rule of that id now (the store caches the configuration exactly)."""
        config = await read(self.meta, bucket, REPLICATION)
        return next((r for r in config.rules if r.id == rule_id), None) if config is not None else None

    async def _source(self, bucket: str, rule: Rule, *, same_region: bool) -> Source:
        """The account that replicates: the source bucket's owner (the destination decides whether it
        agreed), with the configuration's Role and the rule's owner override."""
        config = await read(self.meta, bucket, REPLICATION)
        return await self.consent.source(await self.objects.bucket(BucketName(bucket)), same_region=same_region,
                                         role=config.role if config is not None else "", override=rule.owner_override,
                                         account=rule.account)

    async def _send(self, region: str, endpoint: str, dest_bucket: str, rec: ObjectRecord, op: str,
                    rule: Rule, source: Source) -> HTTPResponse | None:
        path = PREFIX + "apply/" + quote(dest_bucket)
        with_body = op == OP_PUT and not rec.delete_marker
        wire = to_wire(rec, op)
        if rule.storage_class:     # the storage class a rule gives its replicas (else the source's)
            wire["storage_class"] = rule.storage_class
        wire["source"] = source.to_wire()
        headers = {RECORD_HEADER: encode_wire(wire)}
        own = self.registry.own
        signed = sign("PUT", urlsplit(endpoint).netloc, path, headers, access_key=own.access_key,
                      secret_key=own.secret_key, region=region)

        def body() -> AsyncIterator[bytes]:
            return self.objects.stream(rec)

        try:
            return await self.client.request("PUT", endpoint + path, signed, body if with_body else None,
                                             rec.size if with_body else 0)
        except TransportError as exc:
            _log(logging.WARNING, "down:" + region, "replication to %s: %s; retrying with backoff", region, exc)
            return None

    # -- operators --------------------------------------------------------------------------------
    async def status(self) -> dict[str, object]:
        now = time.time()
        rules: dict[tuple[str, str], dict[str, object]] = {}

        def entry(bucket: str, rule: str, dest: str) -> dict[str, object]:
            return rules.setdefault((bucket, rule), {
                "bucket": bucket, "rule": rule, "destination": dest, "backlog": 0, "oldest_pending_seconds": None,
                "max_attempts": 0, "last_error": None, "failed": 0, "last_failure": None, "shipped": 0,
                "lag_p50_seconds": None, "lag_p99_seconds": None})

        for b_rec in await self.meta.list_buckets():
            config = await read(self.meta, b_rec.name, REPLICATION)
            for r in config.rules if config is not None else ():
                entry(b_rec.name, r.id, r.destination_bucket)["status"] = r.status
        for b in self.meta.replication.backlog():
            e = entry(b.bucket, b.rule_id, b.dest_bucket)
            e.update(backlog=b.pending, oldest_pending_seconds=round(now - b.oldest, 3) if b.oldest else None,
                     max_attempts=b.max_attempts, last_error=b.last_error)
        for f in self.meta.replication.failures():
            e = entry(f.bucket, f.rule_id, f.dest_bucket)
            e.update(failed=f.failed, last_failure=f.last_error)
        for (bucket, rule), s in self.stats.items():
            e = entry(bucket, rule, "")
            lags = sorted(s.lags)
            e.update(shipped=s.shipped,
                     lag_p50_seconds=round(lags[len(lags) // 2], 4) if lags else None,
                     lag_p99_seconds=round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 4) if lags else None)
        down = {r: round(max(0.0, at - time.monotonic()), 3) for r, (at, _) in self.down.items()}
        return {"region": self.registry.own.name, "rules": list(rules.values()),
                "destinations_backing_off": down}


def _code(response: HTTPResponse) -> str:
    try:
        return str(json.loads(response.body).get("code", ""))
    except (ValueError, AttributeError):
        return ""


def _message(response: HTTPResponse) -> str:
    try:
        return str(json.loads(response.body).get("message", ""))
    except (ValueError, AttributeError):
        return ""
