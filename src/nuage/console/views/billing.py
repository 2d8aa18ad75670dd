"""The Billing page: the month so far (an invoice preview: its lines, subtotal, tax and total), a forecast of
the whole month, the usage per bucket, and the issued invoices, each downloadable as PDF, CSV and JSON.

Who sees what: the authorization of the tenant billing API (nuage.billing.app), the same IAM actions on the
same resource (``arn:aws:nuage-billing::ACCOUNT_ID:account``) with the same condition keys. An account's
root user sees its own account's billing; an IAM user what its policies allow (``nuage-billing:GetPreview``
for the month so far and its forecast, ``GetUsage`` for the usage per bucket, ``ListInvoices`` for the
list, ``GetInvoice`` for a download, ``GetBudget``, ``PutBudget``, ``DeleteBudget`` and
``ListBudgetEvents`` for the budget and its events at 80% and 100%); the operator (the root user of the
account that holds the server's root key) sees every tenant, chosen with ``?tenant=ACCOUNT_ID``, and an
overview of all. Anyone else naming another account gets 404, as for an invoice that does not exist: a
tenant only ever reads its own account. The budget's forms are POSTs with the console's CSRF token.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_currency, format_decimal

from nuage.billing import access
from nuage.billing.budgets import Budgets, InvalidBudget
from nuage.billing.invoice import Month, quantity
from nuage.billing.outlook import BucketUsage, outlook, overview
from nuage.billing.prices import METRIC_BY_SECTION, METRICS
from nuage.billing.render import to_csv, to_pdf
from nuage.billing.service import Billing, InvalidMonth, NoSuchInvoice, Tenant
from nuage.console.context import Console, Ctx, Route
from nuage.console.dates import parse_date
from nuage.console.http import HTTPError, Response, redirect, url
from nuage.console.i18n import N_
from nuage.core.access.query import base_conditions
from nuage.core.identities import Identity

PAGE_ACTIONS = ("GetPreview", "GetUsage", "ListInvoices", "GetBudget")   # any of them shows the page
NOT_ALLOWED = N_("You may not see the billing of this account (nuage-billing permissions).")
NO_BILLING = N_("Billing is not available on this server.")
NO_INVOICE = N_("No invoice was issued for this month.")
FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}

# how the console names each metric and unit (the invoice documents keep the English of nuage.billing)
LABELS = {"storage": N_("Storage"), "requests_a": N_("Class A requests (PUT, COPY, POST, LIST)"),
          "requests_b": N_("Class B requests (GET, HEAD and others)"), "data_out": N_("Data transfer out"),
          "replication": N_("Cross-region replication"), "scanned": N_("Data scanned (S3 Select, SQL)")}
UNITS = {"GB-month": N_("GB-month"), "requests": N_("requests"), "GB": N_("GB")}
TIERS = [  # the tier part of a line's description (nuage.billing.invoice.price_lines), as the console says it
    (re.compile(r", free tier \((?P<bound>[\d,.]+) (?P<unit>\S+)\)"), N_("{label}, free tier ({bound} {unit})")),
    (re.compile(r", first (?P<bound>[\d,.]+) (?P<unit>\S+)"), N_("{label}, first {bound} {unit}")),
    (re.compile(r", over (?P<bound>[\d,.]+) (?P<unit>\S+)"), N_("{label}, over {bound} {unit}")),
    (re.compile(r", (?P<low>[\d,.]+) to (?P<bound>[\d,.]+) (?P<unit>\S+)"), N_("{label}, {low} to {bound} {unit}")),
]


def _billing(console: Console) -> Billing:
    if console.billing is None:
        raise HTTPError(404, NO_BILLING)
    return console.billing


def is_operator(console: Console, ident: Identity) -> bool:
    """The root user of the operator's account (the one that holds the server's root key)."""
    return ident.is_root and bool(console.operator) and ident.canonical_id == console.operator


def allowed(console: Console, ident: Identity, action: str, scheme: str = "http", client: str = "") -> bool:
    """Whether ``ident`` may ``nuage-billing:<action>`` on its own account, as the billing API decides it
    (nuage.billing.access.allowed, with the same condition keys)."""
    return access.allowed(console.services.identities, ident, action,
                          base_conditions(secure=scheme == "https", source_ip=client or None))


def may_see(console: Console, ident: Identity | None) -> bool:
    """Whether the navigation shows Billing to ``ident``."""
    return (ident is not None and console.billing is not None
            and any(allowed(console, ident, action) for action in PAGE_ACTIONS))


def _budgets(console: Console) -> Budgets:
    if console.budgets is None:
        raise HTTPError(404, NO_BILLING)
    return console.budgets


async def _tenant(ctx: Ctx) -> Tenant:
    """The account whose billing the request reads: the caller's own, or for the operator ``?tenant=``."""
    ident = ctx.user
    wanted = ctx.req.form.get("tenant") or ctx.req.query.get("tenant", "")
    if wanted and wanted != ident.account_id:
        if not is_operator(ctx.console, ident):
            raise HTTPError(404, N_("There is no such page."))
        account = await asyncio.to_thread(ctx.console.iam.store.get_account, wanted)
        if account is None:
            raise HTTPError(404, N_("There is no such page."))
        return Tenant(account.account_id, account.name)
    return Tenant(ident.account_id, ident.display_name)


