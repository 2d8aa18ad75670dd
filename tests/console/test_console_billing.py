"""The console's Billing page, against a real server with a price sheet of the test's own (requests priced
high, so that a few requests cost cents): two tenants whose usage of this month is real traffic (boto3,
metered and flushed every 0.2 s), and an invoice of last month issued by the admin API from metered rows of
last month (as tests/api/test_invoices.py puts them there).

In Chromium: a tenant's root user sees the month so far, the forecast, its bucket and its invoice, downloads
the invoice as PDF, CSV and JSON, sets a budget that the month so far exceeds and sees the 80% and 100%
events; the operator sees both tenants and opens one. Over HTTP: another tenant's user gets 404 for this
tenant's invoice and page, an IAM user without nuage-billing permissions gets no Billing link and 403, one
allowed only the invoices sees them and nothing else, and the budget's forms need the CSRF token."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from nuage.billing.invoice import Month
from nuage.storage.meta.metering import MeterRow
from tests.api.test_invoices import Usage, call, call_json, last_month, new_tenant
from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY
from tests.console.test_console_browser import shot
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

PRICES = """
currency = "USD"
tax_rate = "0.10"
invoice_prefix = "CON"
issuer = "Console Test Cloud"
[storage]
price = "0.10"
[requests_a]
price = "50"
[requests_b]
price = "40"
[data_out]
price = "0.09"
[replication]
price = "0.02"
[scanned]
price = "0.002"
"""
PUTS = 4                 # each a class A request: 4 x 50 / 1,000 = 0.20
GETS = 5                 # each a class B request: 5 x 40 / 10,000 = 0.02


@dataclass(frozen=True)
class Tenant:
    name: str
    account_id: str
    access_key: str
    secret_key: str
    bucket: str


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    folder = tmp_path_factory.mktemp("console-billing")
    (folder / "prices.toml").write_text(PRICES)
    srv = NuageServer(folder / "data", env={"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "1",
                                            "NUAGE_BUDGET_INTERVAL": "1"},
                      extra_args=["--prices", str(folder / "prices.toml")]).start()
    yield srv
    assert srv.stop() == 0, srv.log()


def make_tenant(server: NuageServer, prefix: str) -> Tenant:
    """A tenant with a root key and a bucket that saw PUTS uploads and GETS downloads (real traffic)."""
    tenant = new_tenant(server, prefix)
    status, _, body = call(server, "POST", f"/admin/tenants/{tenant['name']}/keys")
    assert status in (200, 201), body
    key = json.loads(body)
    s3 = server.client(access_key=key["access_key"], secret_key=key["secret_key"])
    bucket = unique_bucket_name(prefix)
    s3.create_bucket(Bucket=bucket)
    for i in range(PUTS - 1):                  # the CreateBucket is the 4th class A request
        s3.put_object(Bucket=bucket, Key=f"data/{i}.bin", Body=b"x" * 100_000)
    for _ in range(GETS):
        s3.get_object(Bucket=bucket, Key="data/0.bin")["Body"].read()
    return Tenant(tenant["name"], tenant["account_id"], key["access_key"], key["secret_key"], bucket)


def wait_metered(server: NuageServer, tenant: Tenant) -> dict[str, Any]:
    """The month so far once the tenant's requests are flushed (the admin API's preview)."""
    deadline = time.monotonic() + 20
    while True:
        status, doc = call_json(server, "GET", f"/admin/tenants/{tenant.name}/invoices/preview")
        assert status == 200, doc
        got = {line["metric"]: line["quantity"] for line in doc["lines"]}
        if (int(got["requests_a"]) >= PUTS and int(got["requests_b"]) >= GETS) or time.monotonic() > deadline:
            return dict(doc)
        time.sleep(0.3)


@dataclass(frozen=True)
class World:
    acme: Tenant
    globex: Tenant
    month: str              # last month, invoiced for acme
    number: str             # acme's invoice number


@pytest.fixture(scope="module")
def world(billed: NuageServer) -> World:
    acme, globex = make_tenant(billed, "acme"), make_tenant(billed, "globex")
    month = Month.parse(last_month())
    hour = month.start + 3600 * 5
    metered = Usage(billed)
    try:
        metered.add([MeterRow(acme.account_id, acme.bucket, billed.region, hour, "requests_a", 10_000),
                     MeterRow(acme.account_id, acme.bucket, billed.region, hour, "storage_byte_hours", 2 ** 30 * 24)])
    finally:
        metered.close()
    status, doc = call_json(billed, "POST", f"/admin/tenants/{acme.name}/invoices/{month}")
    assert status == 201, doc
    assert doc["total"] == "550.00", doc                # 10,000 x 50 / 1,000 = 500.00 (+ storage 0.00) + 10% tax
    for tenant in (acme, globex):
        so_far = wait_metered(billed, tenant)
        assert int(next(line["quantity"] for line in so_far["lines"] if line["metric"] == "requests_a")) >= PUTS
    return World(acme, globex, str(month), str(doc["number"]))


def sign_in(page: Any, server: NuageServer, access_key: str, secret_key: str) -> None:
    page.goto(server.console_endpoint + "/")
    page.get_by_label("Access key").fill(access_key)
    page.get_by_label("Secret key").fill(secret_key)
    page.keyboard.press("Enter")
    page.wait_for_url(server.console_endpoint + "/buckets")


def download(page: Any, label: str, tmp_path: Path) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_label(label).click()
    got = info.value
    saved = tmp_path / got.suggested_filename
    got.save_as(str(saved))
    return got.suggested_filename, saved.read_bytes()


def test_a_tenant_reads_its_month_and_downloads_its_invoice(billed: NuageServer, world: World, browser: Any,
                                                            shots: Path, tmp_path: Path) -> None:
    acme = world.acme
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, billed, acme.access_key, acme.secret_key)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
        page.wait_for_url(billed.console_endpoint + "/billing")
        assert page.locator("h1").inner_text() == "Billing"
        assert acme.account_id in page.locator("#billing-tenant").inner_text()
        assert page.locator("#tenants").count() == 0                     # not the operator: no other tenant
        # the month so far: the real traffic of this month, priced
        row = page.locator('#month-lines tr[data-metric="requests_a"]')
        assert int(row.locator("td").nth(0).inner_text().replace(",", "")) >= PUTS
        assert row.locator("td").nth(1).inner_text() == "requests"
        assert row.locator("td").nth(2).inner_text() == "$50.00 per 1,000 requests"
        assert row.locator("td").nth(3).inner_text().startswith("$0.2")
        assert page.locator("#month-tax").inner_text().startswith("$")
        total = page.locator("#month-total").inner_text()
        assert re.fullmatch(r"\$0\.\d\d", total) and Decimal(total[1:]) >= Decimal("0.24"), total   # 0.22 + 10%
        assert page.locator("#forecast-total").inner_text().startswith("$")
        bucket = page.locator(f'#buckets-table tr[data-bucket="{acme.bucket}"]')
        assert int(bucket.locator("td").nth(2).get_attribute("data-value") or 0) >= PUTS
        assert int(bucket.locator("td").nth(3).get_attribute("data-value") or 0) >= GETS
        assert int(bucket.locator("td").nth(5).get_attribute("data-value") or 0) >= GETS * 100_000   # bytes out
        # the invoice of last month, and its three forms
        invoice = page.locator(f'#invoices-table tr[data-month="{world.month}"]')
        assert invoice.locator("th").inner_text() == world.number
        assert invoice.locator("td").nth(2).inner_text() == "$550.00"
        name, pdf = download(page, f"Download {world.number} as PDF", tmp_path)
        assert name == f"{world.number}.pdf" and pdf.startswith(b"%PDF")
        _, csv_bytes = download(page, f"Download {world.number} as CSV", tmp_path)
        assert csv_bytes.decode().startswith("invoice,month,currency") and world.number in csv_bytes.decode()
        _, raw = download(page, f"Download {world.number} as JSON", tmp_path)
        assert json.loads(raw)["number"] == world.number and json.loads(raw)["total"] == "550.00"
        _, preview = download(page, "Download the month so far as PDF", tmp_path)
        assert preview.startswith(b"%PDF")
        # a budget the month so far already exceeds: both thresholds fire (evaluated every second)
        page.get_by_label("Amount a month (USD)").fill("0.10")
        page.get_by_role("button", name="Set the budget").click()
        page.wait_for_url(re.compile(r".*/billing\?notice=.*"))
        assert page.locator(".notice").inner_text() == "The monthly budget is set."
        assert "Budget $0.10 a month" in page.locator("#budget-state").inner_text()
        deadline = time.monotonic() + 20
        while page.locator("#budget-events tbody tr").count() < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            page.reload()
        thresholds = page.locator("#budget-events tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.threshold)")
        assert sorted(thresholds) == ["100", "80"]
        shot(page, shots / "billing.png")                   # every control labelled
        page.get_by_role("button", name="Remove the budget").click()
        page.wait_for_url(re.compile(r".*/billing\?notice=.*"))
        assert page.locator(".notice").inner_text() == "The monthly budget is removed."
        assert page.locator("#budget-events tbody tr").count() == 2          # the events stay
    finally:
        context.close()


def test_the_operator_sees_every_tenant(billed: NuageServer, world: World, browser: Any, shots: Path,
                                        tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, billed, ACCESS_KEY, SECRET_KEY)
        page.goto(billed.console_endpoint + "/billing")
        for tenant in (world.acme, world.globex):
            row = page.locator(f'#tenants-table tr[data-tenant="{tenant.account_id}"]')
            assert row.locator("th").inner_text() == tenant.name
            assert row.locator("td").nth(1).inner_text().startswith("$0.")        # its month so far
        assert page.locator(f'#tenants-table tr[data-tenant="{world.acme.account_id}"] td').nth(3).inner_text() == "1"
        page.get_by_label("Tenant", exact=True).select_option(world.acme.account_id)
        page.get_by_role("button", name="Show its billing").click()
        page.wait_for_url(re.compile(rf".*/billing\?tenant={world.acme.account_id}$"))
        assert world.acme.name in page.locator("#billing-tenant").inner_text()
        assert page.locator(f'#invoices-table tr[data-month="{world.month}"] th').inner_text() == world.number
        _, pdf = download(page, f"Download {world.number} as PDF", tmp_path)
        assert pdf.startswith(b"%PDF")
        shot(page, shots / "billing-operator.png")
        page.goto(f"{billed.console_endpoint}/billing?tenant={world.globex.account_id}")
        assert world.globex.name in page.locator("#billing-tenant").inner_text()
        assert page.locator("#no-invoices").is_visible()
    finally:
        context.close()


def test_another_tenant_gets_404(billed: NuageServer, world: World) -> None:
    globex = ConsoleClient(billed.console_endpoint)
    assert globex.sign_in(world.globex.access_key, world.globex.secret_key).status == 303
    own = globex.get("/billing")
    assert own.status == 200 and world.globex.account_id in own.text
    assert world.number not in own.text and world.acme.account_id not in own.text
    for path in (f"/billing/invoices/{world.month}.pdf?tenant={world.acme.account_id}",
                 f"/billing/invoices/{world.month}.json?tenant={world.acme.account_id}",
                 f"/billing?tenant={world.acme.account_id}", f"/billing/preview.json?tenant={world.acme.account_id}",
                 f"/billing/invoices/{world.month}.pdf"):              # its own: none was issued
        page = globex.get(path)
        assert page.status == 404, (path, page.status)
        assert world.number not in page.text and str(billed.data_dir) not in page.text
    refused = globex.post("/billing/budget", {"amount": "5", "tenant": world.acme.account_id})
    assert refused.status == 404


def iam_user(server: NuageServer, tenant: Tenant, policy: dict[str, Any]) -> tuple[str, str]:
    """An IAM user of ``tenant`` with one inline policy and an access key (the tenant's IAM API)."""
    iam = server.client("iam", access_key=tenant.access_key, secret_key=tenant.secret_key)
    name = f"u-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_iam_users_need_billing_permissions(billed: NuageServer, world: World) -> None:
    reader = ConsoleClient(billed.console_endpoint)
    assert reader.sign_in(*iam_user(billed, world.acme, READ_ONLY_POLICY)).status == 303
    assert 'href="/billing"' not in reader.get("/buckets").text                # no link in the navigation
    for path in ("/billing", f"/billing/invoices/{world.month}.pdf", "/billing/preview.csv"):
        page = reader.get(path)
        assert page.status == 403, (path, page.status)
        assert world.number not in page.text
    assert reader.post("/billing/budget", {"amount": "5"}).status == 403
    # allowed the invoices only: the list and the downloads, not the month so far, usage or budget
    invoices_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["nuage-billing:ListInvoices", "nuage-billing:GetInvoice"], "Resource": "*"}]}
    accountant = ConsoleClient(billed.console_endpoint)
    assert accountant.sign_in(*iam_user(billed, world.acme, invoices_only)).status == 303
    assert 'href="/billing"' in accountant.get("/buckets").text
    page = accountant.get("/billing")
    assert page.status == 200 and world.number in page.text
    assert 'id="month"' not in page.text and 'id="bucket-usage"' not in page.text and 'id="budget"' not in page.text
    assert accountant.get(f"/billing/invoices/{world.month}.csv").status == 200
    assert accountant.get("/billing/preview.json").status == 403
    assert accountant.post("/billing/budget", {"amount": "5"}).status == 403
    # an explicit Deny wins over an Allow
    denied = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "nuage-billing:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "nuage-billing:GetInvoice", "Resource": "*"}]}
    partial = ConsoleClient(billed.console_endpoint)
    assert partial.sign_in(*iam_user(billed, world.acme, denied)).status == 303
    assert partial.get("/billing").status == 200
    assert partial.get(f"/billing/invoices/{world.month}.pdf").status == 403


def test_budget_forms_need_the_csrf_token(billed: NuageServer, world: World) -> None:
    client = ConsoleClient(billed.console_endpoint)
    client.sign_in(world.globex.access_key, world.globex.secret_key)
    client.get("/billing")
    assert client.post("/billing/budget", {"amount": "5"}, csrf="forged").status == 403
    assert client.post("/billing/budget/delete", {}, csrf="").status == 403
    bad = client.post("/billing/budget", {"amount": "1.234"})
    assert bad.status == 400 and "two decimals at most" in bad.text
    done = client.post("/billing/budget", {"amount": "7"})
    assert done.status == 303
    assert "Budget $7.00 a month" in re.sub(r"\s+", " ", client.get("/billing").text)
    assert client.post("/billing/budget/delete", {}).status == 303
    assert "No budget is set" in client.get("/billing").text
