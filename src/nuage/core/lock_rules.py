"""S3 Object Lock rules: the bucket's lock configuration (default retention), per-version retention and
legal hold, and the rules that protect locked versions. No HTTP and no service here: ``ObjectService``
applies these rules on every write and delete, ``LockService`` (core/lock.py) on the Object Lock operations.

A version's lock state lives in its ``extra`` map: ``lock-mode`` (GOVERNANCE or COMPLIANCE) with
``lock-until`` (ISO 8601, millisecond precision, UTC), and ``legal-hold`` (ON or OFF). The bucket's
configuration is the ``object-lock`` bucket document (JSON); the bucket's ``object_lock`` flag says
whether Object Lock is enabled at all.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nuage.core.bucket_config import ConfigKind, read
from nuage.errors import AccessDenied, InvalidArgument, InvalidRequest, InvalidRetentionPeriod, MalformedXML
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.extra import Facts, StoredRetention, lock_entries
from nuage.storage.meta.records import BucketRecord, ObjectRecord

GOVERNANCE, COMPLIANCE = "GOVERNANCE", "COMPLIANCE"
MODES = (GOVERNANCE, COMPLIANCE)
HOLD_ON, HOLD_OFF = "ON", "OFF"
HOLD_STATUSES = (HOLD_ON, HOLD_OFF)

MAX_DAYS = 36500
MAX_YEARS = 100
DAY_MS = 86400 * 1000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

NOT_LOCK_BUCKET = "Bucket is missing Object Lock Configuration"
PROTECTED = "Access Denied because object protected by object lock."


@dataclass(frozen=True)
class DefaultRetention:
    mode: str
    days: int | None = None
    years: int | None = None

    def until(self, now_ms: int) -> int:
        if self.days is not None:
            return now_ms + self.days * DAY_MS
        assert self.years is not None
        start = _EPOCH + timedelta(milliseconds=now_ms)
        try:
            end = start.replace(year=start.year + self.years)
        except ValueError:  # 29 February
            end = start.replace(year=start.year + self.years, day=28)
        return _ms(end)


@dataclass(frozen=True)
class Retention:
    mode: str
    until: int            # epoch milliseconds

    def active(self, now_ms: int) -> bool:
        return self.until > now_ms


# -- values ----------------------------------------------------------------------------------------
def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ms(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def format_until(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_until(value: str) -> int | None:
    """An ISO 8601 date-time (``Z`` or an offset; no zone means UTC), truncated to milliseconds; None when
    it does not parse."""
    text = value.strip()
    if not text or "T" not in text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat in 3.11 takes 3 or 6 fraction digits only: normalise to 6
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        if not digits:
            return None
        text = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _ms(parsed)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise MalformedXML()
    return mode


def default_retention(mode: str, days: int | None, years: int | None) -> DefaultRetention:
    """Validate a DefaultRetention rule: a mode and exactly one of Days and Years, positive."""
    check_mode(mode)
    if (days is None) == (years is None):
        raise MalformedXML()
    period = days if days is not None else years
    assert period is not None
    if period <= 0:
        raise InvalidRetentionPeriod("Default retention period must be a positive integer value.")
    if (days is not None and days > MAX_DAYS) or (years is not None and years > MAX_YEARS):
        raise InvalidRetentionPeriod("Default retention period is too large.")
    return DefaultRetention(mode, days, years)


def retention_of(rec: ObjectRecord) -> Retention | None:
    stored = rec.facts.retention
    if stored is None:
        return None
    ts = parse_until(stored.until)
    return Retention(stored.mode, ts) if ts is not None else None


def legal_hold_of(rec: ObjectRecord) -> str | None:
    return rec.facts.legal_hold


def stored(retention: Retention | None) -> StoredRetention | None:
    return StoredRetention(retention.mode, format_until(retention.until)) if retention is not None else None


def lock_extra(retention: Retention | None, legal_hold: str | None) -> dict[str, str]:
    return lock_entries(stored(retention), legal_hold)


def new_version_lock(mode: str | None, until: str | None, legal_hold: str | None,
                     now: int | None = None) -> tuple[Retention | None, str | None]:
    """Validate the lock asked for by the headers of a write (PutObject, CopyObject, CreateMultipartUpload)."""
    now = now_ms() if now is None else now
    retention: Retention | None = None
    if (mode is None) != (until is None):
        raise InvalidArgument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be "
                              "supplied")
    if mode is not None and until is not None:
        if mode not in MODES:
            raise InvalidArgument("Unknown wormMode directive.", argument="x-amz-object-lock-mode")
        ts = parse_until(until)
        if ts is None:
            raise InvalidArgument("The retain until date must be provided in ISO 8601 format",
                                  argument="x-amz-object-lock-retain-until-date")
        if ts <= now:
            raise InvalidArgument("The retain until date must be in the future!",
                                  argument="x-amz-object-lock-retain-until-date")
        retention = Retention(mode, ts)
    if legal_hold is not None and legal_hold not in HOLD_STATUSES:
        raise InvalidArgument("Legal Hold must be either of 'ON' or 'OFF'", argument="x-amz-object-lock-legal-hold")
    return retention, legal_hold


# -- rules -----------------------------------------------------------------------------------------
def check_removable(rec: ObjectRecord, bypass_governance: bool, now: int | None = None) -> None:
    """Refuse to remove a version under legal hold, or under a retention that has not expired
    (GOVERNANCE gives way to a bypass)."""
    now = now_ms() if now is None else now
    if legal_hold_of(rec) == HOLD_ON:
        raise AccessDenied(PROTECTED)
    ret = retention_of(rec)
    if ret is not None and ret.active(now) and not (ret.mode == GOVERNANCE and bypass_governance):
        raise AccessDenied(PROTECTED)


def check_retention_change(current: Retention | None, new: Retention | None, bypass_governance: bool,
                           now: int | None = None) -> None:
    """COMPLIANCE retention can only be extended; GOVERNANCE retention can be extended freely and
    shortened, removed or changed in mode only with the bypass."""
    now = now_ms() if now is None else now
    if current is None or not current.active(now):
        return
    if current.mode == COMPLIANCE:
        if new is None or new.mode != COMPLIANCE or new.until < current.until:
            raise AccessDenied(PROTECTED)
        return
    loosened = new is None or new.mode != current.mode or new.until < current.until
    if loosened and not bypass_governance:
        raise AccessDenied(PROTECTED)


def check_lock_request(bucket: BucketRecord, extra: dict[str, str]) -> None:
    """A write that asks for a lock needs a bucket with Object Lock enabled."""
    if bucket.object_lock or not extra:
        return
    facts = Facts(extra)
    if facts.has_retention or facts.legal_hold is not None:
        raise InvalidRequest(NOT_LOCK_BUCKET)


async def new_version_extra(meta: MetadataStore, bucket: BucketRecord, extra: dict[str, str],
                            now: int | None = None) -> dict[str, str]:
    """``extra`` of a new version with its lock: the one asked for, else the bucket's default retention."""
    check_lock_request(bucket, extra)
    if not bucket.object_lock or Facts(extra).has_retention:
        return extra
    config = await read(meta, bucket.name, OBJECT_LOCK)
    rule = config.default if config is not None else None
    if rule is None:
        return extra
    now = now_ms() if now is None else now
    return {**extra, **lock_extra(Retention(rule.mode, rule.until(now)), None)}


# -- configuration ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LockConfig:
    """A bucket's Object Lock configuration (Object Lock is on) and its default retention, if any."""

    default: DefaultRetention | None = None


def _config_dumps(config: LockConfig) -> str:
    rule = config.default
    if rule is None:
        return json.dumps({})
    return json.dumps({"mode": rule.mode, "days": rule.days, "years": rule.years})


def _config_loads(doc: str) -> LockConfig:
    data = json.loads(doc) if doc else {}
    if not data.get("mode"):
        return LockConfig()
    return LockConfig(DefaultRetention(str(data["mode"]), data.get("days"), data.get("years")))


OBJECT_LOCK: ConfigKind[LockConfig] = ConfigKind("object-lock", _config_dumps, _config_loads)
