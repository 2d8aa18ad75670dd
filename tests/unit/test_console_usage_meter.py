"""The console's request meter: which bucket a request counts for (path style, virtual host, RGW's
tenant:bucket form), a bound on the names it keeps, and take() starting again from zero."""

from __future__ import annotations

import asyncio
from typing import Any

from nuage.console import usage
from nuage.console.usage import RequestMeter


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    return None


def _call(meter: RequestMeter, path: str, host: str = "127.0.0.1:9000") -> None:
    scope = {"type": "http", "path": path, "headers": [(b"host", host.encode())]}
    asyncio.run(meter(scope, None, None))


def test_buckets_of_requests() -> None:
    meter = RequestMeter(_app, ["s3.example.com"])
    for path in ("/photos", "/photos/a/b.jpg", "/tenant:photos/x", "/docs%2Dold/k", "/"):
        _call(meter, path)
    _call(meter, "/key.txt", host="media.s3.example.com:9000")
    assert meter.take() == {"photos": 3, "docs-old": 1, "media": 1}
    assert meter.take() == {}


def test_the_names_kept_are_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(usage, "MAX_NAMES", 3)
    meter = RequestMeter(_app)
    for name in ("a", "b", "c", "d", "a"):
        _call(meter, f"/{name}/k")
    assert meter.take() == {"a": 2, "b": 1, "c": 1}
