"""Invoices computed from metered totals (nuage.billing.invoice): amounts worked out by hand, to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import pytest

from nuage.billing.invoice import Month, compute, split
from nuage.billing.prices import GB, loads

SHEET = loads("""
tax_rate = "0.0825"
[storage]
free = "10"
tiers = [{ upto = "100", price = "0.10" }, { upto = "1000", price = "0.05" }, { price = "0.01" }]
[requests_a]
free = "1000"
price = "0.005"
[requests_b]
price = "0.004"
[data_out]
free = "1"
price = "0.09"
[replication]
price = "0.02"
[scanned]
price = "0.002"
""")
NOV = Month(2026, 11)     # 30 days: 720 hours


class Total(NamedTuple):
    account_id: str
    bucket: str
    region: str
    metric: str
    value: int


def row(bucket: str, metric: str, value: int, region: str = "us-east-1") -> Total:
    return Total("111122223333", bucket, region, metric, value)


def gb_months(gb: int, month: Month = NOV) -> int:
    """The byte-hours of ``gb`` GB stored for the whole month."""
    return gb * GB * month.hours


def amounts(doc: dict[str, object], metric: str) -> list[tuple[str, str]]:
    return [(str(line["quantity"]), str(line["amount"])) for line in doc["lines"]   # type: ignore[attr-defined]
            if line["metric"] == metric]


def test_tiers_crossing_free_tier_and_rounding_by_hand() -> None:
    rows = [row("alpha", "storage_byte_hours", gb_months(1000)), row("beta", "storage_byte_hours", gb_months(500)),
            row("alpha", "requests_a", 2000), row("beta", "requests_a", 500),
            row("alpha", "requests_b", 12345), row("alpha", "bytes_out", GB + GB // 2),
            row("alpha", "bytes_in", 999)]
    doc = compute(rows, SHEET, NOV).as_dict()
    # storage 1,500 GB-month: 10 free, 90 x 0.10 = 9.00, 900 x 0.05 = 45.00, 500 x 0.01 = 5.00
    assert amounts(doc, "storage") == [("10", "0.00"), ("90", "9.00"), ("900", "45.00"), ("500", "5.00")]
    # 2,500 class A: 1,000 free, 1,500 x 0.005 / 1,000 = 0.0075 -> 0.01
    assert amounts(doc, "requests_a") == [("1000", "0.00"), ("1500", "0.01")]
    # 12,345 class B x 0.004 / 10,000 = 0.004938 -> 0.00
    assert amounts(doc, "requests_b") == [("12345", "0.00")]
    # 1.5 GB out: 1 free, 0.5 x 0.09 = 0.045 -> 0.05 (half up: half even would say 0.04)
    assert amounts(doc, "data_out") == [("1", "0.00"), ("0.5", "0.05")]
    assert amounts(doc, "replication") == [("0", "0.00")] and amounts(doc, "scanned") == [("0", "0.00")]
    # 59.00 + 0.01 + 0.05 = 59.06; tax 59.06 x 0.0825 = 4.87245 -> 4.87; total 63.93
    assert (doc["subtotal"], doc["tax_rate"], doc["tax"], doc["total"]) == ("59.06", "0.0825", "4.87", "63.93")
    # the storage amount 59.00 split 1000:500 -> 39.333.. and 19.666..: the last cent to the larger remainder
    shares = {(s["bucket"], s["metric"]): (s["quantity"], s["amount"]) for s in doc["buckets"]}  # type: ignore
    assert shares[("alpha", "storage")] == ("1000", "39.33") and shares[("beta", "storage")] == ("500", "19.67")
    # requests: 0.01 split 2000:500 -> alpha's 0.008 rounds up, beta's 0.002 does not
    assert shares[("alpha", "requests_a")] == ("2000", "0.01") and shares[("beta", "requests_a")] == ("500", "0.00")
    assert shares[("alpha", "data_out")] == ("1.5", "0.05") and ("alpha", "bytes_in") not in shares
    assert doc["usage"] == {"bytes_in": 999, "bytes_out": GB + GB // 2, "requests_a": 2500, "requests_b": 12345,
                            "storage_byte_hours": gb_months(1500)}
    line = doc["lines"][1]   # type: ignore[index]
    assert line == {"metric": "storage", "description": "Storage, first 100 GB-month", "quantity": "90",
                    "unit": "GB-month", "unit_price": "0.10", "per": 1, "amount": "9.00"}


def test_zero_usage_is_a_zero_invoice_with_every_metric() -> None:
    doc = compute([], SHEET, NOV).as_dict()
    assert [(line["metric"], line["quantity"], line["amount"]) for line in doc["lines"]] == [  # type: ignore
        ("storage", "0", "0.00"), ("requests_a", "0", "0.00"), ("requests_b", "0", "0.00"),
        ("data_out", "0", "0.00"), ("replication", "0", "0.00"), ("scanned", "0", "0.00")]
    assert (doc["subtotal"], doc["tax"], doc["total"], doc["buckets"]) == ("0.00", "0.00", "0.00", [])


def test_usage_within_the_free_tier_costs_nothing() -> None:
    doc = compute([row("a", "storage_byte_hours", gb_months(5)), row("a", "requests_a", 1000),
                   row("b", "bytes_out", GB)], SHEET, NOV).as_dict()
    assert amounts(doc, "storage") == [("5", "0.00")] and amounts(doc, "requests_a") == [("1000", "0.00")]
    assert amounts(doc, "data_out") == [("1", "0.00")] and doc["total"] == "0.00"
    assert {s["amount"] for s in doc["buckets"]} == {"0.00"}   # type: ignore[attr-defined]


def test_the_free_tier_counts_the_tenant_total_across_buckets_and_regions() -> None:
    # 0.6 GB out in each of two regions: 1.2 GB, 1 free, 0.2 x 0.09 = 0.018 -> 0.02, split 50/50 -> 0.01 each
    doc = compute([row("a", "bytes_out", GB * 6 // 10, "us-east-1"), row("b", "bytes_out", GB * 6 // 10, "eu-west-1")],
                  SHEET, NOV).as_dict()
    assert amounts(doc, "data_out") == [("1", "0.00"), ("0.2", "0.02")]
    assert [(s["bucket"], s["region"], s["amount"]) for s in doc["buckets"]] == [  # type: ignore[index]
        ("a", "us-east-1", "0.01"), ("b", "eu-west-1", "0.01")]


def test_tax_is_rounded_half_up_on_the_rounded_subtotal() -> None:
    sheet = loads(SHEET_TEXT_TAX_10)
    # 2.5 GB replicated x 0.02 = 0.05; tax 0.05 x 0.1 = 0.005 -> 0.01
    doc = compute([row("a", "bytes_replicated", GB * 5 // 2)], sheet, NOV).as_dict()
    assert (doc["subtotal"], doc["tax"], doc["total"]) == ("0.05", "0.01", "0.06")
    # lines are rounded one by one: two lines of 0.004 each would be 0.008 together, but are 0.00 + 0.00
    doc = compute([row("a", "bytes_scanned", 2 * GB), row("a", "bytes_replicated", GB // 5)], sheet, NOV).as_dict()
    assert amounts(doc, "scanned") == [("2", "0.00")] and amounts(doc, "replication") == [("0.2", "0.00")]
    assert doc["subtotal"] == "0.00"


SHEET_TEXT_TAX_10 = """
tax_rate = "0.1"
[storage]
price = "0.023"
[requests_a]
price = "0.005"
[requests_b]
price = "0.004"
[data_out]
price = "0.09"
[replication]
price = "0.02"
[scanned]
price = "0.002"
"""


def test_storage_gb_months_divide_by_the_hours_of_that_month() -> None:
    feb = Month(2026, 2)    # 28 days: 672 hours
    assert feb.hours == 672 and Month(2024, 2).hours == 696 and NOV.hours == 720
    # 1 GB for half of November is 0.5 GB-month; 1 GB for all of February is 1 GB-month
    half = compute([row("a", "storage_byte_hours", GB * 360)], loads(SHEET_TEXT_TAX_10), NOV).as_dict()
    assert amounts(half, "storage") == [("0.5", "0.01")]     # 0.5 x 0.023 = 0.0115 -> 0.01
    whole = compute([row("a", "storage_byte_hours", GB * 672)], loads(SHEET_TEXT_TAX_10), feb).as_dict()
    assert amounts(whole, "storage") == [("1", "0.02")]      # 0.023 -> 0.02
    # a third of a GB-month shows 6 decimals, while the amount comes from the exact quantity
    third = compute([row("a", "storage_byte_hours", GB * 240 * 1000)], loads(SHEET_TEXT_TAX_10), NOV).as_dict()
    assert amounts(third, "storage") == [("333.333333", "7.67")]   # 333.33.. x 0.023 = 7.6666.. -> 7.67


def test_a_huge_quantity_stays_exact() -> None:
    # 600 TB out for the month under the default AWS-like tiers: 100 GB free, then
    # (10,240 - 100) x 0.09 + 40,960 x 0.085 + 102,400 x 0.07 + (614,400 - 153,600) x 0.05
    from nuage.billing.prices import load

    doc = compute([row("a", "bytes_out", 600 * 1024 * GB)], load(), NOV).as_dict()
    expected = [("100", "0.00"), ("10140", "912.60"), ("40960", "3481.60"), ("102400", "7168.00"),
                ("460800", "23040.00")]
    assert amounts(doc, "data_out") == expected
    assert Decimal(doc["subtotal"]) == sum(Decimal(a) for _, a in expected)   # type: ignore[arg-type]


def test_split_adds_up_to_the_amount() -> None:
    parts = [(("a", "r"), Decimal(1)), (("b", "r"), Decimal(1)), (("c", "r"), Decimal(1))]
    assert split(Decimal("0.10"), parts) == [Decimal("0.04"), Decimal("0.03"), Decimal("0.03")]
    assert split(Decimal("0.00"), parts) == [Decimal("0.00")] * 3


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-01", "2026-00", "1969-12", "2026-01-01", ""])
def test_month_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)


def test_month_bounds() -> None:
    dec = Month.parse("2026-12")
    assert str(dec.next()) == "2027-01" and dec.end == Month(2027, 1).start
    assert Month.of(dec.start) == dec and Month.of(dec.end - 1) == dec and Month.of(dec.end) == Month(2027, 1)
