"""Metering (docs/metering.md) against a real server: a known workload of two tenants metered exactly
(`nuage admin usage TENANT --from --to --json` and the admin API), storage byte-hours from a sample of the
committed state, a month's end crossed with the metering clock moved forward, and what a clean stop and a
kill -9 lose."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nuage.cli.admin import AdminClient
from tests.support.metering import admin, days_around_now, metered, new_tenant, run_workload, without
from tests.support.regions import HANGZHOU, WEST, replicate, start_regions, versioned_bucket
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

FAST = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0"}


def wait_for(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert callable(check)
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_workload_is_metered_exactly_then_storage_byte_hours(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", env=FAST).start()
    try:
        a, b = run_workload([srv])
        start, end = days_around_now()
        wait_for(lambda: _check(metered(srv, a, start, end) == a.expected and
                                metered(srv, b, start, end) == b.expected))
        # the admin API says the same, hour by hour too; every tenant's rows without ?tenant=
        client = AdminClient(srv.endpoint, ACCESS_KEY, SECRET_KEY, srv.region)
        data = client.call("GET", f"/admin/usage/metered?tenant={a.account_id}&from={start}&to={end}&hourly=1")
        assert data["tenant"] == a.name and Counter(data["totals"]) == +a.totals()
        assert sum(h["value"] for h in data["hours"] if h["metric"] == "requests_a") == a.totals()["requests_a"]
        every = client.call("GET", f"/admin/usage/metered?from={start}&to={end}")
        assert {r["account_id"] for r in every["rows"]} >= {a.account_id, b.account_id}
        table = admin(srv, "usage", a.name, "--from", start, "--to", end)
        assert "requests_a" in table and "TOTAL" in table
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()
    # a restart an hour later (the metering clock moved forward) samples the committed state
    srv = NuageServer(tmp_path / "data", env={**FAST, "NUAGE_METER_SAMPLE_INTERVAL": "0.2",
                                              "NUAGE_METER_CLOCK_OFFSET": "3600"}, port=srv.port).start()
    try:
        start, end = days_around_now(3600)
        wait_for(lambda: _check(all(metered(srv, t, start, end)[bucket]["storage_byte_hours"]
                                    for t in (a, b) for bucket in t.stored)))
        for tenant in (a, b):
            counts = metered(srv, tenant, start, end)
            assert without(counts, "storage_byte_hours") == tenant.expected       # nothing lost by the stop
            assert {bucket: c["storage_byte_hours"] for bucket, c in counts.items()
                    if c["storage_byte_hours"]} == tenant.stored                # one hour of what is stored
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()


def _check(ok: object) -> None:
    assert ok


def test_a_month_end_splits_requests_and_byte_hours(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)).replace(day=1)
    lead = 8.0   # seconds of real time until the metering clock reaches midnight of the 1st
    offset = first.timestamp() - (time.time() + lead)
    midnight = time.monotonic() + lead
    srv = NuageServer(tmp_path / "data", env={"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL":
                                              "0.3", "NUAGE_METER_CLOCK_OFFSET": repr(offset)}).start()
    try:
        tenant = new_tenant(srv, "month")
        s3 = srv.client(access_key=tenant.access_key, secret_key=tenant.secret_key)
        bucket = f"mo-{tenant.account_id}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="a", Body=b"a" * 100)
        assert time.monotonic() < midnight - 1.5, "the server started too slowly for this test"
        time.sleep(max(0.0, midnight - time.monotonic()) + 1.5)   # past midnight, and its hour sampled
        s3.put_object(Bucket=bucket, Key="b", Body=b"b" * 200)
        s3.get_object(Bucket=bucket, Key="a")["Body"].read()
        last_month = (first - timedelta(days=1)).replace(day=1).date().isoformat()
        this_month, next_day = first.date().isoformat(), (first + timedelta(days=1)).date().isoformat()
        before = {bucket: Counter(requests_a=2, bytes_in=100, storage_byte_hours=100)}
        after = {bucket: Counter(requests_a=1, requests_b=1, bytes_in=200, bytes_out=100, storage_byte_hours=100)}
        wait_for(lambda: _check(metered(srv, tenant, last_month, this_month) == before and
                                metered(srv, tenant, this_month, next_day) == after))
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()


def test_a_clean_stop_loses_nothing_and_kill_9_at_most_the_flush_interval(tmp_path: Path) -> None:
    slow = {"NUAGE_METER_FLUSH_INTERVAL": "3600", "NUAGE_METER_SAMPLE_INTERVAL": "0"}
    srv = NuageServer(tmp_path / "data", env=slow).start()
    tenant = new_tenant(srv, "stop")
    bucket = f"st-{tenant.account_id}"
    start, end = days_around_now()

    def s3(server: NuageServer) -> object:
        return server.client(access_key=tenant.access_key, secret_key=tenant.secret_key)

    s3(srv).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    for i in range(5):
        s3(srv).put_object(Bucket=bucket, Key=f"k{i}", Body=b"z" * 10)  # type: ignore[attr-defined]
    assert metered(srv, tenant, start, end) == {}         # nothing flushed yet (an hour's interval)
    srv.proc.terminate()   # type: ignore[union-attr]  - SIGTERM: the clean path, the last flush
    assert srv.proc.wait(30) == 0   # type: ignore[union-attr]
    srv = NuageServer(tmp_path / "data", env=slow, port=srv.port).start()
    expected = {bucket: Counter(requests_a=6, bytes_in=50)}
    assert metered(srv, tenant, start, end) == expected
    for _ in range(3):
        s3(srv).get_object(Bucket=bucket, Key="k0")["Body"].read()  # type: ignore[attr-defined]
    srv.kill()   # kill -9 within the interval: those three are lost (at most one interval's worth)
    srv = NuageServer(tmp_path / "data", env={**slow, "NUAGE_METER_FLUSH_INTERVAL": "0.3"}, port=srv.port).start()
    assert metered(srv, tenant, start, end) == expected
    for _ in range(3):
        s3(srv).get_object(Bucket=bucket, Key="k0")["Body"].read()  # type: ignore[attr-defined]
    time.sleep(1.0)   # more than the interval: flushed before the kill
    srv.kill()
    srv = NuageServer(tmp_path / "data", env=slow, port=srv.port).start()
    assert metered(srv, tenant, start, end) == {bucket: Counter(requests_a=6, bytes_in=50, requests_b=3,
                                                                bytes_out=30)}
    assert srv.stop() == 0
    json.dumps(expected)


def test_two_worker_processes_on_sqlite_sum_exactly(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", env=FAST, workers=2).start()
    try:
        a, b = run_workload([srv])
        start, end = days_around_now()
        wait_for(lambda: _check(metered(srv, a, start, end) == a.expected and
                                metered(srv, b, start, end) == b.expected))
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()
    # SIGTERM to the parent of two workers: each worker's last flush writes what it counted
    srv = NuageServer(tmp_path / "data", env={**FAST, "NUAGE_METER_FLUSH_INTERVAL": "3600"}, workers=2,
                      port=srv.port).start()
    bucket = next(iter(a.stored))
    for _ in range(10):   # a connection each: the kernel spreads them over both workers
        s3 = srv.client(access_key=a.access_key, secret_key=a.secret_key)
        s3.head_object(Bucket=bucket, Key="k1")
        s3.head_object(Bucket=bucket, Key="k1")
    assert srv.proc is not None
    srv.close_clients()
    srv.proc.terminate()
    assert srv.proc.wait(30) == 0
    srv = NuageServer(tmp_path / "data", env=FAST, port=srv.port).start()
    try:
        a.count(bucket, "requests_b", 20)
        assert metered(srv, a, start, end) == a.expected
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()


def test_replicated_bytes_are_metered_for_the_source_bucket_owner(tmp_path: Path) -> None:
    regions = start_regions(tmp_path, {WEST: [HANGZHOU]}, env=FAST)
    try:
        hz, west = regions[HANGZHOU].client(), regions[WEST].client()
        src, dst = "meter-src", "meter-dst"
        versioned_bucket(hz, src, HANGZHOU)
        versioned_bucket(west, dst, WEST)
        replicate(hz, src, dst)
        for key, size in (("a", 300), ("b", 500), ("a", 200)):    # three versions shipped: 1000 bytes
            hz.put_object(Bucket=src, Key=key, Body=b"r" * size)
        hz.delete_object(Bucket=src, Key="b")                       # a delete marker: shipped, no bytes
        start, end = days_around_now()

        def replicated(region: str) -> dict[str, int]:
            client = AdminClient(regions[region].endpoint, ACCESS_KEY, SECRET_KEY, region)
            rows = client.call("GET", f"/admin/usage/metered?from={start}&to={end}")["rows"]
            return {r["bucket"]: r["value"] for r in rows if r["metric"] == "bytes_replicated"}

        def markers() -> int:
            return len(west.list_object_versions(Bucket=dst).get("DeleteMarkers", []))

        wait_for(lambda: _check(markers() == 1 and replicated(HANGZHOU) == {src: 1000}), timeout=30)
        assert replicated(WEST) == {}     # the destination receives, it does not ship
    finally:
        regions.stop()


def test_hours_missed_while_stopped_are_filled_by_the_next_sample(tmp_path: Path) -> None:
    env = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0.2"}
    srv = NuageServer(tmp_path / "data", env=env).start()
    tenant = new_tenant(srv, "gap")
    bucket = f"gap-{tenant.account_id}"
    s3 = srv.client(access_key=tenant.access_key, secret_key=tenant.secret_key)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"g" * 100)
    start, end = days_around_now()
    wait_for(lambda: _check(metered(srv, tenant, start, end).get(bucket, Counter())["storage_byte_hours"] == 100))
    assert srv.stop() == 0
    # three hours later (the clock moved on while the cluster was down): the hours between are filled
    srv = NuageServer(tmp_path / "data", env={**env, "NUAGE_METER_CLOCK_OFFSET": str(3 * 3600)}, port=srv.port).start()
    try:
        start, end = days_around_now(3 * 3600)
        wait_for(lambda: _check(metered(srv, tenant, start, end)[bucket]["storage_byte_hours"] == 400))
        client = AdminClient(srv.endpoint, ACCESS_KEY, SECRET_KEY, srv.region)
        hours = client.call("GET", f"/admin/usage/metered?tenant={tenant.name}&from={start}&to={end}&hourly=1")["hours"]
        samples = [h for h in hours if h["metric"] == "storage_byte_hours"]
        assert [h["value"] for h in samples] == [100] * 4
        assert len({h["hour"] for h in samples}) == 4
        time.sleep(0.6)   # later samples of the same hour add nothing
        assert metered(srv, tenant, start, end)[bucket]["storage_byte_hours"] == 400
        assert srv.stop() == 0
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.kill()
