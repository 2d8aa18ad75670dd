"""Bucket lifecycle: the rule model (validated, stored as JSON in bucket_configs), which rule applies
to an object and when it expires, and the background worker that enforces the rules.

No HTTP or XML here: the S3 handler turns the request document into ``Rule`` values and back.
Days are 86400 seconds and expiry times round up to the next midnight UTC, as on S3; a smaller
``day_seconds`` (a debug knob, like RGW's rgw_lc_debug_interval) makes a day that many seconds and
drops the rounding so tests can watch rules act.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from nuage.core.bucket_config import ConfigKind, read
from nuage.core.multipart import MultipartService
from nuage.core.objects import ObjectService
from nuage.errors import InvalidArgument, InvalidRequest, MalformedXML, NuageError
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import ObjectRecord
from nuage.types import BucketName, ObjectKey

log = logging.getLogger("nuage.lifecycle")

DAY = 86400.0
MAX_RULES = 1000
MAX_ID = 255
TRANSITION_CLASSES = ("GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE",
                      "GLACIER_IR")
_MIN_TRANSITION_DAYS = {"STANDARD_IA": 30, "ONEZONE_IA": 30}


# -- the model ------------------------------------------------------------------------------------
@dataclass
class Filter:
    """What a rule selects. ``form`` remembers how the client wrote it, so GET returns it alike:
    "legacy" (a Prefix beside the rule's actions), "none" (an empty Filter), "prefix", "tag",
    "gt", "lt" (one predicate), "and" or "multi" (several predicates without And)."""

    form: str = "legacy"
    prefix: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)
    size_gt: int | None = None
    size_lt: int | None = None

    def matches(self, key: ObjectKey, tags: dict[str, str] | None, size: int | None) -> bool:
        if not key.startswith(self.prefix):
            return False
        if self.tags and (tags is None or any(tags.get(k) != v for k, v in self.tags)):
            return False
        if self.size_gt is not None and (size is None or size <= self.size_gt):
            return False
        return not (self.size_lt is not None and (size is None or size >= self.size_lt))


@dataclass
class Transition:
    days: int | None = None
    date: str | None = None          # ISO 8601, midnight UTC
    storage_class: str = ""


@dataclass
class NoncurrentTransition:
    days: int = 0
    storage_class: str = ""
    newer_versions: int | None = None


@dataclass
class Rule:
    id: str
    status: str
    filter: Filter
    expiration_days: int | None = None
    expiration_date: str | None = None
    expired_object_delete_marker: bool | None = None
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None
    abort_days: int | None = None
    transitions: list[Transition] = field(default_factory=list)
    noncurrent_transitions: list[NoncurrentTransition] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return self.status == "Enabled"

    @property
    def has_noncurrent_expiration(self) -> bool:
        return self.noncurrent_days is not None or self.newer_noncurrent_versions is not None


def parse_date(text: str) -> str:
    """An Expiration or Transition Date: ISO 8601 at midnight UTC, returned normalised."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidArgument("'Date' must be in ISO 8601 format", argument="Date") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
        raise InvalidArgument("'Date' must be at midnight GMT", argument="Date")
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def date_timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def validate(rules: list[Rule]) -> list[Rule]:
    """Check a whole configuration as S3 does; gives rules without an ID a random one."""
    if not rules or len(rules) > MAX_RULES:
        raise MalformedXML()
    seen: set[str] = set()
    for rule in rules:
        if not rule.id:
            rule.id = uuid.uuid4().hex
        if len(rule.id) > MAX_ID:
            raise InvalidArgument("ID length should not exceed allowed limit of 255", argument="ID")
        if rule.id in seen:
            raise InvalidArgument("Rule ID must be unique. Found same ID for more than one rule", argument="ID")
        seen.add(rule.id)
        _validate_rule(rule)
    return rules


def _validate_rule(rule: Rule) -> None:
    if rule.status not in ("Enabled", "Disabled"):
        raise MalformedXML()
    keys = [k for k, _ in rule.filter.tags]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("Duplicate Tag Keys are not allowed.")
    f = rule.filter
    if f.size_gt is not None and f.size_lt is not None and f.size_gt >= f.size_lt:
        raise InvalidArgument("ObjectSizeGreaterThan must be less than ObjectSizeLessThan",
                              argument="ObjectSizeGreaterThan")
    if (f.size_gt is not None and f.size_gt < 0) or (f.size_lt is not None and f.size_lt <= 0):
        raise InvalidArgument("Object size filters must be positive", argument="ObjectSize")
    actions = (rule.expiration_days, rule.expiration_date, rule.expired_object_delete_marker,
               rule.noncurrent_days, rule.newer_noncurrent_versions, rule.abort_days)
    if all(a is None for a in actions) and not rule.transitions and not rule.noncurrent_transitions:
        raise InvalidRequest("At least one action needs to be specified in a rule")
    expiry = [v for v in (rule.expiration_days, rule.expiration_date, rule.expired_object_delete_marker)
              if v is not None]
    if len(expiry) > 1:
        raise MalformedXML()
    if rule.expiration_days is not None and rule.expiration_days <= 0:
        raise InvalidArgument("'Days' for Expiration action must be a positive integer", argument="Days")
    if rule.expired_object_delete_marker is not None and f.tags:
        raise InvalidRequest("ExpiredObjectDeleteMarker cannot be specified with tags.")
    if rule.noncurrent_days is not None and rule.noncurrent_days <= 0:
        raise InvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive "
                              "integer", argument="NoncurrentDays")
    if rule.newer_noncurrent_versions is not None:
        if rule.noncurrent_days is None:
            raise MalformedXML()
        if not 1 <= rule.newer_noncurrent_versions <= 100:
            raise InvalidArgument("'NewerNoncurrentVersions' must be a positive integer up to 100",
                                  argument="NewerNoncurrentVersions")
    if rule.abort_days is not None:
        if rule.abort_days <= 0:
            raise InvalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a "
                                  "positive integer", argument="DaysAfterInitiation")
        if f.tags or f.size_gt is not None or f.size_lt is not None:
            raise InvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
    _validate_transitions(rule)


