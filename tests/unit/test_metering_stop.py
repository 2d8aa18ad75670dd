"""A clean stop that lands while a flush is writing (nuage.core.metering, on a real SQLite store): the
flush in flight finishes and is not written a second time by the last flush. Before, the cancelled flush
put its counts back although its write still committed (SQLite's writer commits a queued write whatever
its caller does), and the last flush wrote them again: a stop doubled the last interval's counts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from nuage.core.metering import REQUESTS_A, Meter
from nuage.core.metering import A as CLASS_A
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

HOUR0 = 1_800_000_000.0


def test_a_stop_during_a_flush_counts_once(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    meter = Meter(store, "us-east-1", clock=lambda: HOUR0, interval=0.05)
    release = threading.Event()

    def busy(_conn: object) -> None:     # holds the writer: the next flush's write waits behind it
        release.wait(10)

    async def run() -> None:
        holder = threading.Thread(target=store._writer.run_sync, args=(busy,))
        holder.start()
        task = asyncio.create_task(meter.run_forever())
        for _ in range(7):
            meter.count("owner-1", "bkt", CLASS_A)
        for _ in range(100):                 # the flush took the counts and waits for its write
            await asyncio.sleep(0.02)
            if meter.pending() == 0:
                break
        assert meter.pending() == 0
        await asyncio.sleep(0.1)
        task.cancel()                        # the clean stop, while that write is queued
        threading.Timer(0.2, release.set).start()
        await asyncio.gather(task, return_exceptions=True)
        holder.join()

    asyncio.run(run())
    totals = asyncio.run(store.meter_totals(None, int(HOUR0) - 3600, int(HOUR0) + 3600))
    assert [(t.metric, t.value) for t in totals] == [(REQUESTS_A, 7)]
    store.close()
