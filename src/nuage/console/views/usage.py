"""The usage page: storage and requests per bucket over time (charts drawn by uPlot from JSON in the page),
and the current figures in a table. A user sees the buckets that ListBuckets shows them."""

from __future__ import annotations

import json
import time

from nuage.console import s3ops
from nuage.console.context import Ctx, Route
from nuage.console.http import Response

RANGES = {"1h": 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600, "30d": 30 * 24 * 3600}


async def usage_page(ctx: Ctx) -> Response:
    window = ctx.req.query.get("range", "24h")
    seconds = RANGES.get(window, RANGES["24h"])
    buckets = [b.name for b in await s3ops.list_buckets(ctx)]
    meta = ctx.console.meta
    now = int(time.time())
    rows = await meta.usage_samples(buckets, now - seconds)
    times = sorted({ts for _, ts, _, _, _ in rows})
    index = {ts: i for i, ts in enumerate(times)}
    storage: dict[str, list[int | None]] = {b: [None] * len(times) for b in buckets}
    requests: dict[str, list[int | None]] = {b: [None] * len(times) for b in buckets}
    for bucket, ts, size, _objects, count in rows:
        storage[bucket][index[ts]] = size
        requests[bucket][index[ts]] = count
    current = []
    for name in buckets:
        size, count = await meta.bucket_usage(name)
        total_requests = sum(c for b, _, _, _, c in rows if b == name)
        current.append({"name": name, "bytes": size, "objects": count, "requests": total_requests})
    # the charts' time axis is the window itself (one sample alone would otherwise set its span)
    data = {"start": now - seconds, "end": now, "times": times, "buckets": buckets,
            "storage": storage, "requests": requests}
    return ctx.render("usage.html", section="usage", current=current, window=window, ranges=list(RANGES),
                      samples=len(times), chart_json=json.dumps(data).replace("</", "<\\/"))


ROUTES = [Route("GET", r"/usage", usage_page)]
