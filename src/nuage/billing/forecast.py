"""A forecast of a whole month from its metered totals so far (docs/billing.md, "Forecast").

Method: storage goes on at its current rate (each bucket's bytes in its latest sampled hour, for every
hour of the month after that one); requests and bytes (in, out, replicated, scanned) go on at their pace
so far (the month's totals so far divided by the fraction of the month that has elapsed). The forecast
quantities are then priced like an invoice (tiers, free tier, rounding, tax: invoice.compute). A month that
is over is its own forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, Protocol

from nuage.billing.invoice import MeterRow, Month, compute
from nuage.billing.prices import PriceSheet

HOUR = 3600
STORAGE = "storage_byte_hours"
METHOD = ("storage at its current rate (each bucket's bytes in its latest sampled hour) for the rest of the "
          "month; requests and bytes at their pace so far (totals / elapsed fraction of the month)")


class HourRow(MeterRow, Protocol):
    """A metered quantity of one hour (nuage's MeterHour)."""

    @property
    def hour(self) -> int: ...


class UsageSource(Protocol):
    async def meter_totals(self, account_id: str | None, start: int, end: int) -> Sequence[MeterRow]: ...
    async def meter_hours(self, account_id: str | None, start: int, end: int) -> Sequence[HourRow]: ...


class Row(NamedTuple):
    account_id: str
    bucket: str
    region: str
    metric: str
    value: int


async def forecast(usage: UsageSource, account_id: str, sheet: PriceSheet, month: Month, now: float
                   ) -> dict[str, Any]:
    """The forecast of ``month`` for ``account_id`` as of ``now``: the method, the elapsed fraction, the
    forecast quantities (raw units, by metric) and the amounts (lines, subtotal, tax, total)."""
    rows = [r for r in await usage.meter_totals(account_id, month.start, month.end) if r.account_id == account_id]
    span = month.end - month.start
    elapsed = min(max(now - month.start, 0.0), float(span))
    fraction = Decimal(elapsed) / Decimal(span)
    # the latest sampled hour of each bucket's storage (looked for in the last day)
    latest: dict[tuple[str, str], tuple[int, int]] = {}
    if elapsed < span:
        since = max(month.start, int(now) // HOUR * HOUR - 24 * HOUR)
        for h in await usage.meter_hours(account_id, since, month.end):
            if h.metric == STORAGE and h.account_id == account_id:
                place = (h.bucket, h.region)
                if place not in latest or h.hour > latest[place][0]:
                    latest[place] = (h.hour, h.value)
    out: list[Row] = []
    for r in rows:
        value = int(r.value)
        if elapsed < span and r.metric == STORAGE:
            found = latest.get((r.bucket, r.region))
            if found is not None:
                hour, size = found
                value += size * max(0, (month.end - hour - HOUR) // HOUR)
            elif fraction > 0:
                value = int((Decimal(value) / fraction).to_integral_value(ROUND_HALF_UP))
        elif elapsed < span and fraction > 0:
            value = int((Decimal(value) / fraction).to_integral_value(ROUND_HALF_UP))
        out.append(Row(r.account_id, r.bucket, r.region, r.metric, value))
    invoice = compute(out, sheet, month).as_dict()
    return {"method": METHOD, "elapsed_fraction": format(fraction.quantize(Decimal("0.0001")), "f"),
            "usage": invoice["usage"], "lines": invoice["lines"], "subtotal": invoice["subtotal"],
            "tax": invoice["tax"], "total": invoice["total"], "currency": invoice["currency"]}
