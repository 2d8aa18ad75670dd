"""The tenant's billing API (/billing/..., service nuage-billing) against a real server with a price sheet of
the test's own: every route for the tenant's root user and for IAM users allowed or denied by policy,
another tenant never seeing this one's data, budgets set, read and removed with their validation errors,
and the budget events: a month so far crossing 80% and then 100% of a budget fires exactly two events,
once each, which the API and `nuage admin budget` show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support.accounts import Account, add_account, client_for
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

# a class A request (PUT, LIST, ...) costs 0.40: a budget of 1.00 is at 80% after two, past 100% after three;
# everything else is free, and there is no tax
PRICES = """
currency = "USD"
tax_rate = "0"
invoice_prefix = "BUD"
issuer = "Budget Cloud"
[storage]
price = "0"
[requests_a]
price = "400"
[requests_b]
price = "0"
[data_out]
price = "0"
[replication]
price = "0"
[scanned]
price = "0"
"""
INTERVAL = 0.3
ROUTES = [("GET", "/billing/usage"), ("GET", "/billing/preview"), ("GET", "/billing/invoices"),
          ("GET", "/billing/invoices/{month}"), ("GET", "/billing/budget"), ("PUT", "/billing/budget"),
          ("DELETE", "/billing/budget"), ("GET", "/billing/events")]
ACTION = {("GET", "/billing/usage"): "GetUsage", ("GET", "/billing/preview"): "GetPreview",
          ("GET", "/billing/invoices"): "ListInvoices", ("GET", "/billing/invoices/{month}"): "GetInvoice",
          ("GET", "/billing/budget"): "GetBudget", ("PUT", "/billing/budget"): "PutBudget",
          ("DELETE", "/billing/budget"): "DeleteBudget", ("GET", "/billing/events"): "ListBudgetEvents"}


def last_month() -> str:
    first = datetime.now(UTC).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            return str(self.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            return None


def call(server: NuageServer, keys: tuple[str, str] | None, method: str, path: str, body: Any = None,
         service: str = "nuage-billing", raw: bytes | None = None) -> Response:
    """A signed call (unsigned when ``keys`` is None)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    request = AWSRequest(method=method, url=server.endpoint + path, data=data)
    if keys is not None:
        SigV4Auth(Credentials(*keys), service, server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data or None, method=method,
                                 headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


def admin(server: NuageServer, method: str, path: str, body: Any = None) -> Response:
    return call(server, (ACCESS_KEY, SECRET_KEY), method, path, body, service="nuage-admin")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    folder = tmp_path_factory.mktemp("billing-api")
    (folder / "prices.toml").write_text(PRICES)
    srv = NuageServer(folder / "data", extra_args=["--prices", str(folder / "prices.toml"),
                                                   "--access-log", str(folder / "access.log")],
                      env={"NUAGE_BUDGET_INTERVAL": str(INTERVAL), "NUAGE_METER_FLUSH_INTERVAL": "0.1",
                           "NUAGE_METER_SAMPLE_INTERVAL": "0"}).start()
    yield srv
    assert srv.stop() == 0, srv.log()


@dataclass
class Tenant:
    account: Account
    account_id: str
    keys: tuple[str, str]
    s3: Any
    iam: Any


def new_tenant(server: NuageServer) -> Tenant:
    account = add_account(server, f"bill-{uuid.uuid4().hex[:8]}")
    iam = client_for(server, account, "iam")
    account_id = iam.get_user()["User"]["Arn"].split(":")[4]
    return Tenant(account, account_id, (account.access_key, account.secret_key), client_for(server, account), iam)


def iam_user(tenant: Tenant, policy: dict[str, Any] | None) -> tuple[str, str]:
    name = f"u-{uuid.uuid4().hex[:8]}"
    tenant.iam.create_user(UserName=name)
    if policy is not None:
        tenant.iam.put_user_policy(UserName=name, PolicyName="billing", PolicyDocument=json.dumps(policy))
    key = tenant.iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture(scope="module")
def tenant(server: NuageServer) -> Tenant:
    t = new_tenant(server)
    month = last_month()
    issued = admin(server, "POST", f"/admin/tenants/{t.account.name}/invoices/{month}")
    assert issued.status == 201, issued.body
    return t


def _path(template: str) -> str:
    return template.format(month=last_month())


def _call_route(server: NuageServer, keys: tuple[str, str] | None, method: str, template: str) -> Response:
    body = {"amount": "50.00"} if method == "PUT" else None
    return call(server, keys, method, _path(template), body)


# -- every route, by the tenant's root user ----------------------------------------------------------------
def test_root_user_calls_every_route(server: NuageServer, tenant: Tenant) -> None:
    for method, template in ROUTES:
        assert call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "5"}).status == 200
        resp = _call_route(server, tenant.keys, method, template)
        assert resp.status == 200, (method, template, resp.body)
        data = resp.json()
        assert data.get("account_id", data.get("tenant", {}).get("account_id")) == tenant.account_id, data
    usage = call(server, tenant.keys, "GET", "/billing/usage").json()
    assert set(usage["totals"]) >= {"requests_a", "requests_b", "bytes_in", "storage_byte_hours"}
    today = datetime.now(UTC).date()
    assert usage["from"] == today.replace(day=1).isoformat()
    preview = call(server, tenant.keys, "GET", "/billing/preview").json()
    assert preview["kind"] == "preview" and preview["number"] is None and preview["currency"] == "USD"
    assert preview["forecast"]["method"].startswith("storage at its current rate")
    assert preview["month"] == today.strftime("%Y-%m")
    invoices = call(server, tenant.keys, "GET", "/billing/invoices").json()["invoices"]
    assert [i["month"] for i in invoices] == [last_month()] and invoices[0]["number"].startswith("BUD-")


