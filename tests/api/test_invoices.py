"""Invoices through the admin API and `nuage admin invoice`, against a real server started with a price sheet
of the test's own (--prices): issued once for a closed month (a second issue returns the same document),
numbered gap-free across tenants, previews never stored, clean JSON errors for bad and future months and
unknown tenants, and the CSV and PDF forms."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from nuage.billing.invoice import Month
from nuage.cli.main import main
from nuage.storage.meta.metering import MeterRow
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from tests.api.test_serve_startup import nuage, refused, serve_args
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

PRICES = """
currency = "USD"
tax_rate = "0.0825"
invoice_prefix = "TST"
issuer = "Test Cloud"
[storage]
free = "1"
tiers = [{ upto = "100", price = "0.10" }, { price = "0.05" }]
[requests_a]
price = "0.005"
[requests_b]
price = "0.004"
[data_out]
free = "1"
price = "0.09"
[replication]
price = "0.02"
[scanned]
price = "0.002"
"""
GB = 2 ** 30


@pytest.fixture(scope="module")
def billed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    folder = tmp_path_factory.mktemp("invoices")
    (folder / "prices.toml").write_text(PRICES)
    srv = NuageServer(folder / "data", extra_args=["--prices", str(folder / "prices.toml")]).start()
    yield srv
    assert srv.stop() == 0, srv.log()


def call(server: NuageServer, method: str, path: str, body: dict[str, Any] | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    """A signed admin API call: (status, headers, body), whatever the status."""
    data = json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method=method, url=server.endpoint + path, data=data)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "nuage-admin", server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data or None, method=method, headers=dict(prepared.headers.items()))
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def call_json(server: NuageServer, method: str, path: str) -> tuple[int, Any]:
    status, headers, body = call(server, method, path)
    assert headers["content-type"] == "application/json", (status, headers, body[:200])
    return status, json.loads(body)


def new_tenant(server: NuageServer, prefix: str = "bill") -> dict[str, Any]:
    status, _, body = call(server, "POST", "/admin/tenants", {"name": f"{prefix}-{uuid.uuid4().hex[:8]}"})
    assert status == 201, body
    tenant = json.loads(body)
    return tenant


def last_month() -> str:
    return str(Month(*_previous(Month.of(time.time()))))


def _previous(month: Month) -> tuple[int, int]:
    return (month.year, month.month - 1) if month.month > 1 else (month.year - 1, 12)


def error(status: int, doc: Any) -> tuple[int, str]:
    assert set(doc) == {"error"} and doc["error"]["message"], doc
    return status, doc["error"]["code"]


def test_issuing_a_closed_month_twice_returns_the_same_invoice(billed: NuageServer) -> None:
    tenant = new_tenant(billed)
    month = last_month()
    status, first = call_json(billed, "POST", f"/admin/tenants/{tenant['name']}/invoices/{month}")
    assert status == 201, first
    assert re.fullmatch(rf"TST-{datetime.now(UTC).year}-\d{{6}}", first["number"]), first["number"]
    assert first["kind"] == "invoice" and first["month"] == month and first["currency"] == "USD"
    assert first["tenant"] == {"account_id": tenant["account_id"], "name": tenant["name"]}
    assert first["issuer"] == {"name": "Test Cloud", "region": billed.region}
    assert first["tax_rate"] == "0.0825" and first["issued_at"].endswith("Z")
    assert [line["metric"] for line in first["lines"]] == ["storage", "requests_a", "requests_b", "data_out",
                                                            "replication", "scanned"]
    time.sleep(1.1)   # a second issue later still returns the first document, issue time included
    status, again = call_json(billed, "POST", f"/admin/tenants/{tenant['account_id']}/invoices/{month}")
    assert status == 200 and again == first
    status, fetched = call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/{month}?format=json")
    assert status == 200 and fetched == first
    status, listed = call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices")
    assert status == 200 and [i["number"] for i in listed["invoices"]] == [first["number"]]
    assert listed["invoices"][0]["total"] == first["total"]


def test_numbers_are_distinct_and_gap_free_across_tenants(billed: NuageServer) -> None:
    tenants = [new_tenant(billed) for _ in range(3)]
    months = [last_month(), "2025-01"]
    numbers = []
    for tenant in tenants:
        for month in months:
            status, doc = call_json(billed, "POST", f"/admin/tenants/{tenant['name']}/invoices/{month}")
            assert status == 201, doc
            numbers.append(doc["number"])
    assert len(set(numbers)) == len(numbers) == 6
    # every invoice this server issued this year: the sequence 1..N, without a hole
    _, all_tenants = call_json(billed, "GET", "/admin/tenants")
    issued = [i["number"] for t in all_tenants["tenants"]
              for i in call_json(billed, "GET", f"/admin/tenants/{t['account_id']}/invoices")[1]["invoices"]]
    sequence = sorted(int(n.rsplit("-", 1)[1]) for n in issued)
    assert sequence == list(range(1, len(sequence) + 1)), issued


def test_the_preview_is_never_stored(billed: NuageServer) -> None:
    tenant = new_tenant(billed)
    current = str(Month.of(time.time()))
    status, preview = call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/preview")
    assert status == 200 and preview["kind"] == "preview" and preview["number"] is None
    assert preview["month"] == current and preview["issued_at"] is None and preview["total"] == "0.00"
    status, past = call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/preview?month=2025-03")
    assert status == 200 and past["month"] == "2025-03" and past["number"] is None
    assert call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices")[1]["invoices"] == []
    assert error(*call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/{current}")) == (
        404, "NoSuchInvoice")
    assert error(*call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/2025-03")) == (
        404, "NoSuchInvoice")


@pytest.mark.parametrize(("method", "tail", "expected"), [
    ("POST", "2026-13", (400, "InvalidMonth")),
    ("POST", "26-01", (400, "InvalidMonth")),
    ("POST", "now", (400, "InvalidMonth")),
    ("POST", "CURRENT", (400, "MonthNotClosed")),
    ("POST", "2999-01", (400, "MonthNotClosed")),
    ("GET", "2026-00", (400, "InvalidMonth")),
    ("GET", "preview?month=2999-01", (400, "MonthNotClosed")),
    ("GET", "preview?month=2026-1", (400, "InvalidMonth")),
    ("GET", "preview?format=xml", (400, "InvalidArgument")),
    ("DELETE", "2025-01", (404, "NoSuchRoute")),
    ("PUT", "", (404, "NoSuchRoute")),
])
def test_bad_and_future_months_are_clean_errors(billed: NuageServer, method: str, tail: str,
                                                expected: tuple[int, str]) -> None:
    tenant = new_tenant(billed)
    tail = tail.replace("CURRENT", str(Month.of(time.time())))
    path = f"/admin/tenants/{tenant['name']}/invoices" + (f"/{tail}" if tail else "")
    status, doc = call_json(billed, method, path)
    assert error(status, doc) == expected
    if expected[1] == "MonthNotClosed":
        assert "not" in doc["error"]["message"] and "clock" in doc["error"]["message"]
    assert call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices")[1]["invoices"] == []


def test_an_unknown_tenant_is_404(billed: NuageServer) -> None:
    for method, tail in (("POST", "/2025-01"), ("GET", ""), ("GET", "/preview"), ("GET", "/2025-01")):
        status, doc = call_json(billed, method, f"/admin/tenants/nobody-{uuid.uuid4().hex[:6]}/invoices{tail}")
        assert error(status, doc) == (404, "NoSuchEntity")


def test_only_the_operator_may_issue(billed: NuageServer) -> None:
    tenant = new_tenant(billed)
    _, _, body = call(billed, "POST", f"/admin/tenants/{tenant['name']}/keys")
    key = json.loads(body)
    # signed with the tenant's own root key: refused
    request = AWSRequest(method="POST", url=f"{billed.endpoint}/admin/tenants/{tenant['name']}/invoices/2025-01",
                         data=b"")
    SigV4Auth(Credentials(key["access_key"], key["secret_key"]), "nuage-admin", billed.region).add_auth(request)
    prepared = request.prepare()
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(urllib.request.Request(prepared.url, method="POST",
                                                      headers=dict(prepared.headers.items())), timeout=30)
    assert exc.value.code == 403 and json.loads(exc.value.read())["error"]["code"] == "AccessDenied"
    assert call_json(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices")[1]["invoices"] == []


def _pdf_pages(body: bytes) -> int:
    found = re.search(rb"/Type /Pages\b.*?/Count (\d+)", body, re.S) or re.search(
        rb"/Count (\d+).*?/Type /Pages\b", body, re.S)
    assert found, body[:400]
    return int(found.group(1))


def test_csv_and_pdf(billed: NuageServer) -> None:
    tenant = new_tenant(billed)
    month = last_month()
    _, doc = call_json(billed, "POST", f"/admin/tenants/{tenant['name']}/invoices/{month}")
    status, headers, body = call(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/{month}?format=csv")
    assert status == 200 and headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="{doc["number"]}.csv"' in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert {r["invoice"] for r in rows} == {doc["number"]} and {r["month"] for r in rows} == {month}
    assert [r["description"] for r in rows if r["section"] == "line"] == [line["description"] for line in doc["lines"]]
    assert next(r["amount"] for r in rows if r["section"] == "total") == doc["total"]
    status, headers, pdf = call(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/{month}?format=pdf")
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF") and _pdf_pages(pdf) >= 1
    assert b"/Helvetica" in pdf and b"STSong" not in pdf
    # the same invoice prints the same bytes
    assert call(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/{month}?format=pdf")[2] == pdf
    status, headers, preview = call(billed, "GET", f"/admin/tenants/{tenant['name']}/invoices/preview?format=pdf")
    assert status == 200 and preview.startswith(b"%PDF-") and _pdf_pages(preview) >= 1


def test_a_chinese_tenant_name_prints_in_a_cid_font(billed: NuageServer) -> None:
    name = f"云计算-{uuid.uuid4().hex[:6]}"
    status, _, body = call(billed, "POST", "/admin/tenants", {"name": name})
    assert status == 201, body
    account = json.loads(body)["account_id"]    # (named by its account id in the path)
    month = last_month()
    status, doc = call_json(billed, "POST", f"/admin/tenants/{account}/invoices/{month}")
    assert status == 201 and doc["tenant"]["name"] == name
    status, _, pdf = call(billed, "GET", f"/admin/tenants/{account}/invoices/{month}?format=pdf")
    assert status == 200 and pdf.startswith(b"%PDF-") and b"STSong-Light" in pdf and _pdf_pages(pdf) >= 1


def test_the_cli_issues_previews_and_writes_files(billed: NuageServer, tmp_path: Path) -> None:
    tenant = new_tenant(billed)
    env = {"NUAGE_ENDPOINT": billed.endpoint, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    month = last_month()

    def run(*args: str) -> Any:
        result = CliRunner().invoke(main, ["admin", "invoice", tenant["name"], *args], env=env)
        assert result.exit_code == 0, result.output
        return result

    issued = json.loads(run("--month", month).stdout)
    assert issued["number"].startswith("TST-") and json.loads(run("--month", month).stdout) == issued
    run("--month", month, "--format", "pdf", "--output", str(tmp_path / "invoice.pdf"))
    assert (tmp_path / "invoice.pdf").read_bytes().startswith(b"%PDF-")
    lines = run("--month", month, "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("invoice,month,currency,section") and lines[-1].startswith(f"{issued['number']},")
    preview = json.loads(run("--preview").stdout)
    assert preview["kind"] == "preview" and preview["number"] is None
    assert [i["number"] for i in json.loads(run("--list").stdout)["invoices"]] == [issued["number"]]
    refused_issue = CliRunner().invoke(main, ["admin", "invoice", tenant["name"], "--month",
                                              str(Month.of(time.time()))], env=env)
    assert refused_issue.exit_code == 1 and "MonthNotClosed" in refused_issue.output
    assert "Traceback" not in refused_issue.output
    no_month = CliRunner().invoke(main, ["admin", "invoice", tenant["name"]], env=env)
    assert no_month.exit_code == 2 and "--month" in no_month.output


@pytest.mark.parametrize(("content", "named"), [
    ('tax_rate = "0"\n[storage]\nprice = "cheap"\n', "storage.price"),
    ("tax_rate = 0.0825\n", "storage: missing section"),
    ("[[[", "not valid TOML"),
])
def test_a_bad_price_sheet_stops_the_start_in_one_line(tmp_path: Path, content: str, named: str) -> None:
    sheet = tmp_path / "prices.toml"
    sheet.write_text(content)
    line = refused(nuage(*serve_args(tmp_path / "data", "--prices", str(sheet))), str(sheet), named)
    assert "Traceback" not in line
    refused(nuage(*serve_args(tmp_path / "data"), env_extra={"NUAGE_PRICES": str(sheet)}), named)
    refused(nuage(*serve_args(tmp_path / "data", "--prices", str(tmp_path / "missing.toml"))), "cannot read it")


class Usage:
    """Metered counts written into a server's metadata store, as its meter's flushes write them (one store and
    one event loop for the test: the PostgreSQL store's pools belong to the loop that opened them)."""

    def __init__(self, server: NuageServer) -> None:
        self.loop = asyncio.new_event_loop()
        self.store: Any
        if server.db is not None:
            from nuage.storage.meta.postgres.store import PostgresMetadataStore
            self.store = PostgresMetadataStore(server.db)
        else:
            self.store = SQLiteMetadataStore(server.data_dir / "meta.sqlite3")

    def add(self, rows: list[MeterRow]) -> None:
        self.loop.run_until_complete(self.store.add_meter_counts(rows))

    def close(self) -> None:
        self.store.close()
        self.loop.close()


def test_amounts_by_hand_and_an_issued_invoice_never_changes(tmp_path: Path) -> None:
    (tmp_path / "prices.toml").write_text(PRICES)
    server = NuageServer(tmp_path / "data", extra_args=["--prices", str(tmp_path / "prices.toml")]).start()
    metered = Usage(server)
    try:
        tenant = new_tenant(server)
        month = Month.parse(last_month())
        hour = month.start + 3600 * 17

        def usage(bucket: str, metric: str, value: int) -> MeterRow:
            return MeterRow(tenant["account_id"], bucket, "us-east-1", hour, metric, value)

        metered.add([
            usage("photos", "storage_byte_hours", 150 * GB * month.hours), usage("photos", "requests_a", 200_000),
            usage("photos", "requests_b", 1_000_000), usage("photos", "bytes_out", 11 * GB),
            usage("logs", "storage_byte_hours", 50 * GB * month.hours), usage("logs", "bytes_replicated", 5 * GB),
            usage("logs", "bytes_scanned", 100 * GB), usage("logs", "bytes_in", 12345),
            MeterRow(tenant["account_id"], "photos", "us-east-1", month.end, "requests_a", 10**9),   # next month
            MeterRow("999999999999", "other", "us-east-1", hour, "requests_a", 10**9)])             # another tenant
        path = f"/admin/tenants/{tenant['name']}/invoices/{month}"
        status, doc = call_json(server, "POST", path)
        assert status == 201, doc
        lines = [(line["metric"], line["quantity"], line["amount"]) for line in doc["lines"]]
        assert lines == [
            # 200 GB-month: 1 free, 99 x 0.10, 100 x 0.05
            ("storage", "1", "0.00"), ("storage", "99", "9.90"), ("storage", "100", "5.00"),
            ("requests_a", "200000", "1.00"),         # 200,000 x 0.005 / 1,000
            ("requests_b", "1000000", "0.40"),        # 1,000,000 x 0.004 / 10,000
            ("data_out", "1", "0.00"), ("data_out", "10", "0.90"),   # 11 GB: 1 free, 10 x 0.09
            ("replication", "5", "0.10"), ("scanned", "100", "0.20")]
        # 17.50; tax 17.50 x 0.0825 = 1.44375 -> 1.44
        assert (doc["subtotal"], doc["tax"], doc["total"]) == ("17.50", "1.44", "18.94")
        shares = {(s["bucket"], s["metric"]): s["amount"] for s in doc["buckets"]}
        # storage 14.90 split 150:50 = 11.175 and 3.725: the odd cent to logs (equal remainders: by name)
        assert shares == {("logs", "storage"): "3.73", ("photos", "storage"): "11.17", ("photos", "requests_a"): "1.00",
                          ("photos", "requests_b"): "0.40", ("photos", "data_out"): "0.90",
                          ("logs", "replication"): "0.10", ("logs", "scanned"): "0.20"}
        assert doc["usage"]["bytes_in"] == 12345

        # new traffic in that month: the issued invoice stays as it was; a preview of the month shows it
        metered.add([usage("photos", "requests_a", 1_000_000)])
        assert call_json(server, "POST", path) == (200, doc)
        status, preview = call_json(server, "GET", f"/admin/tenants/{tenant['name']}/invoices/preview?month={month}")
        assert status == 200 and preview["subtotal"] == "22.50" and preview["number"] is None
        assert call_json(server, "GET", path) == (200, doc)
    finally:
        metered.close()
        assert server.stop() == 0, server.log()
    # another price sheet: still the same invoice
    (tmp_path / "prices.toml").write_text(PRICES.replace('tax_rate = "0.0825"', 'tax_rate = "0.2"'))
    server.start()
    try:
        assert call_json(server, "GET", path) == (200, doc)
        assert call_json(server, "POST", path) == (200, doc)
        assert call_json(server, "GET", f"/admin/tenants/{tenant['name']}/invoices/preview?month={month}")[1][
            "tax_rate"] == "0.2"
    finally:
        assert server.stop() == 0, server.log()
