"""An invoice computed from one tenant's metered totals of one month and a price sheet: pure functions.

Rules (docs/billing.md):
- quantities are exact (fractions: a third of a GB-month is 1/3; a line keeps a Decimal of 50 significant
  digits): bytes / 2^30 for GB, byte-hours / 2^30 / the hours of the month for GB-months, counts for
  requests;
- each metric's free quantity and tiers apply to the tenant's monthly total (every bucket and region
  together); a metric gives one line per tier band it reaches (and one for its free part), or a single
  line of quantity 0 when it was not used;
- a line's amount is quantity x unit price / units priced, computed exactly (from the exact quantity:
  1/3 GB-month at 0.015 is 0.005, not 0.00499...), then rounded to cents
  (ROUND_HALF_UP) on its own; the subtotal is the sum of the rounded lines; the tax is the subtotal
  x the tax rate, rounded the same way; the total is subtotal + tax;
- the per-bucket detail splits each metric's amount (its rounded lines added) in proportion to each
  bucket's quantity, in cents, by the largest remainder (ties: by bucket, then region), so the shares
  of a metric add up to its amount exactly;
- quantities are shown with 6 decimals at most (ROUND_HALF_UP); amounts are computed from the exact ones.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from typing import Protocol

from nuage.billing.prices import GB, METRICS, Metric, MetricPrice, PriceSheet

CENT = Decimal("0.01")
SHOWN = Decimal("0.000001")
PRECISION = 50
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class MeterRow(Protocol):
    """One metered total (nuage's MeterTotal): a tenant's quantity of one metric in one bucket and region."""

    @property
    def account_id(self) -> str: ...
    @property
    def bucket(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def value(self) -> int: ...


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``YYYY-MM``; ValueError saying what is expected."""
        found = MONTH_RE.match(text)
        if found is None or int(found.group(1)) < 1970:
            raise ValueError(f"a month is written YYYY-MM (e.g. 2026-01), got {text!r}")
        return cls(int(found.group(1)), int(found.group(2)))

    @classmethod
    def of(cls, ts: float) -> Month:
        when = datetime.fromtimestamp(ts, UTC)
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> int:
        """The first second of the month (epoch seconds, UTC)."""
        return calendar.timegm((self.year, self.month, 1, 0, 0, 0))

    @property
    def end(self) -> int:
        """The first second of the next month."""
        return self.next().start

    @property
    def hours(self) -> int:
        return (self.end - self.start) // 3600

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)


def _context() -> Context:
    return Context(prec=PRECISION, rounding=ROUND_HALF_UP)


def quantity(metric: Metric, value: int, month: Month) -> Decimal:
    """A metered value in the metric's unit, exact to 50 digits."""
    with localcontext(_context()):
        if metric.unit == "GB-month":
            return Decimal(value) / GB / month.hours
        if metric.unit == "GB":
            return Decimal(value) / GB
        return Decimal(value)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def exact_quantity(metric: Metric, value: int, month: Month) -> Fraction:
    """A metered value in the metric's unit, exactly (a third of a GB-month is 1/3, not 0.333...3)."""
    if metric.unit == "GB-month":
        return Fraction(value, GB * month.hours)
    if metric.unit == "GB":
        return Fraction(value, GB)
    return Fraction(value)


def _exact_cents(amount: Fraction) -> Decimal:
    """A non-negative exact amount rounded to cents, half up."""
    return Decimal(math.floor(amount * 100 + Fraction(1, 2))).scaleb(-2)


def _digits(number: Fraction) -> Decimal:
    """An exact quantity as a decimal of 50 significant digits (how lines keep it)."""
    with localcontext(_context()):
        return Decimal(number.numerator) / Decimal(number.denominator)


