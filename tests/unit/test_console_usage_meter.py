"""The console's request meter: counts per bucket, a bound on the names it keeps, and take() starting
again from zero. Which bucket a request addresses (path style, virtual host, RGW's tenant:bucket form) is
the S3 application's to say: tests/api/test_usage_meter.py."""

from __future__ import annotations

from typing import Any

from nuage.console import usage
from nuage.console.usage import RequestMeter


def test_counts_per_bucket_and_take_starts_again() -> None:
    meter = RequestMeter()
    for name in ("photos", "photos", "docs-old", "photos"):
        meter.count(name)
    assert meter.take() == {"photos": 3, "docs-old": 1}
    assert meter.take() == {}


def test_the_names_kept_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(usage, "MAX_NAMES", 3)
    meter = RequestMeter()
    for name in ("a", "b", "c", "d", "a"):
        meter.count(name)
    assert meter.take() == {"a": 2, "b": 1, "c": 1}