def _validate_transitions(rule: Rule) -> None:
    classes: set[str] = set()
    kinds: set[str] = set()
    for t in rule.transitions:
        if (t.days is None) == (t.date is None):
            raise MalformedXML()
        if t.storage_class not in TRANSITION_CLASSES:
            raise MalformedXML()
        if t.storage_class in classes:
            raise InvalidRequest(f"'StorageClass' must be different for '{t.storage_class}' transitions.")
        classes.add(t.storage_class)
        kinds.add("days" if t.days is not None else "date")
        if t.days is not None:
            if t.days < 0:
                raise InvalidArgument("'Days' in Transition action must be nonnegative", argument="Days")
            floor = _MIN_TRANSITION_DAYS.get(t.storage_class, 0)
            if t.days < floor:
                raise InvalidArgument(f"'Days' in Transition action must be greater than or equal to {floor} "
                                      f"for storageClass '{t.storage_class}'", argument="Days")
            if rule.expiration_days is not None and rule.expiration_days <= t.days:
                raise InvalidArgument("'Days' in the Expiration action for filter must be greater than 'Days' "
                                      "in the Transition action", argument="Days")
    if len(kinds) > 1:
        raise InvalidRequest("Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule")
    if rule.transitions and rule.expiration_date is not None and "days" in kinds:
        raise InvalidRequest("Found mixed 'Date' and 'Days' based Expiration and Transition actions in "
                             "lifecycle rule")
    classes = set()
    for nt in rule.noncurrent_transitions:
        if nt.storage_class not in TRANSITION_CLASSES:
            raise MalformedXML()
        if nt.storage_class in classes:
            raise InvalidRequest(f"'StorageClass' must be different for '{nt.storage_class}' transitions.")
        classes.add(nt.storage_class)
        if nt.days < 0:
            raise InvalidArgument("'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative",
                                  argument="NoncurrentDays")
        if rule.noncurrent_days is not None and rule.noncurrent_days <= nt.days:
            raise InvalidArgument("'NoncurrentDays' in the NoncurrentVersionExpiration action must be greater "
                                  "than 'NoncurrentDays' in the NoncurrentVersionTransition action",
                                  argument="NoncurrentDays")


