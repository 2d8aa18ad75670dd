"""nuage.core.metering on a real SQLite store in a temporary folder: counts land in the UTC hour of their
clock (an injected clock crosses an hour and a month), flushes add up, a count from another thread reaches
the loop, and the sampler fills missed hours once."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from nuage.core.metering import BYTES_OUT, REQUESTS_A, Meter, StorageSampler
from nuage.core.metering import B as CLASS_B
from nuage.storage.meta.metering import MeterTotal
from nuage.storage.meta.records import BucketRecord
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.types import BucketName

MIDNIGHT = datetime(2027, 1, 1, tzinfo=UTC).timestamp()    # the 1st of a month


def test_counts_split_at_midnight_and_flushes_add_up(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    now = [MIDNIGHT - 0.5]
    meter = Meter(store, "us-east-1", clock=lambda: now[0])

    async def run() -> None:
        meter.count("owner-1", "bkt", CLASS_B, sent=100)
        meter.add("owner-1", "bkt", REQUESTS_A)
        await meter.flush()
        now[0] = MIDNIGHT + 0.5                      # the next month's first hour
        meter.count("owner-1", "bkt", CLASS_B, sent=7)
        await meter.flush()
        meter.count("owner-1", "bkt", CLASS_B, sent=3)   # a second flush of the same hour adds up
        await meter.flush()

    asyncio.run(run())
    account = store.iam.account_by_canonical("owner-1")
    assert account is None   # no such account: the 12-digit id derived from the canonical id
    december = asyncio.run(store.meter_totals(None, int(MIDNIGHT) - 31 * 86400, int(MIDNIGHT)))
    january = asyncio.run(store.meter_totals(None, int(MIDNIGHT), int(MIDNIGHT) + 86400))
    account_id = december[0].account_id
    assert december == [MeterTotal(account_id, "bkt", "us-east-1", BYTES_OUT, 100),
                        MeterTotal(account_id, "bkt", "us-east-1", REQUESTS_A, 1),
                        MeterTotal(account_id, "bkt", "us-east-1", "requests_b", 1)]
    assert january == [MeterTotal(account_id, "bkt", "us-east-1", BYTES_OUT, 10),
                       MeterTotal(account_id, "bkt", "us-east-1", "requests_b", 2)]
    store.close()


def test_a_count_from_another_thread_reaches_the_loop(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    meter = Meter(store, "us-east-1", clock=lambda: MIDNIGHT, interval=3600)

    async def run() -> None:
        task = asyncio.create_task(meter.run_forever())
        await asyncio.sleep(0)
        threads = [threading.Thread(target=meter.add_threadsafe, args=("o", "b", BYTES_OUT, 5)) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        await asyncio.sleep(0.05)
        task.cancel()                                 # the clean stop's last flush
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
    totals = asyncio.run(store.meter_totals(None, int(MIDNIGHT), int(MIDNIGHT) + 3600))
    assert [(t.metric, t.value) for t in totals] == [(BYTES_OUT, 100)]
    store.close()


def test_the_sampler_fills_the_hours_it_missed_once(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    now = [MIDNIGHT + 10]
    sampler = StorageSampler(store, clock=lambda: now[0])
    asyncio.run(store.create_bucket(BucketRecord(BucketName("full"), "o", "us-east-1", MIDNIGHT)))
    asyncio.run(store.create_bucket(BucketRecord(BucketName("empty"), "o", "us-east-1", MIDNIGHT)))
    # 1000 bytes stored in "full", as an object's commit keeps them in bucket_usage
    store._writer.run_sync(lambda conn: conn.execute(
        "INSERT INTO bucket_usage (bucket, bytes, objects) VALUES ('full', 1000, 1)"))
    assert asyncio.run(sampler.sample()) == 1         # the empty bucket writes no row
    assert asyncio.run(sampler.sample()) == 0         # the hour has its sample
    now[0] = MIDNIGHT + 3 * 3600 + 10                 # three hours later: the two between are filled
    assert asyncio.run(sampler.sample()) == 3
    rows = asyncio.run(store.meter_hours(None, int(MIDNIGHT), int(MIDNIGHT) + 86400))
    assert [(r.bucket, r.hour - int(MIDNIGHT), r.value) for r in rows] == [
        ("full", h * 3600, 1000) for h in range(4)]
    store.close()
