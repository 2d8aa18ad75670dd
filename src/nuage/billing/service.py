"""The billing service: previews of a month so far, and the invoices of closed months, issued once.

``Billing(meter, invoices, sheet, region, clock)``: ``meter`` gives the metered totals (the metadata
store's ``meter_totals``), ``invoices`` keeps issued invoices (storage/meta/invoices.py), ``sheet`` is the
price sheet the server started with, ``clock`` the time in epoch seconds (injectable for tests).

An invoice is issued for a month that is over by the server's clock, once: the first issue computes it
from that month's metered totals and the sheet of that moment, numbers it and stores its JSON document;
every later issue (through any gateway) returns that stored document unchanged, whatever traffic or
price sheet came since. A preview is computed the same way, for any month that has begun, and never
stored; it carries no number.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from nuage.billing.invoice import MeterRow, Month, compute
from nuage.billing.prices import PriceSheet
from nuage.errors import NuageError
from nuage.storage.meta.invoices import InvoiceRecord, InvoiceStore


class InvalidMonth(NuageError):
    default_message = "A month is written YYYY-MM."


class MonthNotClosed(NuageError):
    default_message = "Only a month that is over can be invoiced."


class NoSuchInvoice(NuageError):
    default_message = "No invoice was issued for this month."


class Meter(Protocol):
    async def meter_totals(self, account_id: str | None, start: int, end: int) -> Sequence[MeterRow]: ...


class Tenant(NamedTuple):
    account_id: str
    name: str


@dataclass(frozen=True)
class Issued:
    document: dict[str, Any]
    created: bool        # False: issued before, this is the stored document


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """What a list of invoices shows of one."""
    return {key: document.get(key) for key in ("number", "month", "issued_at", "currency", "subtotal", "tax",
                                               "total")}


class Billing:
    def __init__(self, meter: Meter, invoices: InvoiceStore, sheet: PriceSheet, region: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.meter = meter
        self.invoices = invoices
        self.sheet = sheet
        self.region = region
        self.clock = clock

    @staticmethod
    def month(text: str) -> Month:
        try:
            return Month.parse(text)
        except ValueError as exc:
            raise InvalidMonth(str(exc).capitalize() + ".") from None

    async def _document(self, tenant: Tenant, month: Month, kind: str, now: float) -> dict[str, Any]:
        rows = await self.meter.meter_totals(tenant.account_id, month.start, month.end)
        invoice = compute([r for r in rows if r.account_id == tenant.account_id], self.sheet, month)
        return {"kind": kind, "number": None, "issued_at": None, "as_of": iso(now),
                "issuer": {"name": self.sheet.issuer, "region": self.region},
                "tenant": {"account_id": tenant.account_id, "name": tenant.name},
                "period": {"start": iso(month.start), "end": iso(month.end)},
                **invoice.as_dict()}

    async def preview(self, tenant: Tenant, month: str | None = None) -> dict[str, Any]:
        """The month so far (default: the current one), as an invoice would show it; never stored."""
        now = self.clock()
        which = Month.of(now) if month is None else self.month(month)
        if which.start > now:
            raise MonthNotClosed(f"{which} has not begun yet (by this server's clock): there is nothing to "
                                 f"preview.")
        return await self._document(tenant, which, "preview", now)

    async def issue(self, tenant: Tenant, month: str) -> Issued:
        """The invoice of a month that is over: issued now, or the one issued before (unchanged)."""
        which = self.month(month)
        now = self.clock()
        if which.end > now:
            raise MonthNotClosed(f"{which} is not over yet (by this server's clock it ends {iso(which.end)}): "
                                 f"only a closed month can be invoiced; see its preview.")
        found = await asyncio.to_thread(self.invoices.get, tenant.account_id, str(which))
        if found is not None:
            return Issued(json.loads(found.document), False)
        document = await self._document(tenant, which, "invoice", now)
        document["issued_at"] = iso(now)

        def render(number: str) -> str:
            return json.dumps({**document, "number": number}, ensure_ascii=False)

        record, created = await asyncio.to_thread(
            self.invoices.issue, tenant.account_id, str(which), self.sheet.invoice_prefix,
            datetime.fromtimestamp(now, UTC).year, now, render)
        return Issued(json.loads(record.document), created)

    async def get(self, tenant: Tenant, month: str) -> dict[str, Any]:
        """An issued invoice's document; :class:`NoSuchInvoice` when that month was not issued."""
        which = self.month(month)
        found: InvoiceRecord | None = await asyncio.to_thread(self.invoices.get, tenant.account_id, str(which))
        if found is None:
            raise NoSuchInvoice(f"No invoice of {which} was issued for the tenant {tenant.name}.")
        document: dict[str, Any] = json.loads(found.document)
        return document

    async def list(self, tenant: Tenant) -> list[dict[str, Any]]:
        """The tenant's issued invoices, the latest month first (a summary of each)."""
        records = await asyncio.to_thread(self.invoices.list, tenant.account_id)
        return [summary(json.loads(r.document)) for r in records]