def _may(ctx: Ctx, tenant: Tenant, action: str) -> bool:
    """The operator reads every tenant; anyone else its own account, as its policies allow."""
    if tenant.account_id != ctx.user.account_id:
        return is_operator(ctx.console, ctx.user)
    return allowed(ctx.console, ctx.user, action, ctx.req.scheme, ctx.req.client)


# -- formatting ------------------------------------------------------------------------------------------


def money(amount: str | Decimal, currency: str, locale: str, exact: bool = False) -> str:
    """An amount with its currency in the conventions of ``locale``; ``exact``: every decimal (unit prices)."""
    return format_currency(Decimal(amount), currency, locale=Locale.parse(locale), decimal_quantization=not exact)


def figure(number: str | Decimal | int, locale: str, pattern: str = "#,##0.######") -> str:
    """A quantity (6 decimals at most, as invoices show them) in the conventions of ``locale``."""
    return format_decimal(Decimal(number), format=pattern, locale=Locale.parse(locale))


def describe(ctx: Ctx, line: dict[str, Any]) -> str:
    """A line's description in the reader's language (its tier part too)."""
    metric = METRIC_BY_SECTION.get(str(line.get("metric")))
    description = str(line.get("description", ""))
    if metric is None or not description.startswith(metric.label):
        return description
    label = ctx._(LABELS[metric.section])
    rest = description[len(metric.label):]
    if not rest:
        return label
    for pattern, wording in TIERS:
        found = pattern.fullmatch(rest)
        if found is not None:
            values = found.groupdict()
            return ctx._(wording, label=label, bound=values["bound"], low=values.get("low") or "",
                         unit=ctx._(UNITS.get(values["unit"], values["unit"])))
    return description


@dataclass(frozen=True)
class Shown:
    """A document's figures as the page shows them."""

    lines: list[dict[str, str]]
    subtotal: str
    tax: str
    tax_rate: str
    total: str
    currency: str


def shown(ctx: Ctx, doc: dict[str, Any]) -> Shown:
    currency = str(doc["currency"])
    loc = ctx.locale
    lines = []
    for line in doc["lines"]:
        unit = ctx._(UNITS.get(line["unit"], line["unit"]))
        count = int(line["per"])
        price = money(line["unit_price"], currency, loc, exact=True)
        lines.append({"metric": line["metric"], "description": describe(ctx, line),
                      "quantity": figure(line["quantity"], loc), "unit": unit,
                      "unit_price": ctx._("{price} per {unit}", price=price, unit=unit) if count == 1 else
                      ctx._("{price} per {count} {unit}", price=price, count=figure(count, loc), unit=unit),
                      "amount": money(line["amount"], currency, loc)})
    rate = figure(Decimal(doc.get("tax_rate", "0")) * 100, loc, "#,##0.####") + "%"
    return Shown(lines, money(doc["subtotal"], currency, loc), money(doc["tax"], currency, loc), rate,
                 money(doc["total"], currency, loc), currency)


