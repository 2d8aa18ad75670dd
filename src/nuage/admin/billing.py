"""The admin API's invoice routes (nuage.billing), for the operator:

    GET  /admin/tenants/NAME/invoices                          the tenant's issued invoices (a summary each)
    POST /admin/tenants/NAME/invoices/YYYY-MM                  issue the invoice of a closed month (201; 200
                                                               with the stored document when issued before)
    GET  /admin/tenants/NAME/invoices/YYYY-MM[?format=F]       an issued invoice: json (default), csv or pdf
    GET  /admin/tenants/NAME/invoices/preview[?month=YYYY-MM&format=F]
                                                               the month so far (default: the current one),
                                                               never stored

Errors are the admin API's JSON errors: 400 InvalidMonth, MonthNotClosed or InvalidArgument (format), 404
NoSuchInvoice (and NoSuchEntity for an unknown tenant, from the app).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from nuage.billing.render import to_csv, to_pdf
from nuage.billing.service import Billing, InvalidMonth, MonthNotClosed, NoSuchInvoice, Tenant
from nuage.storage.meta.iam import AccountRecord

FORMATS = ("json", "csv", "pdf")


@dataclass(frozen=True)
class Download:
    """An answer that is not JSON: its bytes, type and file name."""

    body: bytes
    content_type: str
    filename: str

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", self.content_type.encode()),
                (b"content-disposition", f'attachment; filename="{self.filename}"'.encode())]


def _error(status: int, code: str, message: str) -> tuple[int, object]:
    return status, {"error": {"code": code, "message": message}}


async def _render(document: dict[str, Any], fmt: str, name: str) -> object:
    if fmt == "csv":
        return Download(to_csv(document).encode(), "text/csv; charset=utf-8", f"{name}.csv")
    if fmt == "pdf":
        return Download(await asyncio.to_thread(to_pdf, document), "application/pdf", f"{name}.pdf")
    return document


class InvoiceRoutes:
    def __init__(self, billing: Billing) -> None:
        self.billing = billing

    async def handle(self, method: str, account: AccountRecord, rest: list[str], query: str) -> tuple[int, object]:
        """``rest``: the path after ``/admin/tenants/NAME/invoices``."""
        params = parse_qs(query, keep_blank_values=True)
        fmt = (params.get("format") or ["json"])[-1]
        if fmt not in FORMATS:
            return _error(400, "InvalidArgument", f"format is one of {', '.join(FORMATS)}, got {fmt!r}.")
        tenant = Tenant(account.account_id, account.name)
        try:
            if method == "GET" and rest == []:
                return 200, {"tenant": tenant.name, "account_id": tenant.account_id,
                             "invoices": await self.billing.list(tenant)}
            if method == "GET" and rest == ["preview"]:
                months = params.get("month")
                document = await self.billing.preview(tenant, months[-1] if months else None)
                return 200, await _render(document, fmt, f"preview-{tenant.name}-{document['month']}")
            if len(rest) == 1 and method == "POST":
                issued = await self.billing.issue(tenant, rest[0])
                return 201 if issued.created else 200, issued.document
            if len(rest) == 1 and method == "GET":
                document = await self.billing.get(tenant, rest[0])
                return 200, await _render(document, fmt, str(document["number"]))
        except (InvalidMonth, MonthNotClosed) as exc:
            return _error(400, type(exc).__name__, exc.message)
        except NoSuchInvoice as exc:
            return _error(404, "NoSuchInvoice", exc.message)
        return _error(404, "NoSuchRoute", f"No admin operation {method} .../invoices/{'/'.join(rest)}.")