def test_invoice_downloads(server: NuageServer, tenant: Tenant) -> None:
    month = last_month()
    pdf = call(server, tenant.keys, "GET", f"/billing/invoices/{month}?format=pdf")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    csv_ = call(server, tenant.keys, "GET", f"/billing/invoices/{month}?format=csv")
    assert csv_.status == 200 and csv_.body.startswith(b"invoice,month,currency")
    document = call(server, tenant.keys, "GET", f"/billing/invoices/{month}").json()
    assert document["kind"] == "invoice" and document["tenant"]["account_id"] == tenant.account_id
    assert call(server, tenant.keys, "GET", "/billing/preview?format=pdf").body.startswith(b"%PDF")


def test_errors_are_json(server: NuageServer, tenant: Tenant) -> None:
    cases = [("GET", "/billing/invoices/1999-01", 404, "NoSuchInvoice"),
             ("GET", "/billing/invoices/2026-13", 400, "InvalidMonth"),
             ("GET", f"/billing/invoices/{last_month()}?format=xml", 400, "InvalidArgument"),
             ("GET", "/billing/preview?month=2999-01", 400, "MonthNotClosed"),
             ("GET", "/billing/usage?from=yesterday", 400, "InvalidArgument"),
             ("GET", "/billing/usage?from=2026-02-01&to=2026-01-01", 400, "InvalidArgument"),
             ("GET", "/billing/events?max=-3", 400, "InvalidArgument"),
             ("GET", "/billing/nothing", 404, "NoSuchRoute"),
             ("POST", f"/billing/invoices/{last_month()}", 405, "MethodNotAllowed"),
             ("POST", "/billing/budget", 405, "MethodNotAllowed")]
    for method, path, status, code in cases:
        resp = call(server, tenant.keys, method, path)
        assert (resp.status, resp.code) == (status, code), (method, path, resp.body)
    bad_key = call(server, ("AKNOSUCHKEY000000000", "x" * 40), "GET", "/billing/usage")
    assert (bad_key.status, bad_key.code) == (403, "InvalidAccessKeyId")
    bad_secret = call(server, (tenant.keys[0], "y" * 40), "GET", "/billing/usage")
    assert (bad_secret.status, bad_secret.code) == (403, "SignatureDoesNotMatch")
    # unsigned, or signed for another service: not the billing API (S3 answers, with nothing of billing)
    for keys, service in ((None, "nuage-billing"), (tenant.keys, "s3")):
        other = call(server, keys, "GET", "/billing/usage", service=service)
        assert 400 <= other.status < 500 and b"account_id" not in other.body


