"""Usage over time for the console's charts: S3 requests counted per bucket as they arrive (the S3
application tells the meter the bucket of each request: one dictionary increment), and a sampler that
every ``interval`` seconds stores, per bucket, the bytes and objects stored and the requests counted
since the sample before (table ``usage_samples``, kept ``keep_seconds``)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from nuage.storage.meta.base import MetadataStore

log = logging.getLogger("nuage.console.usage")

KEEP_SECONDS = 31 * 24 * 3600
MAX_NAMES = 100_000        # distinct names counted per interval (requests for made-up buckets cannot grow it)


class RequestMeter:
    """Counts the requests that reach the S3 application, per bucket it addresses (``S3App.on_request``)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, bucket: str) -> None:
        counts = self.counts
        if bucket in counts or len(counts) < MAX_NAMES:
            counts[bucket] += 1

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