def shown(number: Decimal) -> str:
    """A quantity as an invoice shows it: 6 decimals at most, no trailing zeros."""
    text = format(number.quantize(SHOWN, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bound(number: Decimal) -> str:
    return f"{number:,f}".rstrip("0").rstrip(".") if "." in f"{number:f}" else f"{number:,}"


@dataclass(frozen=True)
class Line:
    metric: str                 # the price sheet's section (storage, requests_a, ...)
    description: str
    quantity: Decimal           # exact
    unit: str
    unit_price: Decimal         # per ``per`` units
    per: int
    amount: Decimal             # rounded to cents

    def as_dict(self) -> dict[str, object]:
        return {"metric": self.metric, "description": self.description, "quantity": shown(self.quantity),
                "unit": self.unit, "unit_price": format(self.unit_price, "f"), "per": self.per,
                "amount": format(self.amount, "f")}


@dataclass(frozen=True)
class BucketShare:
    bucket: str
    region: str
    metric: str
    quantity: Decimal
    amount: Decimal

    def as_dict(self) -> dict[str, object]:
        return {"bucket": self.bucket, "region": self.region, "metric": self.metric,
                "quantity": shown(self.quantity), "amount": format(self.amount, "f")}


@dataclass(frozen=True)
class Invoice:
    month: Month
    currency: str
    lines: tuple[Line, ...]
    buckets: tuple[BucketShare, ...]
    subtotal: Decimal
    tax_rate: Decimal
    tax: Decimal
    total: Decimal
    usage: dict[str, int] = field(default_factory=dict)    # the metered totals, by meter name (raw units)

    def as_dict(self) -> dict[str, object]:
        return {"month": str(self.month), "currency": self.currency,
                "lines": [line.as_dict() for line in self.lines],
                "buckets": [share.as_dict() for share in self.buckets],
                "subtotal": format(self.subtotal, "f"), "tax_rate": format(self.tax_rate, "f"),
                "tax": format(self.tax, "f"), "total": format(self.total, "f"), "usage": dict(self.usage)}


def price_lines(price: MetricPrice, total: Decimal | Fraction) -> list[Line]:
    """The lines of one metric for the tenant's monthly ``total`` (its exact value, :func:`exact_quantity`):
    its free part, then each tier band. Each amount is worked out from the band's exact quantity, then
    rounded to cents; quantities are shown with 50 significant digits."""
    metric = price.metric
    label = metric.label
    exact = Fraction(total)
    if exact <= 0:
        return [Line(metric.section, label, Decimal(0), metric.unit, price.tiers[0].price, metric.per, cents(
            Decimal(0)))]
    lines = []
    free_bound = Fraction(price.free)
    free = min(exact, free_bound)
    if free > 0:
        lines.append(Line(metric.section, f"{label}, free tier ({_bound(price.free)} {metric.unit})", _digits(free),
                          metric.unit, Decimal(0), metric.per, cents(Decimal(0))))
    low = Decimal(0)
    several = len(price.tiers) > 1
    for tier in price.tiers:
        high = tier.upto
        band_low = max(Fraction(low), free_bound)
        band_high = exact if high is None else min(exact, Fraction(high))
        if band_high > band_low:
            if not several:
                description = label
            elif low == 0:
                description = f"{label}, first {_bound(high or Decimal(0))} {metric.unit}"
            elif high is None:
                description = f"{label}, over {_bound(low)} {metric.unit}"
            else:
                description = f"{label}, {_bound(low)} to {_bound(high)} {metric.unit}"
            qty = band_high - band_low
            lines.append(Line(metric.section, description, _digits(qty), metric.unit, tier.price, metric.per,
                              _exact_cents(qty * Fraction(tier.price) / metric.per)))
        if high is None or exact <= high:
            break
        low = high
    return lines


def split(amount: Decimal, parts: list[tuple[tuple[str, str], Decimal]]) -> list[Decimal]:
    """``amount`` (cents) split in proportion to the quantities of ``parts`` ((bucket, region), quantity),
    in cents, by the largest remainder: the shares add up to ``amount``."""
    total = sum((q for _, q in parts), Decimal(0))
    if total <= 0 or amount == 0:
        return [Decimal("0.00") for _ in parts]
    with localcontext(_context()):
        exact = [amount * q / total for _, q in parts]
        floors = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
        left = int(((amount - sum(floors, Decimal(0))) / CENT).to_integral_value())
        order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - floors[i]), parts[i][0]))
        for i in order[:left]:
            floors[i] += CENT
    return floors


def compute(rows: Iterable[MeterRow], sheet: PriceSheet, month: Month) -> Invoice:
    """The invoice of the metered totals ``rows`` (one tenant's, of ``month``) under ``sheet``."""
    by_meter = {m.meter: m for m in METRICS}
    raw: dict[tuple[str, tuple[str, str]], int] = {}
    usage: dict[str, int] = {}
    for row in rows:
        usage[row.metric] = usage.get(row.metric, 0) + int(row.value)
        if row.metric in by_meter:
            key = (row.metric, (row.bucket, row.region))
            raw[key] = raw.get(key, 0) + int(row.value)
    lines: list[Line] = []
    shares: list[BucketShare] = []
    for price in sheet.prices:
        metric = price.metric
        places = sorted((place, quantity(metric, value, month)) for (meter, place), value in raw.items()
                        if meter == metric.meter and value > 0)
        # the tenant's total from the raw sum, exactly: each line's amount is worked out from it
        total = exact_quantity(metric, sum(v for (meter, _), v in raw.items() if meter == metric.meter), month)
        metric_lines = price_lines(price, total)
        lines += metric_lines
        amount = sum((line.amount for line in metric_lines), Decimal("0.00"))
        for ((bucket, region), qty), share in zip(places, split(amount, places), strict=True):
            shares.append(BucketShare(bucket, region, metric.section, qty, share))
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    tax = cents(subtotal * sheet.tax_rate)
    return Invoice(month, sheet.currency, tuple(lines), tuple(shares), subtotal, sheet.tax_rate, tax,
                   subtotal + tax, dict(sorted(usage.items())))
