"""The current month as a tenant sees it on the console's Billing page: a forecast of the whole month, the
usage per bucket so far, and the operator's overview of every tenant (pure functions, and two readers).

The forecast extrapolates each bucket's metered quantities so far at the same rate to the whole month
(quantity x the month's seconds / the seconds elapsed, the elapsed time counted as one hour at least, so
that the first minutes of a month do not multiply a few requests by a thousand), then prices the projected
totals exactly as an invoice does (free tier and tiers on the month's total): a straight line, stated as
such, never stored. Storage byte-hours are extrapolated the same way (the bytes stored so far, on average,
kept for the rest of the month).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from nuage.billing.invoice import MeterRow, Month, compute
from nuage.billing.prices import PriceSheet
from nuage.billing.service import Billing, Tenant

HOUR = 3600


class Projected(NamedTuple):
    account_id: str
    bucket: str
    region: str
    metric: str
    value: int


def elapsed(month: Month, now: float) -> float:
    """The seconds of ``month`` gone by at ``now`` (one hour at least, the whole month at most)."""
    return min(max(now - month.start, HOUR), month.end - month.start)


def project(rows: Iterable[MeterRow], month: Month, now: float) -> list[Projected]:
    """The metered totals so far, extrapolated at the same rate to the whole month (whole units)."""
    gone = elapsed(month, now)
    scale = (month.end - month.start) / gone
    return [Projected(r.account_id, r.bucket, r.region, r.metric, round(int(r.value) * scale)) for r in rows]


def forecast(rows: Iterable[MeterRow], sheet: PriceSheet, month: Month, now: float) -> dict[str, Any]:
    """The invoice the month would give if it went on as it went so far (an invoice's dictionary)."""
    document = compute(project(rows, month, now), sheet, month).as_dict()
    document["kind"] = "forecast"
    return document


@dataclass
class BucketUsage:
    """One bucket's metered quantities so far this month (raw units: counts, bytes, byte-hours)."""

    bucket: str
    region: str
    metrics: dict[str, int] = field(default_factory=dict)


def per_bucket(rows: Iterable[MeterRow]) -> list[BucketUsage]:
    """The rows summed per (bucket, region), by bucket name; ``''`` (requests naming no bucket) first."""
    found: dict[tuple[str, str], BucketUsage] = {}
    for row in rows:
        usage = found.setdefault((row.bucket, row.region), BucketUsage(row.bucket, row.region))
        usage.metrics[row.metric] = usage.metrics.get(row.metric, 0) + int(row.value)
    return [found[key] for key in sorted(found)]


@dataclass(frozen=True)
class Outlook:
    """The month so far (an invoice preview), its forecast, and the usage per bucket."""

    so_far: dict[str, Any]
    forecast: dict[str, Any]
    buckets: list[BucketUsage]


async def outlook(billing: Billing, tenant: Tenant) -> Outlook:
    """The current month of ``tenant`` by the billing service's clock."""
    so_far = await billing.preview(tenant)
    now = billing.clock()
    month = Month.of(now)
    rows = [r for r in await billing.meter.meter_totals(tenant.account_id, month.start, month.end)
            if r.account_id == tenant.account_id]
    return Outlook(so_far, forecast(rows, billing.sheet, month, now), per_bucket(rows))


@dataclass(frozen=True)
class TenantMonth:
    """One line of the operator's overview."""

    tenant: Tenant
    so_far: dict[str, Any]
    forecast: dict[str, Any]


async def overview(billing: Billing, tenants: Sequence[Tenant]) -> list[TenantMonth]:
    """Every tenant's month so far and forecast, from one read of the month's metered totals."""
    now = billing.clock()
    month = Month.of(now)
    rows = await billing.meter.meter_totals(None, month.start, month.end)
    by_account: dict[str, list[MeterRow]] = {}
    for row in rows:
        by_account.setdefault(row.account_id, []).append(row)
    lines = []
    for tenant in tenants:
        mine = by_account.get(tenant.account_id, [])
        lines.append(TenantMonth(tenant, compute(mine, billing.sheet, month).as_dict(),
                                 forecast(mine, billing.sheet, month, now)))
    return lines
