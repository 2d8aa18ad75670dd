"""Budgets on a real SQLite store with an injected clock: thresholds fire once per month and start afresh the
next month, a raised budget does not fire again, the amount rules, and the events' outbox (pending, then
marked as emitted once)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from nuage.billing.budgets import Budgets, InvalidBudget, NoSuchBudget, crossed, parse_amount
from nuage.billing.invoice import Month
from nuage.billing.prices import load as load_prices
from nuage.billing.service import Billing, Tenant
from nuage.storage.meta.metering import MeterRow
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

PRICES = """
currency = "EUR"
tax_rate = "0"
[storage]
price = "0"
[requests_a]
price = "100"
[requests_b]
price = "0"
[data_out]
price = "0"
[replication]
price = "0"
[scanned]
price = "0"
"""
ACCOUNT = "111122223333"
DECEMBER = Month(2026, 12)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[SQLiteMetadataStore, Budgets, Clock]]:
    (tmp_path / "prices.toml").write_text(PRICES)
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3")
    clock = Clock(DECEMBER.start + 10 * 86400)
    budgets = Budgets(store.budgets, Billing(store, store.invoices, load_prices(tmp_path / "prices.toml"),
                                             "eu-west-1", clock))
    yield store, budgets, clock
    store.close()


def _spend(store: SQLiteMetadataStore, at: float, requests: int) -> None:
    """``requests`` class A requests (0.10 each) metered in the hour of ``at``."""
    hour = int(at) // 3600 * 3600
    asyncio.run(store.add_meter_counts([MeterRow(ACCOUNT, "b", "eu-west-1", hour, "requests_a", requests)]))


def test_amounts() -> None:
    assert parse_amount("100") == Decimal("100.00") and parse_amount("0.5") == Decimal("0.50")
    assert parse_amount(7) == Decimal("7.00")
    for bad in ("-1", "0", "0.001", "1e2", "abc", "", "1,5", 1.5, None, True, "999999999999999"):
        with pytest.raises(InvalidBudget):
            parse_amount(bad)
    assert crossed(Decimal("0.79"), Decimal("1")) == []
    assert crossed(Decimal("0.80"), Decimal("1")) == [80]
    assert crossed(Decimal("1.00"), Decimal("1")) == [80, 100]


def test_thresholds_fire_once_a_month(setup: tuple[SQLiteMetadataStore, Budgets, Clock]) -> None:
    store, budgets, clock = setup
    assert asyncio.run(budgets.put(ACCOUNT, "1.00"))["currency"] == "EUR"
    _spend(store, clock.now, 8)    # 0.80
    fired = asyncio.run(budgets.evaluate())
    assert [(e.month, e.threshold, e.spent, e.budget) for e in fired] == [("2026-12", 80, "0.80", "1.00")]
    assert asyncio.run(budgets.evaluate()) == []
    asyncio.run(budgets.put(ACCOUNT, "50"))   # raised above the spend, then lowered: nothing fires again
    assert asyncio.run(budgets.evaluate()) == []
    asyncio.run(budgets.put(ACCOUNT, "1.00"))
    assert asyncio.run(budgets.evaluate()) == []
    _spend(store, clock.now, 3)    # 1.10
    assert [e.threshold for e in asyncio.run(budgets.evaluate())] == [100]
    assert asyncio.run(budgets.evaluate()) == []
    # January starts afresh: nothing spent yet, then 1.00 at once fires both
    clock.now = DECEMBER.end + 3600
    assert asyncio.run(budgets.evaluate()) == []
    _spend(store, clock.now, 10)
    assert [(e.month, e.threshold) for e in asyncio.run(budgets.evaluate())] == [("2027-01", 80), ("2027-01", 100)]
    events = asyncio.run(budgets.events(ACCOUNT))
    assert [(e["month"], e["threshold"]) for e in events] == [("2027-01", 100), ("2027-01", 80), ("2026-12", 100),
                                                              ("2026-12", 80)]
    status = asyncio.run(budgets.status(Tenant(ACCOUNT, "acme")))
    assert (status["month"], status["spent"], status["percent"]) == ("2027-01", "1.00", "100.0")
    assert [e["threshold"] for e in status["events"]] == [100, 80]


def test_outbox_and_removal(setup: tuple[SQLiteMetadataStore, Budgets, Clock]) -> None:
    store, budgets, clock = setup
    with pytest.raises(NoSuchBudget):
        asyncio.run(budgets.get(ACCOUNT))
    asyncio.run(budgets.put(ACCOUNT, "0.10"))
    _spend(store, clock.now, 1)
    fired = asyncio.run(budgets.evaluate())
    assert len(fired) == 2
    pending = store.budgets.pending()
    assert sorted(e.threshold for e in pending) == [80, 100] and all(e.emitted is None for e in pending)
    store.budgets.mark_emitted(pending[:1], clock.now + 5)
    assert [e.threshold for e in store.budgets.pending()] == [pending[1].threshold]
    store.budgets.mark_emitted(pending, clock.now + 9)   # the one marked before keeps its time
    assert store.budgets.pending() == []
    emitted = {e.threshold: e.emitted for e in store.budgets.events(ACCOUNT)}
    assert emitted == {pending[0].threshold: clock.now + 5, pending[1].threshold: clock.now + 9}
    assert asyncio.run(budgets.delete(ACCOUNT)) is True and asyncio.run(budgets.delete(ACCOUNT)) is False
    assert len(asyncio.run(budgets.events(ACCOUNT))) == 2   # the events stay
    assert asyncio.run(budgets.evaluate()) == []
