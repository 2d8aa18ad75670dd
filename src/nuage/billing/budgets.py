"""Monthly budgets of tenants, and the events that crossing 80% and 100% of one fires (docs/billing.md).

``Budgets(store, billing)``: ``store`` keeps the budgets and events (storage/meta/budgets.py), ``billing``
gives the month so far (:meth:`Billing.preview`, whose ``total``, tax included, is what a budget is
compared with) and the price sheet's currency (a budget is set in it).

:meth:`Budgets.evaluate` looks at every budget once: a tenant whose month-so-far total reached 80% (and then
100%) of its budget gets an event for that threshold and month, inserted with ON CONFLICT DO NOTHING, so it
fires once per tenant and month however many gateways evaluate at once and however often they restart. A
budget raised above the spend after a threshold fired does not fire it again that month (the row is
there); a new month starts afresh. The server runs :meth:`Budgets.run_forever` on one gateway of the
cluster at a time (``once_per_cluster``), every ``NUAGE_BUDGET_INTERVAL`` seconds. Each event is logged in
one line (logger ``nuage.billing.budgets``) and kept with ``emitted`` unset: the outbox that notification
targets will be fed from (issue 19).

The service API (used by the tenant billing API, the admin API and the console): :meth:`get`, :meth:`put`,
:meth:`delete`, :meth:`status`, :meth:`events`; amounts are decimal strings (:func:`parse_amount`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from nuage.billing.invoice import Month
from nuage.billing.service import Billing, Tenant
from nuage.errors import NuageError
from nuage.logthrottle import LogThrottle
from nuage.storage.meta.budgets import BudgetEvent, BudgetRecord, BudgetStore

log = logging.getLogger("nuage.billing.budgets")

THRESHOLDS = (80, 100)
MAX_AMOUNT = Decimal("1000000000000")      # 10^12 in the sheet's currency
AMOUNT_RE = re.compile(r"^\d{1,13}(\.\d{1,2})?$")
DEFAULT_INTERVAL = 300.0


class InvalidBudget(NuageError):
    default_message = "A budget is an amount such as \"100.00\": greater than 0, at most two decimals."


class NoSuchBudget(NuageError):
    default_message = "No budget is set."


def parse_amount(raw: object) -> Decimal:
    """A budget amount from a decimal string such as ``"100.00"`` (a whole JSON number is taken too): greater
    than 0, at most 2 decimals, below 10^12. :class:`InvalidBudget` otherwise (a float is refused: money is
    written as text)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise InvalidBudget("amount must be a decimal string such as \"100.00\".")
    text = raw.strip() if isinstance(raw, str) else str(raw)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidBudget(f"amount must be a decimal number such as \"100.00\", got {text!r}.") from None
    if not value.is_finite() or value <= 0:
        raise InvalidBudget(f"amount must be greater than 0, got {text!r}.")
    if not AMOUNT_RE.match(text):
        raise InvalidBudget(f"amount has at most two decimals (cents), written with digits such as \"100.00\", "
                            f"got {text!r}.")
    if value >= MAX_AMOUNT:
        raise InvalidBudget(f"amount must be below {MAX_AMOUNT:,}.")
    return value.quantize(Decimal("0.01"))


def budget_dict(rec: BudgetRecord) -> dict[str, Any]:
    return {"amount": rec.amount, "currency": rec.currency, "updated_at": rec.updated_at}


def event_dict(event: BudgetEvent) -> dict[str, Any]:
    return {"month": event.month, "threshold": event.threshold, "at": event.at, "spent": event.spent,
            "budget": event.budget, "currency": event.currency, "emitted": event.emitted}


def crossed(spent: Decimal, budget: Decimal) -> list[int]:
    """The thresholds (percent) that ``spent`` has reached of ``budget``."""
    return [t for t in THRESHOLDS if spent * 100 >= budget * t]


