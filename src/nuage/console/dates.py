"""One date format for the whole console: ISO 8601 in UTC (``2026-12-07 21:40:05 UTC``) inside a
``<time datetime=...>`` element, whose title console.js sets to the reader's local time (shown on hover).
The values come as S3 and IAM timestamps (``2026-12-07T21:40:05.000Z``), HTTP dates (``Last-Modified``)
or seconds since the epoch."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from markupsafe import Markup, escape


def parse_date(value: float | str | None) -> datetime | None:
    """The instant ``value`` names, in UTC; None when it is empty or not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = value.strip()
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        try:
            found = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(UTC)


def when(value: float | str | None) -> Markup:
    """``value`` as ``<time datetime="2026-12-07T21:40:05Z">2026-12-07 21:40:05 UTC</time>``."""
    found = parse_date(value)
    if found is None:
        return escape(value or "")
    return Markup('<time datetime="{}">{}</time>').format(found.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                          found.strftime("%Y-%m-%d %H:%M:%S UTC"))
