"""Usage over time for the console's charts: S3 requests counted per bucket as they arrive (an ASGI
wrapper in front of the S3 application: one dictionary increment per request), and a sampler that every
``interval`` seconds stores, per bucket, the bytes and objects stored and the requests counted since the
sample before (table ``usage_samples``, kept ``keep_seconds``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

from nuage.asgi import ASGIApp, scope_header
from nuage.storage.meta.base import MetadataStore

log = logging.getLogger("nuage.console.usage")

KEEP_SECONDS = 31 * 24 * 3600
MAX_NAMES = 100_000        # distinct names counted per interval (requests for made-up buckets cannot grow it)


class RequestMeter:
    """Counts the HTTP requests that reach the S3 application, per bucket (path style or virtual host)."""

    def __init__(self, app: ASGIApp, domains: Sequence[str] = ()) -> None:
        self.app = app
        self.suffixes = tuple("." + d for d in domains if d)
        self.counts: Counter[str] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            bucket = self._bucket(scope)
            if bucket and (bucket in self.counts or len(self.counts) < MAX_NAMES):
                self.counts[bucket] += 1
        await self.app(scope, receive, send)

    def _bucket(self, scope: dict[str, Any]) -> str:
        if self.suffixes:
            host = scope_header(scope, b"host").rsplit(":", 1)[0]
            for suffix in self.suffixes:
                if host.endswith(suffix) and len(host) > len(suffix):
                    return host[: -len(suffix)]
        path = str(scope.get("path", ""))
        return unquote(path[1:].partition("/")[0]).rpartition(":")[2] if len(path) > 1 else ""

    def take(self) -> Counter[str]:
        """The counts since the last call (and start again from zero)."""
        counts, self.counts = self.counts, Counter()
        return counts


class UsageSampler:
    def __init__(self, meta: MetadataStore, meter: RequestMeter, interval: float,
                 keep_seconds: int = KEEP_SECONDS) -> None:
        self.meta = meta
        self.meter = meter
        self.interval = interval
        self.keep_seconds = keep_seconds

    async def sample(self) -> int:
        now = int(time.time())
        requests = self.meter.take()
        rows = [(name, now, size, count, requests.get(name, 0))
                for name, size, count in await self.meta.bucket_usage_all()]
        await self.meta.add_usage_samples(rows, now - self.keep_seconds)
        return len(rows)

    async def run_forever(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:
                log.exception("usage sample failed")
            await asyncio.sleep(self.interval)