# -- budgets -------------------------------------------------------------------------------------------------
def test_budget_set_get_delete_and_validation(server: NuageServer) -> None:
    t = new_tenant(server)
    missing = call(server, t.keys, "GET", "/billing/budget")
    assert (missing.status, missing.code) == (404, "NoSuchBudget")
    assert call(server, t.keys, "DELETE", "/billing/budget").code == "NoSuchBudget"
    for amount in ("-5", "abc", "1.001", "0", "1e3", "", 12.5, True, None, "NaN", "10000000000000"):
        resp = call(server, t.keys, "PUT", "/billing/budget", {"amount": amount})
        assert (resp.status, resp.code) == (400, "InvalidArgument"), (amount, resp.body)
    assert call(server, t.keys, "PUT", "/billing/budget", {}).code == "InvalidArgument"
    assert call(server, t.keys, "PUT", "/billing/budget", raw=b"{not json").code == "MalformedJSON"
    put = call(server, t.keys, "PUT", "/billing/budget", {"amount": "100.5"})
    assert put.status == 200, put.body
    got = call(server, t.keys, "GET", "/billing/budget").json()
    assert (got["amount"], got["currency"], got["spent"], got["percent"]) == ("100.50", "USD", "0.00", "0.0")
    assert call(server, t.keys, "PUT", "/billing/budget", {"amount": 20}).json()["amount"] == "20.00"
    deleted = call(server, t.keys, "DELETE", "/billing/budget")
    assert deleted.status == 200 and deleted.json()["deleted"] is True
    assert call(server, t.keys, "GET", "/billing/budget").status == 404


def _events(server: NuageServer, keys: tuple[str, str]) -> list[dict[str, Any]]:
    resp = call(server, keys, "GET", "/billing/events")
    assert resp.status == 200, resp.body
    return list(resp.json()["events"])


def _wait_events(server: NuageServer, keys: tuple[str, str], count: int, timeout: float = 15.0
                 ) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(server, keys)
        if len(events) >= count:
            return events
        time.sleep(0.1)
    raise AssertionError(f"{count} events expected, got {_events(server, keys)}\n{server.log()[-3000:]}")


