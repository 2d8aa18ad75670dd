"""The tenant's billing API: JSON over HTTP at ``/billing/...`` on the S3 port, signed with SigV4 (service
``nuage-billing``) by any access key of the tenant. A caller only ever sees its own account's usage,
invoices and budget: no route names an account.

    GET    /billing/usage?from=YYYY-MM-DD&to=YYYY-MM-DD   metered quantities per bucket, region and metric over
                                                       the UTC days [from, to) (default: this month so far)
    GET    /billing/preview[?month=YYYY-MM&format=F]     the month so far as an invoice shows it (never
                                                       stored), with a forecast of the whole month (JSON)
    GET    /billing/invoices                             the account's issued invoices (a summary each)
    GET    /billing/invoices/YYYY-MM[?format=F]          an issued invoice: json (default), csv or pdf
    GET    /billing/budget                               the monthly budget, with the month so far
    PUT    /billing/budget        {"amount": "100.00"}   set it (a decimal string in the sheet's currency)
    DELETE /billing/budget                               remove it
    GET    /billing/events[?max=N]                       budget events (80% and 100% reached), latest first

Invoices are issued by the operator only (nuage admin invoice): a tenant reads them. Authorization is IAM's
for actions that are not S3's: the account's root user may do everything; an IAM user needs an Allow in its
identity policies (an explicit Deny wins) of the route's action (:data:`ACTIONS`) on the resource
``arn:aws:nuage-billing::ACCOUNT_ID:account`` (which ``"*"`` matches too).

Errors are JSON, ``{"error": {"code", "message"}}``: 400 InvalidArgument, InvalidMonth, MonthNotClosed,
MalformedJSON; 403 for a signature or an authorization refused; 404 NoSuchInvoice, NoSuchBudget,
NoSuchRoute; 405 MethodNotAllowed; 503 ServiceUnavailable with Retry-After when the metadata database does
not answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote

from nuage.accesslog import tell
from nuage.asgi import BodyError, json_object, read_small_body, scope_header, signing_parts
from nuage.billing.access import PREFIX, account_arn, allowed
from nuage.billing.budgets import Budgets, InvalidBudget, NoSuchBudget
from nuage.billing.forecast import UsageSource, forecast
from nuage.billing.invoice import Month
from nuage.billing.render import to_csv, to_pdf
from nuage.billing.service import Billing, InvalidMonth, MonthNotClosed, NoSuchInvoice, Tenant
from nuage.core.access.query import base_conditions
from nuage.core.identities import Identities, Identity
from nuage.core.signed_calls import scope_region, verify_call
from nuage.errors import AccessDenied
from nuage.sigv4 import errors as sv
from nuage.storage.meta.metering import METRICS
from nuage.storage.meta.outage import RETRY_AFTER, database_unavailable

log = logging.getLogger("nuage.billing")

SERVICE = "nuage-billing"
MAX_BODY = 16 * 1024
MAX_DAYS = 3 * 366
FORMATS = ("json", "csv", "pdf")

#: (method, route) -> the IAM action it needs
ACTIONS: dict[tuple[str, str], str] = {
    ("GET", "usage"): "GetUsage",
    ("GET", "preview"): "GetPreview",
    ("GET", "invoices"): "ListInvoices",
    ("GET", "invoice"): "GetInvoice",
    ("GET", "budget"): "GetBudget",
    ("PUT", "budget"): "PutBudget",
    ("DELETE", "budget"): "DeleteBudget",
    ("GET", "events"): "ListBudgetEvents",
}

#: failures of the signature -> (code, status), as the SQL jobs API answers them
AUTH_ERRORS: dict[type[Exception], tuple[str, int]] = {
    sv.AuthError: ("AccessDenied", 403),
    sv.SignatureMismatch: ("SignatureDoesNotMatch", 403),
    sv.UnknownAccessKey: ("InvalidAccessKeyId", 403),
    sv.ClockSkewed: ("RequestTimeTooSkewed", 403),
    sv.MalformedAuthorizationHeader: ("AuthorizationHeaderMalformed", 403),
    sv.MalformedPresignedQuery: ("AuthorizationQueryParametersError", 403),
    sv.BadAuthArgument: ("InvalidArgument", 403),
    sv.MissingPayloadHash: ("InvalidRequest", 403),
}


def is_billing_request(scope: dict[str, Any]) -> bool:
    path = str(scope.get("path", ""))
    return (scope.get("type") == "http" and (path == "/billing" or path.startswith("/billing/"))
            and scope_region(scope_header(scope, b"authorization"), SERVICE) is not None)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Download:
    body: bytes
    content_type: str
    filename: str


def _day(text: str, name: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise ApiError(400, "InvalidArgument", f"{name} must be a day as YYYY-MM-DD, got {text!r}.") from None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BillingApp:
    def __init__(self, billing: Billing, budgets: Budgets, usage: UsageSource, identities: Identities,
                 account_name: Callable[[str], str], region: str, max_skew_seconds: int = 900) -> None:
        self.billing = billing
        self.budgets = budgets
        self.usage = usage
        self.identities = identities
        self.account_name = account_name      # account id -> the tenant's name (on a thread: a store read)
        self.regions = {"us-east-1", region}
        self.max_skew = max_skew_seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json")]
        try:
            status, payload = await self._handle(scope, receive)
            if isinstance(payload, Download):
                body = payload.body
                headers = [(b"content-type", payload.content_type.encode()),
                           (b"content-disposition", f'attachment; filename="{payload.filename}"'.encode())]
            else:
                body = json.dumps(payload, ensure_ascii=False).encode()
        except ApiError as err:
            status, body = err.status, self._error(err.code, err.message)
        except Exception as exc:
            if database_unavailable(exc, log, f"billing {scope.get('method')} {scope.get('path')}",
                                    "503 ServiceUnavailable"):
                status, body = 503, self._error("ServiceUnavailable", "The metadata database did not answer. "
                                                                      "Please try again.")
                headers.append((b"retry-after", str(RETRY_AFTER).encode()))
            else:
                log.exception("internal error in the billing API")
                status, body = 500, self._error("InternalError", "Internal failure.")
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _error(code: str, message: str) -> bytes:
        return json.dumps({"error": {"code": code, "message": message}}).encode()

    def _authenticate(self, scope: dict[str, Any], body: bytes) -> Identity:
        raw_path, raw_query, headers = signing_parts(scope)
        try:
            return verify_call(self.identities, scope["method"], raw_path, raw_query, headers, body,
                               service=SERVICE, regions=self.regions, max_skew_seconds=self.max_skew)
        except sv.AuthError as exc:
            code, status = next((AUTH_ERRORS[k] for k in type(exc).__mro__ if k in AUTH_ERRORS),
                                ("AccessDenied", 403))
            raise ApiError(status, code, exc.message) from exc
        except AccessDenied as exc:   # a key of a suspended account
            raise ApiError(403, "AccessDenied", exc.message) from exc

    def _authorize(self, caller: Identity, action: str, conditions: dict[str, list[str]]) -> None:
        """The root user may do everything on its own account; an IAM user needs an Allow of ``action`` in
        its identity policies, and no Deny."""
        if not allowed(self.identities, caller, action, conditions):
            raise ApiError(403, "AccessDenied", f"User: {caller.arn} is not authorized to perform: "
                                                f"{PREFIX}:{action} on resource: {account_arn(caller.account_id)}")

    @staticmethod
    def _route(method: str, parts: list[str]) -> str:
        """The route's name in :data:`ACTIONS` (ApiError when there is none)."""
        if parts in (["usage"], ["preview"], ["invoices"], ["budget"], ["events"]):
            name = parts[0]
        elif len(parts) == 2 and parts[0] == "invoices":
            name = "invoice"
        else:
            raise ApiError(404, "NoSuchRoute", f"No billing operation {method} /billing/{'/'.join(parts)}.")
        if (method, name) not in ACTIONS:
            if name in ("invoice", "invoices"):
                raise ApiError(405, "MethodNotAllowed", "A tenant reads its invoices: the operator issues them.")
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on /billing/{'/'.join(parts)}.")
        return name

    async def _handle(self, scope: dict[str, Any], receive: Any) -> tuple[int, Any]:
        try:
            raw = await read_small_body(receive, MAX_BODY)
        except BodyError as exc:
            if exc.too_large:
                raise ApiError(413, "EntityTooLarge", "The request is too large.") from exc
            raise ApiError(400, "IncompleteBody", "The request body was not received.") from exc
        # on a thread: a key not cached yet is read from the store, which must not stall the event loop
        caller = await asyncio.to_thread(self._authenticate, scope, raw)
        method = str(scope["method"])
        parts = [unquote(p) for p in str(scope["path"]).split("/")[2:] if p]
        tell(scope, "billing", principal=caller.arn, access_key=caller.access_key)
        name = self._route(method, parts)
        action = ACTIONS[(method, name)]
        tell(scope, "billing", operation=action)
        await asyncio.to_thread(self._authorize, caller, action, _conditions(scope))
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        account = caller.account_id
        try:
            if name == "usage":
                return 200, await self._usage(account, query)
            if name == "events":
                limit = _int(query.get("max"), 100, 1000)
                return 200, {"account_id": account, "events": await self.budgets.events(account, limit)}
            if name == "budget":
                return await self._budget(method, raw, await self._tenant(account))
            fmt = query.get("format", "json")
            if fmt not in FORMATS:
                raise ApiError(400, "InvalidArgument", f"format is one of {', '.join(FORMATS)}, got {fmt!r}.")
            tenant = await self._tenant(account)
            if name == "invoices":
                return 200, {"account_id": account, "invoices": await self.billing.list(tenant)}
            if name == "invoice":
                document = await self.billing.get(tenant, parts[1])
                return 200, await self._render(document, fmt, str(document["number"]))
            document = await self.billing.preview(tenant, query.get("month") or None)
            if fmt != "json":
                return 200, await self._render(document, fmt, f"preview-{document['month']}")
            month = Month.parse(document["month"])
            document["forecast"] = await forecast(self.usage, account, self.billing.sheet, month,
                                                  self.billing.clock())
            return 200, document
        except (InvalidMonth, MonthNotClosed) as exc:
            raise ApiError(400, type(exc).__name__, exc.message) from exc
        except NoSuchInvoice as exc:
            raise ApiError(404, "NoSuchInvoice", exc.message) from exc
        except NoSuchBudget as exc:
            raise ApiError(404, "NoSuchBudget", exc.message) from exc
        except InvalidBudget as exc:
            raise ApiError(400, "InvalidArgument", exc.message) from exc

    async def _tenant(self, account_id: str) -> Tenant:
        return Tenant(account_id, await asyncio.to_thread(self.account_name, account_id))

    async def _usage(self, account_id: str, query: dict[str, str]) -> dict[str, Any]:
        today = datetime.fromtimestamp(self.billing.clock(), UTC).date()
        first = query.get("from") or today.replace(day=1).isoformat()
        last = query.get("to") or (today + timedelta(days=1)).isoformat()
        start, end = _day(first, "from"), _day(last, "to")
        if end <= start:
            raise ApiError(400, "InvalidArgument", "to must be a day after from.")
        if end - start > MAX_DAYS * 86400:
            raise ApiError(400, "InvalidArgument", f"At most {MAX_DAYS} days at once.")
        rows = [r for r in await self.usage.meter_totals(account_id, start, end) if r.account_id == account_id]
        totals = dict.fromkeys(METRICS, 0)
        for r in rows:
            totals[r.metric] = totals.get(r.metric, 0) + int(r.value)
        return {"account_id": account_id, "from": first, "to": last, "start": _iso(start), "end": _iso(end),
                "totals": totals, "rows": [{"bucket": r.bucket, "region": r.region, "metric": r.metric,
                                            "value": int(r.value)} for r in rows]}

    async def _budget(self, method: str, raw: bytes, tenant: Tenant) -> tuple[int, Any]:
        if method == "PUT":
            try:
                body = json_object(raw)
            except ValueError as exc:
                raise ApiError(400, "MalformedJSON", str(exc)) from exc
            if "amount" not in body:
                raise ApiError(400, "InvalidArgument", "Give the budget as {\"amount\": \"100.00\"}.")
            await self.budgets.put(tenant.account_id, body["amount"])
        elif method == "DELETE":
            if not await self.budgets.delete(tenant.account_id):
                raise NoSuchBudget("No budget is set for this account.")
            return 200, {"account_id": tenant.account_id, "deleted": True}
        status = await self.budgets.status(tenant)
        if status["budget"] is None:
            raise NoSuchBudget("No budget is set for this account.")
        return 200, {"account_id": tenant.account_id, **status["budget"], "month": status["month"],
                     "spent": status["spent"], "percent": status["percent"], "thresholds": [80, 100]}

    @staticmethod
    async def _render(document: dict[str, Any], fmt: str, name: str) -> object:
        if fmt == "csv":
            return Download(to_csv(document).encode(), "text/csv; charset=utf-8", f"{name}.csv")
        if fmt == "pdf":
            return Download(await asyncio.to_thread(to_pdf, document), "application/pdf", f"{name}.pdf")
        return document

def _conditions(scope: dict[str, Any]) -> dict[str, list[str]]:
    client = scope.get("client") or ("", 0)
    return base_conditions(secure=scope.get("scheme") == "https", source_ip=str(client[0]) or None)


def _int(raw: str | None, default: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "InvalidArgument", "Expected a positive whole number.")
    return min(int(raw), hi)