def dumps(rules: list[Rule]) -> str:
    return json.dumps([asdict(r) for r in rules])


def loads(text: str) -> list[Rule]:
    out: list[Rule] = []
    for raw in json.loads(text):
        f = raw.pop("filter")
        f["tags"] = [tuple(t) for t in f["tags"]]
        raw["transitions"] = [Transition(**t) for t in raw["transitions"]]
        raw["noncurrent_transitions"] = [NoncurrentTransition(**t) for t in raw["noncurrent_transitions"]]
        out.append(Rule(filter=Filter(**f), **raw))
    return out


#: A bucket's lifecycle rules.
LIFECYCLE: ConfigKind[list[Rule]] = ConfigKind("lifecycle", dumps, loads)


# -- when things expire --------------------------------------------------------------------------
def after_days(start: float, days: int, day_seconds: float) -> float:
    """``days`` after ``start``: on S3 rounded up to the next midnight UTC; plain with a debug day."""
    if day_seconds != DAY:
        return start + days * day_seconds
    return math.ceil((start + days * DAY) / DAY) * DAY


def current_expiry(rule: Rule, rec: ObjectRecord, day_seconds: float) -> float | None:
    """When the rule expires this current version, or None if it does not apply."""
    if not rule.enabled or rec.delete_marker or not rule.filter.matches(rec.key, rec.tags, rec.size):
        return None
    if rule.expiration_days is not None:
        return after_days(rec.last_modified, rule.expiration_days, day_seconds)
    if rule.expiration_date is not None:
        return date_timestamp(rule.expiration_date)
    return None


def expiration_of(rules: Iterable[Rule], rec: ObjectRecord, day_seconds: float) -> tuple[float, str] | None:
    """(expiry time, rule id) of the earliest expiration that applies to a current version."""
    best: tuple[float, str] | None = None
    for rule in rules:
        when = current_expiry(rule, rec, day_seconds)
        if when is not None and (best is None or when < best[0]):
            best = (when, rule.id)
    return best


def has_current_expiration(rules: Iterable[Rule]) -> bool:
    return any(r.enabled and (r.expiration_days is not None or r.expiration_date is not None) for r in rules)


# -- the worker ------------------------------------------------------------------------------------
@dataclass
class Report:
    expired: int = 0               # current versions removed or hidden behind a delete marker
    noncurrent: int = 0            # noncurrent versions removed
    markers: int = 0               # expired delete markers removed
    aborted: int = 0               # multipart uploads aborted

    def total(self) -> int:
        return self.expired + self.noncurrent + self.markers + self.aborted


