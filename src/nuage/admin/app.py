"""The admin API: JSON over HTTP at ``/admin/...`` on the S3 port, for the operator.

A request is recognised by its path (``/admin/...``) together with a SigV4 credential scope naming the
service ``nuage-admin``; anything else (a bucket named ``admin`` included) goes on to S3. Only the
operator may call it: the root user of the account that holds the server's root key.

    GET  /admin/tenants                         list tenants
    POST /admin/tenants            {"name"}     create a tenant (account)
    GET  /admin/tenants/NAME                    a tenant with its buckets, usage and quotas
    DELETE /admin/tenants/NAME                  delete a tenant with its users, groups, policies and keys
                                                (409 DeleteConflict while it owns buckets)
    POST /admin/tenants/NAME/suspend            suspend (its keys get AccessDenied)
    POST /admin/tenants/NAME/activate           lift a suspension
    POST /admin/tenants/NAME/keys               create a root access key (the secret is returned once)
    GET  /admin/tenants/NAME/keys               every key of the tenant's root and users (never a secret)
    DELETE /admin/keys/ACCESS_KEY               revoke (delete) any tenant's key
    PUT  /admin/quotas             {"tenant"|"bucket", "max_bytes", "max_objects"}   set a quota
    GET  /admin/replication                     replication per rule: backlog, lag, failures
    GET  /admin/tenants/NAME/usage              same as GET /admin/tenants/NAME
    GET  /admin/usage                           every tenant's usage and quotas
    .../tenants/NAME/invoices...                invoices: see admin/billing.py
    .../tenants/NAME/budget..., /budgets/events budgets and their events: see admin/budgets.py
    GET  /admin/usage/metered?tenant=&from=&to= metered quantities per bucket, region and metric (metering.py)

Tenants are named by their name or their 12-digit account id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from nuage.accesslog import tell
from nuage.admin.billing import Download, InvoiceRoutes
from nuage.admin.budgets import BudgetRoutes
from nuage.admin.metering import metered_usage
from nuage.asgi import BodyError, json_object, read_small_body, scope_header, signing_parts
from nuage.core import iam as core
from nuage.core.iam import IAM
from nuage.core.identities import Identities, Identity
from nuage.core.quotas import Quotas
from nuage.core.signed_calls import scope_region, verify_call
from nuage.core.tenants import Tenants
from nuage.errors import AccessDenied, BucketNotFound, InvalidArgument, NuageError
from nuage.s3.errors import from_auth
from nuage.sigv4 import AuthError
from nuage.storage.meta.iam import AccountRecord
from nuage.storage.meta.outage import RETRY_AFTER, database_unavailable

log = logging.getLogger("nuage.admin")

SERVICE = "nuage-admin"
MAX_BODY = 64 * 1024
TENANT_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message




def is_admin_request(scope: dict[str, Any]) -> bool:
    path = str(scope.get("path", ""))
    return (scope.get("type") == "http" and (path == "/admin" or path.startswith("/admin/"))
            and scope_region(scope_header(scope, b"authorization"), SERVICE) is not None)



def _tenant_dict(rec: AccountRecord) -> dict[str, object]:
    return {"account_id": rec.account_id, "name": rec.name, "status": rec.status,
            "canonical_id": rec.canonical_id, "created": rec.created}


def _limit(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AdminError(400, "InvalidArgument", f"{name} must be a non-negative integer or null.")
    return value


class AdminApp:
    def __init__(self, iam: IAM, identities: Identities, quotas: Quotas, operator_canonical_id: str,
                 region: str, max_skew_seconds: int = 900,
                 replication_status: Callable[[], Awaitable[dict[str, object]]] | None = None,
                 invoices: InvoiceRoutes | None = None, budgets: BudgetRoutes | None = None) -> None:
        self.iam = iam
        self.tenants = Tenants(iam)
        self.identities = identities
        self.quotas = quotas
        self.operator = operator_canonical_id
        self.regions = {"us-east-1", region}
        self.max_skew = max_skew_seconds
        self.replication_status = replication_status   # None: no region registry
        self.invoices = invoices
        self.budgets = budgets

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json")]
        try:
            status, payload = await self._handle(scope, receive)
        except AdminError as err:
            status, payload = err.status, {"error": {"code": err.code, "message": err.message}}
        except core.NoSuchEntity as exc:
            status, payload = 404, {"error": {"code": "NoSuchEntity", "message": exc.message}}
        except core.DeleteConflict as exc:
            status, payload = 409, {"error": {"code": "DeleteConflict", "message": exc.message}}
        except BucketNotFound as exc:
            status, payload = 404, {"error": {"code": "NoSuchBucket", "message": exc.message}}
        except (core.InvalidInput, InvalidArgument) as exc:
            status, payload = 400, {"error": {"code": "InvalidArgument", "message": exc.message}}
        except AccessDenied as exc:
            status, payload = 403, {"error": {"code": "AccessDenied", "message": exc.message}}
        except NuageError as exc:
            status, payload = 400, {"error": {"code": type(exc).__name__, "message": exc.message}}
        except Exception as exc:
            if database_unavailable(exc, log, f"admin {scope.get('method')} {scope.get('path')}",
                                    "503 ServiceUnavailable"):
                status, payload = 503, {"error": {"code": "ServiceUnavailable", "message": (
                    "The metadata database did not answer. Please try again.")}}
                headers.append((b"retry-after", str(RETRY_AFTER).encode()))
            else:
                log.exception("internal error in the admin API")
                status, payload = 500, {"error": {"code": "InternalError", "message": "Internal failure."}}
        if isinstance(payload, Download):   # an invoice as CSV or PDF
            body, headers = payload.body, payload.headers()
        else:
            body = json.dumps(payload).encode()
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _read(self, receive: Any) -> bytes:
        try:
            return await read_small_body(receive, MAX_BODY)
        except BodyError as exc:
            if exc.too_large:
                raise AdminError(413, "EntityTooLarge", "The request is too large.") from exc
            raise AdminError(400, "IncompleteBody", "The request body was not received.") from exc

    def _authenticate(self, scope: dict[str, Any], body: bytes) -> Identity:
        raw_path, raw_query, headers = signing_parts(scope)
        try:
            ident = verify_call(self.identities, scope["method"], raw_path, raw_query, headers, body,
                                service=SERVICE, regions=self.regions, max_skew_seconds=self.max_skew)
        except AuthError as exc:
            raise AdminError(403, from_auth(exc).code, exc.message) from exc
        if not ident.is_root or ident.canonical_id != self.operator:
            raise AdminError(403, "AccessDenied", "Only the operator may use the admin API.")
        return ident

    def _tenant(self, name: str) -> AccountRecord:
        return self.tenants.find(name)

    async def _handle(self, scope: dict[str, Any], receive: Any) -> tuple[int, object]:
        raw = await self._read(receive)
        # on a thread: a key not cached yet is read from the store, which must not stall the event loop
        ident = await asyncio.to_thread(self._authenticate, scope, raw)
        try:
            body = json_object(raw)
        except ValueError as exc:
            raise AdminError(400, "MalformedJSON", str(exc)) from exc
        method = scope["method"]
        parts = [unquote(p) for p in str(scope["path"]).split("/")[2:] if p]
        tell(scope, "admin", operation=f"{method} {parts[0] if parts else ''}", principal=ident.arn,
             access_key=ident.access_key)
        if parts == ["tenants"] and method == "GET":
            accounts = await asyncio.to_thread(self.iam.store.list_accounts)
            return 200, {"tenants": [_tenant_dict(a) for a in accounts]}
        if parts == ["tenants"] and method == "POST":
            return 201, await asyncio.to_thread(self._create_tenant, str(body.get("name", "")))
        if parts == ["usage"] and method == "GET":
            accounts = await asyncio.to_thread(self.iam.store.list_accounts)
            return 200, {"tenants": [(await self.quotas.tenant_usage(a)).as_dict() for a in accounts]}
        if parts == ["usage", "metered"] and method == "GET":
            return 200, await metered_usage(self.quotas.meta, self.tenants, scope)
        if len(parts) == 2 and parts[0] == "keys" and method == "DELETE":
            return 200, await asyncio.to_thread(self._revoke_key, parts[1], ident.access_key)
        if len(parts) >= 2 and parts[0] == "tenants":
            tenant = await asyncio.to_thread(self._tenant, parts[1])
            rest = parts[2:]
            if rest[:1] == ["invoices"] and self.invoices is not None:
                return await self.invoices.handle(method, tenant, rest[1:], scope.get("query_string", b"").decode())
            if rest[:1] == ["budget"] and self.budgets is not None:
                return await self.budgets.handle(method, tenant, rest[1:], body,
                                                 scope.get("query_string", b"").decode())
            if method == "GET" and rest in ([], ["usage"]):
                return 200, (await self.quotas.tenant_usage(tenant)).as_dict()
            if method == "DELETE" and rest == []:
                return 200, await asyncio.to_thread(self._delete_tenant, tenant)
            if method == "GET" and rest == ["keys"]:
                found = await asyncio.to_thread(self.tenants.keys, tenant)
                return 200, {"tenant": tenant.name, "account_id": tenant.account_id,
                             "keys": [k.as_dict() for k in found]}
            if method == "POST" and rest in (["suspend"], ["activate"]):
                status = core.SUSPENDED if rest == ["suspend"] else core.ACTIVE
                if status == core.SUSPENDED and tenant.canonical_id == self.operator:
                    raise AdminError(409, "OperatorAccount", "The operator's own account cannot be suspended.")
                await asyncio.to_thread(self.iam.set_account_status, tenant.account_id, status)
                self.identities.invalidate()
                return 200, _tenant_dict(await asyncio.to_thread(self.iam.account, tenant.account_id))
            if method == "POST" and rest == ["keys"]:
                key, secret = await asyncio.to_thread(self.iam.create_access_key, tenant.account_id, None)
                return 201, {"tenant": tenant.name, "account_id": tenant.account_id,
                             "access_key": key.access_key, "secret_key": secret}
        if parts == ["budgets", "events"] and method == "GET" and self.budgets is not None:
            accounts = await asyncio.to_thread(self.iam.store.list_accounts)
            return await self.budgets.all_events(scope.get("query_string", b"").decode(),
                                                 {a.account_id: a.name for a in accounts})
        if parts == ["replication"] and method == "GET":
            if self.replication_status is None:
                raise AdminError(404, "ReplicationNotConfigured", "This region has no region registry (--regions).")
            return 200, await self.replication_status()
        if parts == ["quotas"] and method == "PUT":
            return 200, await self._set_quota(body)
        raise AdminError(404, "NoSuchRoute", f"No admin operation {method} {scope['path']}.")

    def _create_tenant(self, name: str) -> dict[str, object]:
        if not TENANT_NAME_RE.match(name):
            raise AdminError(400, "InvalidArgument", "A tenant name is 1 to 64 letters, digits or +=,.@_-.")
        if any(a.name == name for a in self.iam.store.list_accounts()):
            raise AdminError(409, "TenantAlreadyExists", f"A tenant named {name} already exists.")
        return _tenant_dict(self.iam.create_account(name))

    def _delete_tenant(self, tenant: AccountRecord) -> dict[str, object]:
        if tenant.canonical_id == self.operator:
            raise AdminError(409, "OperatorAccount", "The operator's own account cannot be deleted.")
        removal = self.tenants.delete(tenant)
        self.identities.invalidate()
        return {"name": tenant.name, "account_id": tenant.account_id, "deleted": True, "users": removal.users,
                "groups": removal.groups, "policies": removal.policies, "keys": removal.keys}

    def _revoke_key(self, access_key: str, own_key: str) -> dict[str, object]:
        key, account = self.tenants.key(access_key)
        if key.access_key == own_key:
            raise AdminError(409, "OperatorKey", "This request is signed with that key: revoke it with another "
                                                 "key of the operator's.")
        self.tenants.revoke(key.access_key)
        self.identities.invalidate(key.access_key)
        return {"access_key": key.access_key, "account_id": key.account_id,
                "tenant": account.name if account is not None else None, "user": key.user_name, "deleted": True}

    async def _set_quota(self, body: dict[str, Any]) -> dict[str, object]:
        max_bytes, max_objects = _limit(body, "max_bytes"), _limit(body, "max_objects")
        tenant, bucket = body.get("tenant"), body.get("bucket")
        if (tenant is None) == (bucket is None):
            raise AdminError(400, "InvalidArgument", "Give exactly one of tenant and bucket.")
        if tenant is not None:
            rec = await asyncio.to_thread(self._tenant, str(tenant))
            await self.quotas.set_account_quota(rec.account_id, max_bytes, max_objects)
            return {"tenant": rec.name, "account_id": rec.account_id,
                    "quota": {"max_bytes": max_bytes, "max_objects": max_objects}}
        await self.quotas.set_bucket_quota(str(bucket), max_bytes, max_objects)
        return {"bucket": bucket, "quota": {"max_bytes": max_bytes, "max_objects": max_objects}}