class Budgets:
    def __init__(self, store: BudgetStore, billing: Billing) -> None:
        self.store = store
        self.billing = billing

    @property
    def currency(self) -> str:
        return self.billing.sheet.currency

    async def get(self, account_id: str) -> dict[str, Any]:
        """The account's budget; :class:`NoSuchBudget` when none is set."""
        rec = await asyncio.to_thread(self.store.get, account_id)
        if rec is None:
            raise NoSuchBudget("No budget is set for this account.")
        return budget_dict(rec)

    async def put(self, account_id: str, amount: object) -> dict[str, Any]:
        """Set the account's monthly budget (in the price sheet's currency); :class:`InvalidBudget`."""
        value = parse_amount(amount)
        rec = await asyncio.to_thread(self.store.put, account_id, format(value, "f"), self.currency,
                                      self.billing.clock())
        return budget_dict(rec)

    async def delete(self, account_id: str) -> bool:
        """Remove the account's budget (its events stay); False when none was set."""
        return await asyncio.to_thread(self.store.delete, account_id)

    async def events(self, account_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The account's budget events, the latest first."""
        return [event_dict(e) for e in await asyncio.to_thread(self.store.events, account_id, limit)]

    async def status(self, tenant: Tenant) -> dict[str, Any]:
        """The budget (or None), the month so far and its share of the budget, and this month's events: what
        a Billing page shows."""
        rec = await asyncio.to_thread(self.store.get, tenant.account_id)
        preview = await self.billing.preview(tenant)
        spent = Decimal(preview["total"])
        out: dict[str, Any] = {"month": preview["month"], "currency": preview["currency"], "spent": preview["total"],
                               "budget": budget_dict(rec) if rec else None, "percent": None}
        if rec is not None:
            out["percent"] = format((spent * 100 / Decimal(rec.amount)).quantize(Decimal("0.1")), "f")
        out["events"] = [event_dict(e) for e in await asyncio.to_thread(self.store.events, tenant.account_id, 10)
                         if e.month == preview["month"]]
        return out

    async def evaluate(self) -> list[BudgetEvent]:
        """Compare every budget with its tenant's month so far once; the events this call fired."""
        budgets = await asyncio.to_thread(self.store.all)
        now = self.billing.clock()
        month = str(Month.of(now))
        fired: list[BudgetEvent] = []
        for rec in budgets:
            if rec.currency != self.currency:
                log.warning("budget of account %s is in %s, the price sheet in %s: not evaluated (set it again)",
                            rec.account_id, rec.currency, self.currency)
                continue
            done = await asyncio.to_thread(self.store.fired, rec.account_id, month)
            if all(t in done for t in THRESHOLDS):
                continue
            preview = await self.billing.preview(Tenant(rec.account_id, rec.account_id), month)
            spent = Decimal(preview["total"])
            for threshold in crossed(spent, Decimal(rec.amount)):
                if threshold in done:
                    continue
                event = BudgetEvent(rec.account_id, month, threshold, now, preview["total"], rec.amount,
                                    rec.currency)
                if await asyncio.to_thread(self.store.fire, event):
                    fired.append(event)
                    log.info("budget: account %s reached %d%% of its monthly budget for %s: %s of %s %s",
                             rec.account_id, threshold, month, event.spent, event.budget, event.currency)
        return fired

    async def run_forever(self, interval: float = DEFAULT_INTERVAL) -> None:
        """:meth:`evaluate` every ``interval`` seconds (the first pass soon after start-up), until cancelled;
        a pass that fails (the database down) is logged in one line, at most one a minute, and the next pass
        tries again."""
        delay = min(interval, 5.0)
        throttle = LogThrottle(60.0)
        while True:
            await asyncio.sleep(delay)
            delay = interval
            try:
                await self.evaluate()
            except asyncio.CancelledError:
                raise
            except Exception as exc:   # noqa: BLE001 - the next pass tries again
                left_out = throttle.admit("failed")
                if left_out is not None:
                    log.warning("budget evaluation failed (%s: %s); trying again every %g s%s", type(exc).__name__,
                                str(exc).splitlines()[0] if str(exc) else "", interval,
                                f" ({left_out} more failures since the last line)" if left_out else "")
            else:
                if throttle.forget("failed"):
                    log.info("budget evaluation works again")
