"""The admin API's budget routes (nuage.billing.budgets), for the operator:

    GET    /admin/tenants/NAME/budget                  the tenant's monthly budget, with its month so far
    PUT    /admin/tenants/NAME/budget  {"amount"}      set it (a decimal string in the price sheet's currency)
    DELETE /admin/tenants/NAME/budget                  remove it (its events stay)
    GET    /admin/tenants/NAME/budget/events[?max=N]   the tenant's budget events, latest first
    GET    /admin/budgets/events[?max=N]               every tenant's budget events, latest first

Errors are the admin API's JSON errors: 400 InvalidArgument (an amount that is not a positive decimal with
two decimals at most), 404 NoSuchBudget (and NoSuchEntity for an unknown tenant, from the app).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from nuage.billing.budgets import Budgets, InvalidBudget, NoSuchBudget, event_dict
from nuage.billing.service import Tenant
from nuage.storage.meta.iam import AccountRecord

MAX_EVENTS = 1000


def _error(status: int, code: str, message: str) -> tuple[int, object]:
    return status, {"error": {"code": code, "message": message}}


def _max(query: str) -> int | None:
    raw = dict(parse_qsl(query)).get("max", "")
    if raw == "":
        return 100
    if not raw.isdigit() or int(raw) < 1:
        return None
    return min(int(raw), MAX_EVENTS)


class BudgetRoutes:
    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets

    async def handle(self, method: str, account: AccountRecord, rest: list[str], body: dict[str, Any],
                     query: str) -> tuple[int, object]:
        """``rest``: the path after ``/admin/tenants/NAME/budget``."""
        tenant = Tenant(account.account_id, account.name)
        head = {"tenant": tenant.name, "account_id": tenant.account_id}
        try:
            if rest == ["events"] and method == "GET":
                limit = _max(query)
                if limit is None:
                    return _error(400, "InvalidArgument", "max is a positive whole number.")
                return 200, {**head, "events": await self.budgets.events(tenant.account_id, limit)}
            if rest != []:
                return _error(404, "NoSuchRoute", f"No admin operation {method} .../budget/{'/'.join(rest)}.")
            if method == "DELETE":
                if not await self.budgets.delete(tenant.account_id):
                    raise NoSuchBudget(f"No budget is set for the tenant {tenant.name}.")
                return 200, {**head, "deleted": True}
            if method == "PUT":
                if "amount" not in body:
                    return _error(400, "InvalidArgument", "Give the budget as {\"amount\": \"100.00\"}.")
                await self.budgets.put(tenant.account_id, body["amount"])
            elif method != "GET":
                return _error(405, "MethodNotAllowed", f"{method} is not allowed on a budget.")
            status = await self.budgets.status(tenant)
            if status["budget"] is None:
                raise NoSuchBudget(f"No budget is set for the tenant {tenant.name}.")
            return 200, {**head, **status["budget"], "month": status["month"], "spent": status["spent"],
                         "percent": status["percent"]}
        except InvalidBudget as exc:
            return _error(400, "InvalidArgument", exc.message)
        except NoSuchBudget as exc:
            return _error(404, "NoSuchBudget", exc.message)

    async def all_events(self, query: str, names: dict[str, str]) -> tuple[int, object]:
        """Every tenant's events (``names``: account id -> tenant name)."""
        limit = _max(query)
        if limit is None:
            return _error(400, "InvalidArgument", "max is a positive whole number.")
        events = await asyncio.to_thread(self.budgets.store.events, None, limit)
        return 200, {"events": [{"tenant": names.get(e.account_id), "account_id": e.account_id, **event_dict(e)}
                                for e in events]}
