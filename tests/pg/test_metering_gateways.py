"""Metering with two gateways on one PostgreSQL database: the known workload of two tenants, its requests
spread over both gateways, is metered exactly (each gateway flushes its own counts; the upserts add up);
after both stop cleanly and start again an hour later (the metering clock moved forward), the storage
byte-hours of that hour are sampled from the committed state once (one gateway holds the sampling lease,
and an hour's sample is never written twice)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.metering import Tenant, days_around_now, metered, new_tenant, run_workload, without
from tests.support.postgres import PostgresCluster, PostgresMissing
from tests.support.server import NuageServer

FAST = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0"}
LATER = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0.2", "NUAGE_METER_CLOCK_OFFSET": "3600"}


def settle(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_two_gateways_meter_the_workload_exactly(pg: PostgresCluster, tmp_path: Path) -> None:
    url = pg.create_database()
    two = [NuageServer(tmp_path / "data", db=url, env=FAST).start() for _ in range(2)]
    try:
        a, b = run_workload(two)
        start, end = days_around_now()

        def exact(srv: NuageServer, tenant: Tenant) -> bool:
            return metered(srv, tenant, start, end) == tenant.expected

        settle(lambda: all(exact(srv, t) for srv in two for t in (a, b)))
        for srv in two:   # both gateways read the same totals
            for tenant in (a, b):
                assert metered(srv, tenant, start, end) == tenant.expected
    finally:
        codes = [s.stop() for s in two]
    assert codes == [0, 0], "".join(s.log() for s in two)

    two = [NuageServer(tmp_path / "data", db=url, env=LATER, port=s.port).start() for s in two]
    try:
        start, end = days_around_now(3600)

        def sampled() -> bool:
            return all(metered(two[0], t, start, end).get(bucket, {}).get("storage_byte_hours")
                       for t in (a, b) for bucket in t.stored)

        settle(sampled)
        time.sleep(1.0)   # more samples from both gateways' turns: the hour stays counted once
        for srv in two:
            for tenant in (a, b):
                counts = metered(srv, tenant, start, end)
                assert without(counts, "storage_byte_hours") == tenant.expected      # nothing lost by the stops
                assert {bucket: c["storage_byte_hours"] for bucket, c in counts.items()
                        if c["storage_byte_hours"]} == tenant.stored
    finally:
        codes = [s.stop() for s in two]
    assert codes == [0, 0], "".join(s.log() for s in two)


def test_counts_survive_a_database_outage(tmp_path: Path) -> None:
    """Flushes fail while PostgreSQL is stopped: the counts stay in memory and reach the store once it is back
    (its own PostgreSQL: stopping it must not disturb the other tests' cluster)."""
    try:
        cluster = PostgresCluster()
    except PostgresMissing as exc:
        pytest.fail(f"PostgreSQL is required: {exc}")
    cluster.start()
    try:
        srv = NuageServer(tmp_path / "data", db=cluster.create_database(),
                          env={"NUAGE_METER_FLUSH_INTERVAL": "0.5", "NUAGE_METER_SAMPLE_INTERVAL": "0"}).start()
        try:
            tenant = new_tenant(srv, "outage")
            bucket = f"out-{tenant.account_id}"
            s3 = srv.client(access_key=tenant.access_key, secret_key=tenant.secret_key)
            s3.create_bucket(Bucket=bucket)
            start, end = days_around_now()
            settle(lambda: metered(srv, tenant, start, end) == {bucket: Counter(requests_a=1)})
            s3.put_object(Bucket=bucket, Key="k", Body=b"o" * 300)
            cluster.pause()          # the next flushes fail; the PUT's counts wait in memory
            time.sleep(2.0)
            cluster.resume()
            expected = {bucket: Counter(requests_a=2, bytes_in=300)}
            settle(lambda: _quiet_metered(srv, tenant, start, end) == expected, timeout=30)
            assert metered(srv, tenant, start, end) == expected
            assert "metering flush postponed: the metadata database did not answer" in srv.log()
            assert srv.stop() == 0    # one line per outage, no traceback
        finally:
            if srv.proc is not None and srv.proc.poll() is None:
                srv.kill()
    finally:
        cluster.stop()


def _quiet_metered(srv: NuageServer, tenant: Tenant, start: str, end: str) -> object:
    try:
        return metered(srv, tenant, start, end)
    except AssertionError:   # the admin API's 503 while the gateway reconnects
        return None