def test_budget_events_fire_once_each(server: NuageServer) -> None:
    t = new_tenant(server)
    month = datetime.now(UTC).strftime("%Y-%m")
    assert call(server, t.keys, "PUT", "/billing/budget", {"amount": "1.00"}).status == 200
    bucket = f"spend-{uuid.uuid4().hex[:10]}"
    t.s3.create_bucket(Bucket=bucket)                      # 0.40: 40%
    time.sleep(INTERVAL * 5)
    assert _events(server, t.keys) == []
    t.s3.put_object(Bucket=bucket, Key="a", Body=b"a")      # 0.80: 80%
    events = _wait_events(server, t.keys, 1)
    assert [(e["month"], e["threshold"], e["spent"], e["budget"]) for e in events] == [(month, 80, "0.80", "1.00")]
    t.s3.put_object(Bucket=bucket, Key="b", Body=b"b")      # 1.20: past 100%
    events = _wait_events(server, t.keys, 2)
    assert [(e["threshold"], e["spent"]) for e in events] == [(100, "1.20"), (80, "0.80")]
    assert all(e["emitted"] is None and e["currency"] == "USD" for e in events)
    # more spending, a budget raised above the spend and lowered again: nothing fires again this month
    t.s3.put_object(Bucket=bucket, Key="c", Body=b"c")
    assert call(server, t.keys, "PUT", "/billing/budget", {"amount": "100.00"}).status == 200
    time.sleep(INTERVAL * 5)
    assert call(server, t.keys, "PUT", "/billing/budget", {"amount": "1.00"}).status == 200
    time.sleep(INTERVAL * 5)
    assert len(_events(server, t.keys)) == 2
    status = call(server, t.keys, "GET", "/billing/budget").json()
    assert (status["spent"], status["percent"]) == ("1.60", "160.0")
    # one log line per event
    lines = [line for line in server.log().splitlines() if f"account {t.account_id} reached" in line]
    assert len(lines) == 2, lines
    # usage shows the requests, per bucket
    usage = call(server, t.keys, "GET", "/billing/usage").json()
    assert usage["totals"]["requests_a"] == 4
    assert {(r["bucket"], r["metric"]) for r in usage["rows"]} >= {(bucket, "requests_a")}
    # the operator sees the same events, and every tenant's
    ops = admin(server, "GET", f"/admin/tenants/{t.account.name}/budget/events").json()["events"]
    assert [e["threshold"] for e in ops] == [100, 80]
    everyone = admin(server, "GET", "/admin/budgets/events").json()["events"]
    assert {(e["tenant"], e["threshold"]) for e in everyone} >= {(t.account.name, 80), (t.account.name, 100)}
    # another tenant sees none of them
    other = new_tenant(server)
    assert _events(server, other.keys) == []
    assert call(server, other.keys, "GET", "/billing/usage").json()["rows"] == []


# -- IAM users -----------------------------------------------------------------------------------------------
def test_iam_users_need_an_allow(server: NuageServer, tenant: Tenant) -> None:
    nobody = iam_user(tenant, None)
    everything = iam_user(tenant, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "nuage-billing:*", "Resource": "*"}]})
    readonly = iam_user(tenant, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["nuage-billing:Get*", "nuage-billing:List*"],
         "Resource": f"arn:aws:nuage-billing::{tenant.account_id}:account"}]})
    denied = iam_user(tenant, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "nuage-billing:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["nuage-billing:GetInvoice", "nuage-billing:PutBudget"], "Resource": "*"}]})
    for method, template in ROUTES:
        action = ACTION[(method, template)]
        call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "5"})
        refused = _call_route(server, nobody, method, template)
        assert (refused.status, refused.code) == (403, "AccessDenied"), (action, refused.body)
        assert f"nuage-billing:{action}" in refused.json()["error"]["message"]
        call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "5"})
        allowed = _call_route(server, everything, method, template)
        assert allowed.status == 200, (action, allowed.body)
        call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "5"})
        ro = _call_route(server, readonly, method, template)
        assert ro.status == (200 if action.startswith(("Get", "List")) else 403), (action, ro.body)
        call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "5"})
        explicit = _call_route(server, denied, method, template)
        assert explicit.status == (403 if action in ("GetInvoice", "PutBudget") else 200), (action, explicit.body)


# -- another tenant's keys ------------------------------------------------------------------------------------
def test_another_tenant_never_sees_this_one(server: NuageServer, tenant: Tenant) -> None:
    assert call(server, tenant.keys, "PUT", "/billing/budget", {"amount": "77.00"}).status == 200
    other = new_tenant(server)
    assert call(server, other.keys, "GET", "/billing/invoices").json()["invoices"] == []
    resp = call(server, other.keys, "GET", f"/billing/invoices/{last_month()}")
    assert (resp.status, resp.code) == (404, "NoSuchInvoice")
    assert call(server, other.keys, "GET", "/billing/budget").status == 404
    preview = call(server, other.keys, "GET", "/billing/preview").json()
    assert preview["tenant"]["account_id"] == other.account_id
    for method, template in ROUTES:
        if method == "GET":
            body = _call_route(server, other.keys, method, template).body
            assert tenant.account_id.encode() not in body and tenant.account.name.encode() not in body
    # the other tenant's budget is its own: this one's stays
    assert call(server, other.keys, "PUT", "/billing/budget", {"amount": "1.00"}).status == 200
    assert call(server, other.keys, "DELETE", "/billing/budget").status == 200
    assert call(server, tenant.keys, "GET", "/billing/budget").json()["amount"] == "77.00"