def bucket_rows(ctx: Ctx, buckets: list[BucketUsage], doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The usage per bucket so far, with each bucket's share of the month's amount."""
    month = Month.parse(str(doc["month"]))
    shares: dict[tuple[str, str], Decimal] = {}
    for share in doc["buckets"]:
        key = (share["bucket"], share["region"])
        shares[key] = shares.get(key, Decimal(0)) + Decimal(share["amount"])
    storage = next(m for m in METRICS if m.section == "storage")
    rows = []
    for usage in buckets:
        got = usage.metrics
        rows.append({
            "bucket": usage.bucket or "-", "region": usage.region,
            "storage": figure(format(quantity(storage, got.get(storage.meter, 0), month).quantize(Decimal("0.000001")),
                                     "f"), ctx.locale),
            "requests_a": got.get("requests_a", 0), "requests_b": got.get("requests_b", 0),
            "bytes_in": got.get("bytes_in", 0), "bytes_out": got.get("bytes_out", 0),
            "bytes_replicated": got.get("bytes_replicated", 0), "bytes_scanned": got.get("bytes_scanned", 0),
            "amount": money(shares.get((usage.bucket, usage.region), Decimal(0)), str(doc["currency"]), ctx.locale)})
    return rows


# -- views -----------------------------------------------------------------------------------------------


def _chosen(ctx: Ctx, tenant: Tenant) -> str | None:
    """The ``tenant`` parameter of the page's links and forms: set only when the operator looks at another."""
    return tenant.account_id if tenant.account_id != ctx.user.account_id else None


async def _page(ctx: Ctx, status: int = 200, error: str = "") -> Response:
    billing = _billing(ctx.console)
    tenant = await _tenant(ctx)
    operator = is_operator(ctx.console, ctx.user)
    may = {action: _may(ctx, tenant, action) for action in (*PAGE_ACTIONS, "GetInvoice", "PutBudget",
                                                             "DeleteBudget", "ListBudgetEvents")}
    if not any(may[action] for action in PAGE_ACTIONS):
        raise HTTPError(403, NOT_ALLOWED)
    values: dict[str, Any] = {"tenant": tenant, "chosen": _chosen(ctx, tenant), "operator": operator, "may": may,
                              "error": error}
    if may["GetPreview"] or may["GetUsage"]:
        found = await outlook(billing, ctx.console.meta, tenant)
        values.update(month=found.so_far["month"], as_of=found.so_far["as_of"], so_far=shown(ctx, found.so_far),
                      forecast=shown(ctx, found.forecast), buckets=bucket_rows(ctx, found.buckets, found.so_far))
    if may["ListInvoices"]:
        values["invoices"] = [{**i, "total_shown": money(i["total"], str(i["currency"]), ctx.locale)}
                              for i in await billing.list(tenant)]
    if ctx.console.budgets is not None and may["GetBudget"]:
        values["budget"] = await budget_status(ctx, ctx.console.budgets, tenant)
    if ctx.console.budgets is not None and may["ListBudgetEvents"]:
        values["events"] = [event_row(ctx, e) for e in await ctx.console.budgets.events(tenant.account_id, 20)]
    if operator:
        accounts = await asyncio.to_thread(ctx.console.iam.store.list_accounts)
        tenants = [Tenant(a.account_id, a.name) for a in sorted(accounts, key=lambda a: a.name)]
        values["overview"] = [{"tenant": line.tenant, "so_far": money(line.so_far["total"], line.so_far["currency"],
                                                                     ctx.locale),
                               "forecast": money(line.forecast["total"], line.forecast["currency"], ctx.locale),
                               "invoices": len(await billing.list(line.tenant))}
                              for line in await overview(billing, ctx.console.meta, tenants)]
    return ctx.render("billing.html", status=status, section="billing", **values)


async def budget_status(ctx: Ctx, budgets: Budgets, tenant: Tenant) -> dict[str, Any]:
    """The budget, the month so far and its share of the budget, as the page shows them."""
    status = await budgets.status(tenant)
    budget = status["budget"]
    currency = str(budget["currency"] if budget else status["currency"])
    return {"set": budget is not None, "amount": budget["amount"] if budget else "",
            "amount_shown": money(budget["amount"], currency, ctx.locale) if budget else "",
            "updated_at": budget["updated_at"] if budget else None,
            "spent": money(status["spent"], str(status["currency"]), ctx.locale),
            "percent": figure(status["percent"], ctx.locale, "#,##0.#") if status["percent"] is not None else "",
            "currency": currency}


def event_row(ctx: Ctx, event: dict[str, Any]) -> dict[str, Any]:
    found = parse_date(event["at"])
    return {"month": event["month"], "threshold": int(event["threshold"]), "at": found.timestamp() if found else "",
            "spent": money(event["spent"], str(event["currency"]), ctx.locale),
            "budget": money(event["budget"], str(event["currency"]), ctx.locale)}


async def billing_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def set_budget(ctx: Ctx) -> Response:
    """Set the monthly budget (a form of the page, with the console's CSRF token as every form)."""
    budgets = _budgets(ctx.console)
    tenant = await _tenant(ctx)
    if not _may(ctx, tenant, "PutBudget"):
        raise HTTPError(403, NOT_ALLOWED)
    try:
        await budgets.put(tenant.account_id, ctx.req.form.get("amount", "").strip())
    except InvalidBudget:
        return await _page(ctx, 400, ctx._("A budget is an amount such as 100.00: greater than 0, with two "
                                           "decimals at most."))
    return redirect(url("/billing", tenant=_chosen(ctx, tenant), notice=ctx._("The monthly budget is set.")))


async def clear_budget(ctx: Ctx) -> Response:
    """Remove the monthly budget (its events stay)."""
    budgets = _budgets(ctx.console)
    tenant = await _tenant(ctx)
    if not _may(ctx, tenant, "DeleteBudget"):
        raise HTTPError(403, NOT_ALLOWED)
    removed = await budgets.delete(tenant.account_id)
    notice = ctx._("The monthly budget is removed.") if removed else ctx._("No budget was set.")
    return redirect(url("/billing", tenant=_chosen(ctx, tenant), notice=notice))


def _download(doc: dict[str, Any], fmt: str, name: str, pdf: bytes | None = None) -> Response:
    if fmt == "pdf":
        body = pdf or b""
    elif fmt == "csv":
        body = to_csv(doc).encode()
    else:
        body = json.dumps(doc, ensure_ascii=False, indent=2).encode()
    return Response(200, body, FORMATS[fmt], [("content-disposition", f'attachment; filename="{name}.{fmt}"')])


async def invoice_file(ctx: Ctx) -> Response:
    """An issued invoice as PDF, CSV or JSON."""
    billing = _billing(ctx.console)
    tenant = await _tenant(ctx)
    if not _may(ctx, tenant, "GetInvoice"):
        raise HTTPError(403, NOT_ALLOWED)
    try:
        doc = await billing.get(tenant, ctx.params["month"])
    except (NoSuchInvoice, InvalidMonth):
        raise HTTPError(404, NO_INVOICE) from None
    fmt = ctx.params["fmt"]
    pdf = await asyncio.to_thread(to_pdf, doc) if fmt == "pdf" else None
    return _download(doc, fmt, re.sub(r"[^A-Za-z0-9_-]", "_", str(doc["number"])), pdf)


async def preview_file(ctx: Ctx) -> Response:
    """The month so far as PDF, CSV or JSON (a preview: no number, never stored)."""
    billing = _billing(ctx.console)
    tenant = await _tenant(ctx)
    if not _may(ctx, tenant, "GetPreview"):
        raise HTTPError(403, NOT_ALLOWED)
    doc = await billing.preview(tenant)
    fmt = ctx.params["fmt"]
    pdf = await asyncio.to_thread(to_pdf, doc) if fmt == "pdf" else None
    return _download(doc, fmt, f"preview-{doc['month']}", pdf)


ROUTES = [
    Route("GET", r"/billing", billing_page),
    Route("GET", r"/billing/invoices/(?P<month>\d{4}-\d{2})\.(?P<fmt>pdf|csv|json)", invoice_file),
    Route("GET", r"/billing/preview\.(?P<fmt>pdf|csv|json)", preview_file),
    Route("POST", r"/billing/budget", set_budget),
    Route("POST", r"/billing/budget/delete", clear_budget),
]
