"""The current month as the console's Billing page shows it: the month so far (an invoice preview), its
forecast (:func:`nuage.billing.forecast.forecast`, the same as the tenant billing API's), the usage per
bucket, and the operator's overview of every tenant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nuage.billing.forecast import UsageSource, forecast
from nuage.billing.invoice import MeterRow, Month, compute
from nuage.billing.service import Billing, Tenant


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


async def outlook(billing: Billing, usage: UsageSource, tenant: Tenant) -> Outlook:
    """The current month of ``tenant`` by the billing service's clock."""
    so_far = await billing.preview(tenant)
    month = Month.parse(str(so_far["month"]))
    rows = [r for r in await usage.meter_totals(tenant.account_id, month.start, month.end)
            if r.account_id == tenant.account_id]
    ahead = await forecast(usage, tenant.account_id, billing.sheet, month, billing.clock())
    return Outlook(so_far, ahead, per_bucket(rows))


@dataclass(frozen=True)
class TenantMonth:
    """One line of the operator's overview."""

    tenant: Tenant
    so_far: dict[str, Any]
    forecast: dict[str, Any]


async def overview(billing: Billing, usage: UsageSource, tenants: Sequence[Tenant]) -> list[TenantMonth]:
    """Every tenant's month so far (from one read of the month's metered totals) and forecast."""
    now = billing.clock()
    month = Month.of(now)
    by_account: dict[str, list[MeterRow]] = {}
    for row in await usage.meter_totals(None, month.start, month.end):
        by_account.setdefault(row.account_id, []).append(row)
    return [TenantMonth(tenant, compute(by_account.get(tenant.account_id, []), billing.sheet, month).as_dict(),
                        await forecast(usage, tenant.account_id, billing.sheet, month, now))
            for tenant in tenants]
