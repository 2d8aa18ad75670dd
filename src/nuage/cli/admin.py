"""`nuage admin`: the operator's commands, sent to a running server's signed admin API (JSON over HTTP).

The endpoint comes from --endpoint or $NUAGE_ENDPOINT, the operator's root key from --access-key and
--secret-key or from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY (else $NUAGE_ROOT_ACCESS_KEY /
$NUAGE_ROOT_SECRET_KEY: see credentials.py), read only when a command calls the server, so that every
--help works without them. Requests are signed with SigV4 (service ``nuage-admin``), so the commands work
against a remote deployment too.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import click

from nuage.cli.billing import invoice
from nuage.cli.budget_cmd import budget
from nuage.cli.credentials import key_options, resolve
from nuage.cli.helpformat import Group
from nuage.cli.i18n import _
from nuage.cli.sizes import SIZE_HELP, ByteSize
from nuage.cli.usage_cmd import metered_options, show, wanted

SERVICE = "nuage-admin"


@dataclass
class AdminClient:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    verify: bool = True
    service: str = SERVICE          # nuage-admin; nuage-query for `nuage query`

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A signed JSON call: the answer's JSON (``{}`` for an empty one)."""
        data = json.dumps(body).encode() if body is not None else b""
        with self.open(method, path, data) as resp:
            return json.loads(resp.read() or b"{}")

    def open(self, method: str, path: str, data: bytes = b"") -> Any:
        """A signed request; its answer is left to read as it comes (a result of any size). An error
        answer is a ClickException with the API's code and message."""
        try:
            from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
            from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
            from botocore.credentials import Credentials  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - botocore comes with boto3 or awscli
            raise click.ClickException(_("nuage admin needs botocore (pip install botocore)")) from None

        url = self.endpoint.rstrip("/") + path
        request = AWSRequest(method=method, url=url, data=data,
                             headers={"Content-Type": "application/json"} if data else {})
        SigV4Auth(Credentials(self.access_key, self.secret_key), self.service, self.region).add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=data or None, method=method,
                                     headers=dict(prepared.headers.items()))
        context = None if self.verify else ssl._create_unverified_context()
        try:
            return urllib.request.urlopen(req, timeout=60, context=context)
        except urllib.error.HTTPError as exc:
            try:
                err = json.loads(exc.read())["error"]
                message = f"{err['code']}: {err['message']}"
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise click.ClickException(message) from None
        except urllib.error.URLError as exc:
            raise click.ClickException(_("cannot reach {endpoint}: {reason}").format(
                endpoint=self.endpoint, reason=exc.reason)) from None


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _limit(value: object) -> str:
    return "-" if value is None else str(value)


def _emit(ctx: click.Context, data: Any, rows: list[list[str]], headers: list[str]) -> None:
    if ctx.obj["json"]:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(_table(rows, headers))


def _client(ctx: click.Context) -> AdminClient:
    """The client of the admin API, made when a command first calls the server (the key is needed then)."""
    client: AdminClient | None = ctx.obj.get("client")
    if client is None:
        access_key, secret_key = resolve(ctx.obj["access_key"], ctx.obj["secret_key"])
        client = AdminClient(ctx.obj["endpoint"], access_key, secret_key, ctx.obj["region"], ctx.obj["verify"])
        ctx.obj["client"] = client
    return client


@click.group(cls=Group, help=_("Operate tenants, keys and quotas on a running server (signed admin API).\n\n"
                    "Signs with the operator's root key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "
                    "NUAGE_ROOT_ACCESS_KEY and NUAGE_ROOT_SECRET_KEY, read when AWS_ACCESS_KEY_ID is not set), "
                    "or give --access-key and --secret-key."))
@click.option("--endpoint", envvar="NUAGE_ENDPOINT", default="http://127.0.0.1:9000", show_default=True,
              help=_("Server URL ($NUAGE_ENDPOINT)."))
