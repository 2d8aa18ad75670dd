"""Parsing and formatting of the timestamps used by the signing schemes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

from .errors import ClockSkewed, MissingRequestDate

__all__ = [
    "check_skew",
    "format_amz_date",
    "normalize_now",
    "parse_amz_date",
    "parse_http_date",
    "parse_request_date",
]


@lru_cache(maxsize=1024)   # a datetime is immutable; one value per second of requests
def parse_amz_date(value: str) -> datetime | None:
    """Parse ISO 8601 basic format ``YYYYMMDDTHHMMSSZ``; ``None`` when malformed."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        return None
    digits = value[0:8] + value[9:15]
    if not (digits.isascii() and digits.isdigit()):
        return None
    try:
        return datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def parse_http_date(value: str) -> datetime | None:
    """Parse an RFC 7231 / RFC 2822 date such as ``Fri, 24 May 2013 00:00:00 GMT``."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_request_date(value: str) -> datetime | None:
    """Parse an ``x-amz-date`` or ``Date`` value in either of the accepted formats."""
    value = value.strip()
    return parse_amz_date(value) or parse_http_date(value)


def format_amz_date(when: datetime) -> str:
    """Format an aware datetime as ISO 8601 basic (``20130524T000000Z``)."""
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def normalize_now(now: datetime) -> datetime:
    """Return ``now`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now


def check_skew(request_time: datetime, now: datetime, max_skew_seconds: int) -> None:
    """Raise ``RequestTimeTooSkewed`` when the request time is too far from ``now``
    (``AccessDenied`` for dates before the Unix epoch, which no clock produces)."""
    if request_time.year < 1970:
        raise MissingRequestDate("AWS authentication requires a valid Date or x-amz-date header")
    if abs(request_time - now) > timedelta(seconds=max_skew_seconds):
        raise ClockSkewed(
            "The difference between the request time and the current time is too large.",
            details={
                "RequestTime": format_amz_date(request_time),
                "ServerTime": format_amz_date(now),
                "MaxAllowedSkewMilliseconds": str(max_skew_seconds * 1000),
            },
        )
