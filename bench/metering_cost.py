"""What metering adds to one S3 request, measured alone (steadier than app_cost.py's off/on ratio on a busy
machine): ``nuage.s3.metering.record`` for a GetObject and a PutObject (the bucket owner from the request's
memo, one cell of counters), and for a PUT the counting of its body (one 4 KiB piece through
``nuage.s3.metering.counted``). Divide by app_cost.py's per-request CPU with metering off for the ratio.

    .venv/bin/python bench/metering_cost.py
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from nuage.core import memo
from nuage.core.metering import Meter
from nuage.s3 import metering
from nuage.s3.http import Request
from nuage.s3.router import Target, route
from nuage.storage.meta.records import BucketRecord
from nuage.types import BucketName, ObjectKey

N = 200_000


def request(method: str) -> Request:
    req = Request(method, "/bench/k", "", {}, {}, [], BucketName("bench"), ObjectKey("k"), "", "http",
                  receive=None)  # type: ignore[arg-type]
    req.operation = route(method, Target.OBJECT, {}, {"content-length": "4096"} if method == "PUT" else {})
    return req


def best_of(run: Any, rounds: int = 7) -> float:
    """Microseconds per call, the quickest of ``rounds`` runs of N calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best / N * 1e6


async def one_piece() -> AsyncIterator[bytes]:
    yield b"x" * 4096


async def bodies(req: Request, wrap: bool) -> None:
    for _ in range(N):
        body = metering.counted(req, one_piece()) if wrap else one_piece()
        async for _chunk in body:
            pass


def main() -> None:
    meter = Meter(None, "us-east-1")  # type: ignore[arg-type]   # never flushed here
    memo.begin_request()
    memo._BUCKETS.get()["bench"] = BucketRecord(BucketName("bench"), "owner", "us-east-1", 0.0)  # type: ignore[index]
    get, put = request("GET"), request("PUT")
    put.received = 4096

    def records(req: Request, sent: int) -> None:
        for _ in range(N):
            metering.record(meter, req, 200, sent)

    print(f"record(GetObject):  {best_of(lambda: records(get, 4096)):.2f} us")
    print(f"record(PutObject):  {best_of(lambda: records(put, 0)):.2f} us")
    plain = best_of(lambda: asyncio.run(bodies(put, False)), 3)
    counted = best_of(lambda: asyncio.run(bodies(put, True)), 3)
    print(f"a 4 KiB body counted: {counted - plain:.2f} us more than read as is")


if __name__ == "__main__":
    main()