class LifecycleWorker:
    def __init__(self, meta: MetadataStore, objects: ObjectService, multipart: MultipartService,
                 day_seconds: float = DAY) -> None:
        self.meta = meta
        self.objects = objects
        self.multipart = multipart
        self.day_seconds = day_seconds

    async def run_once(self, now: float | None = None) -> Report:
        report = Report()
        for b in await self.meta.list_buckets(None):
            try:
                rules = await read(self.meta, b.name, LIFECYCLE) or []
            except (ValueError, TypeError, KeyError):
                log.warning("lifecycle: unreadable configuration on bucket %s", b.name)
                continue
            for rule in rules:
                if not rule.enabled:
                    continue
                try:
                    await self.apply(b.name, rule, time.time() if now is None else now, report)
                except NuageError as exc:   # the bucket went away meanwhile, ...
                    log.info("lifecycle: rule %s on %s stopped: %s", rule.id, b.name, exc.message)
        return report

    async def apply(self, bucket: BucketName, rule: Rule, now: float, report: Report) -> None:
        if rule.abort_days is not None:
            await self._abort_uploads(bucket, rule, rule.abort_days, now, report)
        if (rule.expiration_days is None and rule.expiration_date is None
                and not rule.expired_object_delete_marker and not rule.has_noncurrent_expiration):
            return
        key_marker: str | None = None
        version_marker: str | None = None
        pending: list[ObjectRecord] = []
        while True:
            page = await self.objects.list_versions(bucket, rule.filter.prefix, "", key_marker, version_marker, 1000)
            for rec in page.versions:
                if pending and pending[0].key != rec.key:
                    await self._apply_key(bucket, rule, pending, now, report)
                    pending = []
                pending.append(rec)
            if not page.truncated:
                break
            key_marker, version_marker = page.next_key_marker, page.next_version_marker
        if pending:
            await self._apply_key(bucket, rule, pending, now, report)

    async def _apply_key(self, bucket: BucketName, rule: Rule, versions: list[ObjectRecord], now: float,
                         report: Report) -> None:
        """``versions``: every version of one key, newest first."""
        remaining = list(versions)
        if rule.has_noncurrent_expiration and rule.noncurrent_days is not None:
            kept = 0
            for i in range(1, len(versions)):
                rec, newer = versions[i], versions[i - 1]
                if rec.is_latest:
                    continue
                if not rec.delete_marker and not rule.filter.matches(rec.key, rec.tags, rec.size):
                    continue
                if rule.newer_noncurrent_versions is not None and kept < rule.newer_noncurrent_versions:
                    kept += 1
                    continue
                due = now >= after_days(newer.last_modified, rule.noncurrent_days, self.day_seconds)
                if due and await self._remove(bucket, rec):
                    remaining.remove(rec)
                    report.noncurrent += 1
        current = remaining[0] if remaining and remaining[0].is_latest else None
        if current is None:
            return
        if current.delete_marker:
            if len(remaining) != 1:
                return
            due = rule.expired_object_delete_marker is True or (
                rule.expiration_days is not None and not rule.filter.tags and now >= after_days(
                    current.last_modified, rule.expiration_days, self.day_seconds))
            if due and await self._remove(bucket, current):
                report.markers += 1
            return
        when = current_expiry(rule, current, self.day_seconds)
        if when is None or now < when:
            return
        try:
            await self.objects.delete(bucket, current.key, None, current.owner)
        except NuageError as exc:
            log.info("lifecycle: cannot expire %s/%s: %s", bucket, current.key, exc.message)
            return
        report.expired += 1

    async def _remove(self, bucket: BucketName, rec: ObjectRecord) -> bool:
        try:
            await self.objects.delete(bucket, rec.key, rec.version_id, rec.owner)
        except NuageError as exc:      # Object Lock keeps it, or it is gone already
            log.info("lifecycle: cannot remove %s/%s version %s: %s", bucket, rec.key, rec.version_id,
                     exc.message)
            return False
        return True

    async def _abort_uploads(self, bucket: BucketName, rule: Rule, days: int, now: float, report: Report) -> None:
        key_marker: str | None = None
        upload_marker: str | None = None
        due: list[tuple[ObjectKey, str]] = []
        while True:
            page = await self.multipart.list_uploads(bucket, rule.filter.prefix, "", key_marker, upload_marker,
                                                     1000)
            for up in page.uploads:
                if now >= after_days(up.initiated, days, self.day_seconds):
                    due.append((up.key, up.upload_id))
            if not page.truncated:
                break
            key_marker, upload_marker = page.next_key_marker, page.next_upload_marker
        for key, upload_id in due:
            try:
                await self.multipart.abort(bucket, key, upload_id)
            except NuageError:
                continue
            report.aborted += 1


async def run_forever(worker: LifecycleWorker, interval: float) -> None:
    while True:
        try:
            report = await worker.run_once()
            if report.total():
                log.info("lifecycle: expired %d, removed %d noncurrent versions and %d delete markers, "
                         "aborted %d uploads", report.expired, report.noncurrent, report.markers, report.aborted)
        except Exception:
            log.exception("lifecycle pass failed")
        await asyncio.sleep(interval)
