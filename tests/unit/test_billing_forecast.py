"""The month's forecast (nuage.billing.forecast) on a real SQLite store: storage at its latest sampled hour's
rate for the rest of the month, requests and bytes at their pace so far, a closed month as it is."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.billing.forecast import forecast
from nuage.billing.invoice import Month
from nuage.billing.prices import GB
from nuage.billing.prices import load as load_prices
from nuage.storage.meta.metering import MeterRow
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

PRICES = """
currency = "USD"
tax_rate = "0"
[storage]
price = "1"
[requests_a]
price = "1"
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
APRIL = Month(2026, 4)   # 30 days: 720 hours


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteMetadataStore]:
    s = SQLiteMetadataStore(tmp_path / "meta.sqlite3")
    yield s
    s.close()


def test_forecast_of_a_month_under_way(store: SQLiteMetadataStore, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(PRICES)
    sheet = load_prices(tmp_path / "p.toml")
    start = APRIL.start
    rows = [MeterRow(ACCOUNT, "b", "r", start + h * 3600, "storage_byte_hours", GB) for h in range(140)]
    # the latest sampled hour holds 2 GB: from then on, 2 GB an hour
    rows.append(MeterRow(ACCOUNT, "b", "r", start + 140 * 3600, "storage_byte_hours", 2 * GB))
    rows.append(MeterRow(ACCOUNT, "b", "r", start + 3600, "requests_a", 3000))
    rows.append(MeterRow("999999999999", "x", "r", start + 3600, "requests_a", 10**6))   # another tenant
    asyncio.run(store.add_meter_counts(rows))
    now = start + 144 * 3600 + 1800          # 6 days and half an hour: a fraction of 144.5 / 720
    out = asyncio.run(forecast(store, ACCOUNT, sheet, APRIL, now))
    assert out["elapsed_fraction"] == "0.2007"
    # 140 GB-hours + 2 GB for hour 140 and each of the 579 hours after it
    assert out["usage"]["storage_byte_hours"] == (140 + 2 * 580) * GB
    assert out["usage"]["requests_a"] == round(3000 * 720 / 144.5)   # 14948
    lines = {line["metric"]: line for line in out["lines"]}
    assert lines["storage"]["quantity"] == "1.805556"                # 1300 / 720 GB-month
    assert lines["requests_a"]["amount"] == "14.95"
    assert out["total"] == "16.76" and "current rate" in out["method"]


def test_a_closed_month_is_its_own_forecast(store: SQLiteMetadataStore, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(PRICES)
    sheet = load_prices(tmp_path / "p.toml")
    asyncio.run(store.add_meter_counts([MeterRow(ACCOUNT, "b", "r", APRIL.start, "requests_a", 2000),
                                        MeterRow(ACCOUNT, "b", "r", APRIL.start, "storage_byte_hours", 720 * GB)]))
    out = asyncio.run(forecast(store, ACCOUNT, sheet, APRIL, APRIL.end + 86400))
    assert out["elapsed_fraction"] == "1.0000"
    assert out["usage"] == {"requests_a": 2000, "storage_byte_hours": 720 * GB}
    assert out["total"] == "3.00"
