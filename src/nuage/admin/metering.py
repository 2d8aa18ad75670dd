"""The admin API's metered usage: ``GET /admin/usage/metered?tenant=NAME&from=YYYY-MM-DD&to=YYYY-MM-DD``.

The raw quantities nuage.core.metering recorded (requests by class, bytes in, out, replicated and scanned,
storage byte-hours), summed over the UTC days from ``from`` (included) to ``to`` (excluded, as AWS Cost
Explorer's End), per bucket, region and metric. ``tenant`` (a name or a 12-digit account id) limits them to
one tenant; without it every tenant's come. ``hourly=1`` adds the rows hour by hour (for charts).
What was counted in the last flush interval (docs/metering.md) is not in the store yet.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from nuage.core.tenants import Tenants
from nuage.errors import InvalidArgument
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.metering import METRICS

MAX_DAYS = 3 * 366


def day(text: str, name: str) -> int:
    """Midnight UTC of a YYYY-MM-DD day, in seconds since the epoch."""
    try:
        when = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidArgument(f"{name} must be a day as YYYY-MM-DD, got {text!r}.") from None
    return int(when.timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def metered_usage(meta: MetadataStore, tenants: Tenants, scope: dict[str, Any]) -> dict[str, object]:
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    if "from" not in query or "to" not in query:
        raise InvalidArgument("Give from and to (YYYY-MM-DD, to excluded).")
    start, end = day(query["from"], "from"), day(query["to"], "to")
    if end <= start:
        raise InvalidArgument("to must be a day after from.")
    if end - start > MAX_DAYS * 86400:
        raise InvalidArgument(f"At most {MAX_DAYS} days at once.")
    accounts = await asyncio.to_thread(tenants.iam.store.list_accounts)
    names = {a.account_id: a.name for a in accounts}
    account_id: str | None = None
    tenant: str | None = None
    if query.get("tenant"):
        rec = await asyncio.to_thread(tenants.find, query["tenant"])
        account_id, tenant = rec.account_id, rec.name
    rows = await meta.meter_totals(account_id, start, end)
    totals = dict.fromkeys(METRICS, 0)
    for r in rows:
        totals[r.metric] = totals.get(r.metric, 0) + r.value
    out: dict[str, object] = {
        "tenant": tenant, "account_id": account_id, "from": query["from"], "to": query["to"],
        "start": _iso(start), "end": _iso(end), "totals": totals,
        "rows": [{"tenant": names.get(r.account_id), "account_id": r.account_id, "bucket": r.bucket,
                  "region": r.region, "metric": r.metric, "value": r.value} for r in rows]}
    if query.get("hourly") in ("1", "true"):
        out["hours"] = [{"hour": _iso(h.hour), "account_id": h.account_id, "bucket": h.bucket, "region": h.region,
                         "metric": h.metric, "value": h.value}
                        for h in await meta.meter_hours(account_id, start, end)]
    return out
