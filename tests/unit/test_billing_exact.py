"""A line's amount is worked out from the exact quantity (nuage.billing.invoice), not from a 50-digit
decimal of it: 1,400 GB-hours in a month of 720 hours are 35/18 GB-month, at 0.018 exactly 0.035, rounded
half up to 0.04. Before, the quantity 1.9444...4 (rounded to 50 digits) times 0.018 gave 0.034999..., and
the line said 0.03."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

import pytest

from nuage.billing.invoice import Month, compute
from nuage.billing.prices import GB, loads

NOV = Month(2026, 11)     # 30 days: 720 hours


class Total(NamedTuple):
    account_id: str
    bucket: str
    region: str
    metric: str
    value: int


def sheet(storage: str) -> str:
    rest = "".join(f'[{section}]\nprice = "0"\n' for section in ("requests_a", "requests_b", "data_out",
                                                                 "replication", "scanned"))
    return f'tax_rate = "0"\n[storage]\n{storage}\n{rest}'


def storage_lines(prices: str, gb_hours: int) -> list[tuple[str, str]]:
    rows = [Total("111122223333", "bkt", "us-east-1", "storage_byte_hours", gb_hours * GB)]
    doc = compute(rows, loads(sheet(prices)), NOV).as_dict()
    return [(str(line["quantity"]), str(line["amount"])) for line in doc["lines"]  # type: ignore[attr-defined]
            if line["metric"] == "storage"]


@pytest.mark.parametrize(("price", "gb_hours", "amount"), [
    ("0.018", 1400, "0.04"),      # 35/18 x 0.018 = 0.035
    ("0.0168", 1500, "0.04"),     # 25/12 x 0.0168 = 0.035
    ("0.0024", 1500, "0.01"),     # 25/12 x 0.0024 = 0.005
    ("0.0165", 2400, "0.06"),     # 10/3 x 0.0165 = 0.055
])
def test_an_exact_half_cent_rounds_up(price: str, gb_hours: int, amount: str) -> None:
    exact = Fraction(gb_hours, 720) * Fraction(Decimal(price))
    assert exact * 100 - int(exact * 100) == Fraction(1, 2)       # the case: exactly half a cent over
    assert storage_lines(f'price = "{price}"', gb_hours)[0][1] == amount


def test_a_tier_band_is_exact_too() -> None:
    # 1,500 GB-hours = 25/12 GB-month: the first 1 at 0.01 (0.01), the other 13/12 at 0.024 (0.026 -> 0.03)
    lines = storage_lines('tiers = [{ upto = "1", price = "0.01" }, { price = "0.0240" }]', 1500)
    assert lines == [("1", "0.01"), ("1.083333", "0.03")]
    # a free part, then the band above it: 25/12 - 1 = 13/12 at 0.0060 = 0.0065 -> 0.01 (half up)
    assert storage_lines('free = "1"\nprice = "0.0060"', 1500) == [("1", "0.00"), ("1.083333", "0.01")]