@key_options(operator=True)
@click.option("--region", envvar="NUAGE_REGION", default="us-east-1", show_default=True)
@click.option("--no-verify-tls", is_flag=True, help=_("Do not verify the server's TLS certificate."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON instead of a table."))
@click.pass_context
def admin(ctx: click.Context, endpoint: str, access_key: str | None, secret_key: str | None, region: str,
          no_verify_tls: bool, as_json: bool) -> None:
    """`nuage admin`: the options shared by its commands, kept in ``ctx.obj``."""
    ctx.obj = {"endpoint": endpoint, "access_key": access_key, "secret_key": secret_key, "region": region,
               "verify": not no_verify_tls, "json": as_json}


admin.add_command(invoice)   # nuage admin invoice (cli/billing.py)
admin.add_command(budget)   # nuage admin budget (cli/budget_cmd.py)


@admin.group(help=_("Tenants (accounts)."))
def tenant() -> None:
    """`nuage admin tenant`."""


def _tenant_rows(tenants: list[dict[str, Any]]) -> list[list[str]]:
    return [[t["name"], t["account_id"], t["status"]] for t in tenants]


@tenant.command("create", help=_("Create a tenant."))
@click.argument("name")
@click.pass_context
def tenant_create(ctx: click.Context, name: str) -> None:
    t = _client(ctx).call("POST", "/admin/tenants", {"name": name})
    _emit(ctx, t, _tenant_rows([t]), ["NAME", "ACCOUNT", "STATUS"])


@tenant.command("list", help=_("List tenants."))
@click.pass_context
def tenant_list(ctx: click.Context) -> None:
    data = _client(ctx).call("GET", "/admin/tenants")
    _emit(ctx, data, _tenant_rows(data["tenants"]), ["NAME", "ACCOUNT", "STATUS"])


@tenant.command("suspend", help=_("Suspend a tenant: its keys are refused."))
@click.argument("name")
@click.pass_context
def tenant_suspend(ctx: click.Context, name: str) -> None:
    t = _client(ctx).call("POST", f"/admin/tenants/{quote(name, safe='')}/suspend")
    _emit(ctx, t, _tenant_rows([t]), ["NAME", "ACCOUNT", "STATUS"])


@tenant.command("activate", help=_("Lift a tenant's suspension."))
@click.argument("name")
@click.pass_context
def tenant_activate(ctx: click.Context, name: str) -> None:
    t = _client(ctx).call("POST", f"/admin/tenants/{quote(name, safe='')}/activate")
    _emit(ctx, t, _tenant_rows([t]), ["NAME", "ACCOUNT", "STATUS"])


@tenant.command("delete", help=_("Delete a tenant: its users, groups, policies and keys go with it (its keys "
                                  "stop working).\n\nRefused (DeleteConflict) while the tenant owns buckets: "
                                  "empty and delete them first."))
@click.argument("name")
@click.pass_context
def tenant_delete(ctx: click.Context, name: str) -> None:
    d = _client(ctx).call("DELETE", f"/admin/tenants/{quote(name, safe='')}")
    _emit(ctx, d, [[d["name"], d["account_id"], str(d["users"]), str(d["groups"]), str(d["keys"])]],
          ["DELETED", "ACCOUNT", "USERS", "GROUPS", "KEYS"])


@tenant.group("key", help=_("A tenant's root access keys."))
def tenant_key() -> None:
    """`nuage admin tenant key`."""


@tenant_key.command("create", help=_("Create a root access key for a tenant (the secret is shown once)."))
@click.argument("name")
@click.pass_context
def tenant_key_create(ctx: click.Context, name: str) -> None:
    k = _client(ctx).call("POST", f"/admin/tenants/{quote(name, safe='')}/keys")
    _emit(ctx, k, [[k["tenant"], k["access_key"], k["secret_key"]]], ["TENANT", "ACCESS KEY", "SECRET KEY"])


@admin.group(help=_("Access keys of a tenant's root user and IAM users (secrets are never shown)."))
def keys() -> None:
    """`nuage admin keys`."""


def _when(ts: object) -> str:
    if not isinstance(ts, int | float):
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@keys.command("list", help=_("Every access key of a tenant: its root user's and its IAM users', with status "
                              "and creation time."))
@click.option("--tenant", "tenant_name", required=True, help=_("Tenant name (or account id)."))
@click.pass_context
def keys_list(ctx: click.Context, tenant_name: str) -> None:
    data = _client(ctx).call("GET", f"/admin/tenants/{quote(tenant_name, safe='')}/keys")
    rows = [[k["access_key"], k["user"] if k["user"] is not None else "(root)", k["status"], _when(k["created"])]
            for k in data["keys"]]
    _emit(ctx, data, rows, ["ACCESS KEY", "USER", "STATUS", "CREATED"])


@keys.command("revoke", help=_("Delete an access key, whoever's it is (as IAM's DeleteAccessKey): requests "
                                "signed with it are refused."))
@click.argument("access_key")
@click.pass_context
def keys_revoke(ctx: click.Context, access_key: str) -> None:
    k = _client(ctx).call("DELETE", f"/admin/keys/{quote(access_key, safe='')}")
    _emit(ctx, k, [[k["access_key"], k["tenant"], k["user"] if k["user"] is not None else "(root)"]],
          ["REVOKED", "TENANT", "USER"])


@admin.group(help=_("Quotas of tenants and buckets."))
def quota() -> None:
    """`nuage admin quota`."""


@quota.command("set", help=_("Set the quota of a tenant or a bucket (both limits omitted: remove it)."))
@click.option("--tenant", "tenant_name", default=None, help=_("Tenant name (or account id)."))
@click.option("--bucket", default=None, help=_("Bucket name."))
@click.option("--max-bytes", type=ByteSize(), default=None,
              help=_("Size limit (omit: none): {rule}.").format(rule=SIZE_HELP))
@click.option("--max-objects", type=click.IntRange(min=0), default=None, help=_("Object limit (omit: none)."))
@click.pass_context
def quota_set(ctx: click.Context, tenant_name: str | None, bucket: str | None, max_bytes: int | None,
              max_objects: int | None) -> None:
    if (tenant_name is None) == (bucket is None):
        raise click.UsageError(_("give exactly one of --tenant and --bucket"))
    body: dict[str, Any] = {"max_bytes": max_bytes, "max_objects": max_objects}
    body["tenant" if tenant_name is not None else "bucket"] = tenant_name if tenant_name is not None else bucket
    q = _client(ctx).call("PUT", "/admin/quotas", body)
    target = q.get("tenant") or q.get("bucket")
    _emit(ctx, q, [[target, _limit(q["quota"]["max_bytes"]), _limit(q["quota"]["max_objects"])]],
          ["TARGET", "MAX BYTES", "MAX OBJECTS"])


@admin.command("usage", help=_("Usage and quotas: one tenant's buckets with --tenant, else one line per tenant."))
@click.option("--tenant", "tenant_name", default=None, help=_("Tenant name (or account id); omit: every tenant."))
@metered_options   # nuage admin usage TENANT --from DAY --to DAY: metered quantities (usage_cmd.py)
@click.pass_context
def usage(ctx: click.Context, tenant_name: str | None, tenant: str | None, from_day: str | None,
          to_day: str | None, usage_json: bool) -> None:
    ctx.obj["json"] = ctx.obj["json"] or usage_json   # `nuage admin usage --json` as `nuage admin --json usage`
    if wanted(tenant, from_day, to_day):
        return show(_client(ctx), ctx.obj["json"], tenant, from_day, to_day)
    if tenant_name is None:
        data = _client(ctx).call("GET", "/admin/usage")
        rows = [[t["name"], t["account_id"], t["status"], str(len(t["buckets"])), str(t["bytes"]), str(t["objects"]),
                 _limit(t["quota"]["max_bytes"]), _limit(t["quota"]["max_objects"])] for t in data["tenants"]]
        _emit(ctx, data, rows, ["TENANT", "ACCOUNT", "STATUS", "BUCKETS", "BYTES", "OBJECTS", "MAX BYTES",
                                "MAX OBJECTS"])
        return
    u = _client(ctx).call("GET", f"/admin/tenants/{quote(tenant_name, safe='')}/usage")
    rows = [[b["name"], str(b["bytes"]), str(b["objects"]), _limit(b["quota"]["max_bytes"]),
             _limit(b["quota"]["max_objects"])] for b in u["buckets"]]
    rows.append([f"TOTAL ({u['name']}, {u['status']})", str(u["bytes"]), str(u["objects"]),
                 _limit(u["quota"]["max_bytes"]), _limit(u["quota"]["max_objects"])])
    _emit(ctx, u, rows, ["BUCKET", "BYTES", "OBJECTS", "MAX BYTES", "MAX OBJECTS"])


@admin.group(help=_("Cross-region replication of this region's buckets."))
def replication() -> None:
    """`nuage admin replication`."""


@replication.command("status", help=_("Per rule: backlog (versions waiting), oldest pending age, lag p50/p99, "
                                       "shipped, failures."))
@click.pass_context
def replication_status(ctx: click.Context) -> None:
    data = _client(ctx).call("GET", "/admin/replication")

    def num(value: object) -> str:
        return "-" if value is None else str(value)

    rows = [[r["bucket"], r["rule"], r["destination"], str(r["backlog"]), num(r["oldest_pending_seconds"]),
             num(r["lag_p50_seconds"]), num(r["lag_p99_seconds"]), str(r["shipped"]), str(r["failed"]),
             str(r["last_failure"] or r["last_error"] or "")] for r in data["rules"]]
    _emit(ctx, data, rows, ["BUCKET", "RULE", "DESTINATION", "BACKLOG", "OLDEST_S", "LAG_P50_S", "LAG_P99_S",
                            "SHIPPED", "FAILED", "LAST_ERROR"])
    if not ctx.obj["json"] and data.get("destinations_backing_off"):
        for region, seconds in data["destinations_backing_off"].items():
            click.echo(_("{region}: unreachable, next try in {seconds}s").format(region=region, seconds=seconds))