# -- the operator's command ----------------------------------------------------------------------------------
def test_nuage_admin_budget(server: NuageServer) -> None:
    t = new_tenant(server)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "LANG": "C"}

    def nuage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nuage.cli.main", "admin", "--endpoint", server.endpoint,
                               *args], capture_output=True, text=True, env=env, timeout=60)

    missing = nuage("budget", t.account.name)
    assert missing.returncode == 1 and "NoSuchBudget" in missing.stderr
    out = nuage("budget", t.account.name, "--set", "12.30")
    assert out.returncode == 0, out.stderr
    assert "12.30 USD" in out.stdout
    shown = nuage("--json", "budget", t.account.name)
    assert json.loads(shown.stdout)["amount"] == "12.30"
    assert call(server, t.keys, "GET", "/billing/budget").json()["amount"] == "12.30"
    bad = nuage("budget", t.account.name, "--set", "-1")
    assert bad.returncode == 1 and "InvalidArgument" in bad.stderr
    both = nuage("budget", t.account.name, "--set", "1", "--clear")
    assert both.returncode == 2
    events = nuage("budget", t.account.name, "--events", "--json")
    assert json.loads(events.stdout)["events"] == []
    cleared = nuage("budget", t.account.name, "--clear")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert call(server, t.keys, "GET", "/billing/budget").status == 404


def test_access_log_names_the_billing_api(server: NuageServer, tenant: Tenant) -> None:
    assert call(server, tenant.keys, "GET", "/billing/events?max=7").status == 200
    log = server.data_dir.parent / "access.log"
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines() if "max=7" in line]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert lines, log.read_text()[-2000:]
    assert (lines[-1]["api"], lines[-1]["operation"], lines[-1]["status"]) == ("billing", "ListBudgetEvents", 200)
    assert lines[-1]["principal"].endswith(":root") and lines[-1]["access_key"] == tenant.keys[0]


def test_events_fire_once_across_workers_and_restarts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Two worker processes on one SQLite database (one evaluates: a lock file), then a restart with one: the
    two thresholds still fired once each."""
    folder = tmp_path_factory.mktemp("budget-restart")
    (folder / "prices.toml").write_text(PRICES)
    env = {"NUAGE_BUDGET_INTERVAL": str(INTERVAL), "NUAGE_METER_FLUSH_INTERVAL": "0.1",
           "NUAGE_METER_SAMPLE_INTERVAL": "0"}
    args = ["--prices", str(folder / "prices.toml")]
    srv = NuageServer(folder / "data", env=env, extra_args=args, workers=2).start()
    try:
        t = new_tenant(srv)
        assert call(srv, t.keys, "PUT", "/billing/budget", {"amount": "1.00"}).status == 200
        bucket = f"spend-{uuid.uuid4().hex[:10]}"
        t.s3.create_bucket(Bucket=bucket)
        for key in "abcd":   # 2.00 in all, over both workers
            t.s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        assert sorted(e["threshold"] for e in _wait_events(srv, t.keys, 2)) == [80, 100]
        time.sleep(INTERVAL * 5)
    finally:
        assert srv.stop() == 0, srv.log()
    srv = NuageServer(folder / "data", env=env, extra_args=args, port=srv.port).start()
    try:
        t.s3 = srv.client(access_key=t.keys[0], secret_key=t.keys[1])
        t.s3.put_object(Bucket=bucket, Key="e", Body=b"x")
        time.sleep(INTERVAL * 8)
        events = _events(srv, t.keys)
        assert sorted(e["threshold"] for e in events) == [80, 100], events
    finally:
        assert srv.stop() == 0, srv.log()
    lines = [line for line in srv.log().splitlines() if f"account {t.account_id} reached" in line]
    assert len(lines) == 2, lines   # the log file of both runs
