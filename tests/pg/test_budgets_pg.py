"""Budgets on PostgreSQL with two gateways: each 80% and 100% threshold fires exactly once per tenant and month.

Two gateways on one database and one data folder evaluate budgets every 0.2 s (once per cluster: the lease
holder; the other takes over when it dies). Besides them, the test runs the budget evaluation itself from two
stores of its own, at once and many times over (two processes that both think they evaluate, as after a lease
changed hands mid-pass), on metered counts written as the meters' flushes write them: the ON CONFLICT DO
NOTHING insert lets only one of them fire each threshold."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.billing.budgets import Budgets
from nuage.billing.prices import load as load_prices
from nuage.billing.service import Billing
from nuage.storage.meta.budgets import BudgetEvent
from nuage.storage.meta.metering import MeterRow
from nuage.storage.meta.postgres.store import PostgresMetadataStore
from tests.api.test_billing_api import PRICES, call, new_tenant
from tests.support.postgres import PostgresCluster, PostgresMissing
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


@pytest.fixture(scope="module")
def two(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NuageServer]]:
    url = pg.create_database()
    folder = tmp_path_factory.mktemp("budgets-pg")
    (folder / "prices.toml").write_text(PRICES)
    env = {"NUAGE_BUDGET_INTERVAL": "0.2", "NUAGE_METER_FLUSH_INTERVAL": "0.1", "NUAGE_METER_SAMPLE_INTERVAL": "0"}
    servers = [NuageServer(folder / "data", db=url, env=env, extra_args=["--prices", str(folder / "prices.toml")])
               .start() for _ in range(2)]
    yield servers
    codes = [s.stop() for s in servers]
    assert codes == [0, 0], "".join(s.log() for s in servers)


def _events(server: NuageServer, keys: tuple[str, str]) -> list[dict[str, object]]:
    resp = call(server, keys, "GET", "/billing/events")
    assert resp.status == 200, resp.body
    return list(resp.json()["events"])


def test_two_gateways_fire_each_threshold_once(two: list[NuageServer]) -> None:
    a = two[0]
    tenants = [new_tenant(a) for _ in range(3)]
    for i, t in enumerate(tenants):
        assert call(two[i % 2], t.keys, "PUT", "/billing/budget", {"amount": "1.00"}).status == 200
    for i, t in enumerate(tenants):   # 3 class A requests each (1.20), spread over both gateways
        bucket = f"pg-spend-{uuid.uuid4().hex[:10]}"
        t.s3.create_bucket(Bucket=bucket)
        s3_other = two[(i + 1) % 2].client(access_key=t.keys[0], secret_key=t.keys[1])
        s3_other.put_object(Bucket=bucket, Key="a", Body=b"a")
        t.s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(len(_events(a, t.keys)) >= 2 for t in tenants):
            break
        time.sleep(0.2)
    time.sleep(1.5)   # several more passes: nothing fires again
    for t in tenants:
        for gateway in two:   # both gateways show the same events
            events = _events(gateway, t.keys)
            assert sorted(int(str(e["threshold"])) for e in events) == [80, 100], events
    lines = [line for s in two for line in s.log().splitlines() if " reached " in line and "budget" in line
             and any(t.account_id in line for t in tenants)]
    assert len(lines) == 2 * len(tenants), lines


async def _race(url: str, accounts: list[str], sheet_file: Path) -> list[list[BudgetEvent]]:
    sheet = load_prices(sheet_file)
    stores = [PostgresMetadataStore(url) for _ in range(2)]
    try:
        services = [Budgets(s.budgets, Billing(s, s.invoices, sheet, "us-east-1")) for s in stores]
        hour = int(time.time()) // 3600 * 3600
        for account in accounts:   # 0.80 each: 80%
            await asyncio.to_thread(stores[0].budgets.put, account, "1.00", "USD", time.time())
            await stores[0].add_meter_counts([MeterRow(account, "race", "us-east-1", hour, "requests_a", 2)])
        rounds: list[list[BudgetEvent]] = []
        for _ in range(5):
            for fired in await asyncio.gather(*(svc.evaluate() for svc in services for _ in range(3))):
                rounds.append(fired)
        for account in accounts:   # 1.20 each: past 100%
            await stores[1].add_meter_counts([MeterRow(account, "race", "us-east-1", hour, "requests_a", 1)])
        for _ in range(5):
            for fired in await asyncio.gather(*(svc.evaluate() for svc in services for _ in range(3))):
                rounds.append(fired)
        return rounds
    finally:
        for s in stores:
            s.close()


def test_evaluations_racing_on_two_stores_fire_once(pg: PostgresCluster, tmp_path: Path) -> None:
    url = pg.create_database()
    (tmp_path / "prices.toml").write_text(PRICES)
    PostgresMetadataStore(url).close()   # migrated
    accounts = [f"{n:012d}" for n in range(100000000001, 100000000011)]
    rounds = asyncio.run(_race(url, accounts, tmp_path / "prices.toml"))
    fired = [e for r in rounds for e in r]
    assert sorted((e.account_id, e.threshold) for e in fired) == sorted(
        (a, t) for a in accounts for t in (80, 100)), json.dumps([list(e) for e in fired])

    async def stored() -> list[BudgetEvent]:
        store = PostgresMetadataStore(url)
        try:
            return await asyncio.to_thread(store.budgets.events, None, 1000)
        finally:
            store.close()

    rows = asyncio.run(stored())
    assert len(rows) == 2 * len(accounts)
    assert {(e.spent, e.threshold) for e in rows} == {("0.80", 80), ("1.20", 100)}


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL of this test's own: stopping it must not touch the other tests' databases."""
    try:
        cluster = PostgresCluster()
    except PostgresMissing as exc:
        pytest.fail(f"PostgreSQL is required: {exc}")
    cluster.start()
    yield cluster
    cluster.stop()


def test_billing_api_answers_503_while_the_database_is_down(own_cluster: PostgresCluster, tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text(PRICES)
    srv = NuageServer(tmp_path / "data", db=own_cluster.create_database(), env={"NUAGE_BUDGET_INTERVAL": "0.5"},
                      extra_args=["--prices", str(tmp_path / "prices.toml")]).start()
    operator = (ACCESS_KEY, SECRET_KEY)
    paths = [("GET", "/billing/usage"), ("GET", "/billing/invoices"), ("GET", "/billing/events"),
             ("GET", "/billing/preview")]
    try:
        assert call(srv, operator, "PUT", "/billing/budget", {"amount": "10.00"}).status == 200
        assert [call(srv, operator, m, p).status for m, p in paths] == [200] * len(paths)
        own_cluster.pause()
        try:
            during = [call(srv, operator, m, p) for m, p in [*paths, ("PUT", "/billing/budget")]]
            time.sleep(1.5)   # budget passes fail meanwhile, and say so
        finally:
            own_cluster.resume()
        assert [(r.status, r.code, r.headers.get("retry-after")) for r in during] == [
            (503, "ServiceUnavailable", "1")] * len(during), [r.body for r in during]
        deadline = time.monotonic() + 30
        while [call(srv, operator, m, p).status for m, p in paths] != [200] * len(paths):
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert call(srv, operator, "GET", "/billing/budget").json()["amount"] == "10.00"
    finally:
        srv.allow_faults = True   # the pools' reconnection warnings are logged, not tracebacks of requests
        srv.stop()
    log = srv.log()
    assert "internal error in the billing API" not in log
    assert "the metadata database did not answer" in log
    assert log.count("budget evaluation failed") <= 1   # one line a minute at most
