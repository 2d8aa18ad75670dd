"""The console in Simplified Chinese, in Chromium: a browser whose language is zh-CN (Accept-Language) gets
every page in Chinese, with no English string of the console left (the catalogue's msgids are the English
strings: no visible text, label, title or confirmation of a page is one of them); the switch on every page
sets a cookie that picks English over the browser's language, on every page after; a browser in English
gets English."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from tests.api.test_invoices import call_json, last_month
from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

PO = Path(__file__).resolve().parents[2] / "src/nuage/console/locale/zh_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")

# Every text node (outside scripts, styles and code), and the attributes that people read or hear.
TEXTS = """() => {
  const out = [];
  const skip = el => el.closest("script, style, code, pre, textarea, #i18n");
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.replace(/\\s+/g, " ").trim();
    if (text && !skip(n.parentElement)) { out.push(text); }
  }
  for (const el of document.querySelectorAll("[aria-label], [title], [alt], [placeholder], [data-confirm]")) {
    for (const name of ["aria-label", "title", "alt", "placeholder", "data-confirm"]) {
      const v = el.getAttribute(name);
      if (v) { out.push(v.replace(/\\s+/g, " ").trim()); }
    }
  }
  out.push(document.title);
  return out;
}"""


def english_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Each English msgid whose Chinese differs, as a pattern found inside a text: its placeholders match
    any text, and it must stand alone (not be part of a longer word)."""
    with PO.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            english = re.sub(r"<[^>]+>", "", msgid)          # the text of its markup
            parts = [re.escape(p) for p in PLACEHOLDER.split(english)]
            regex = "(?<![A-Za-z])" + ".+?".join(parts) + "(?![A-Za-z])"
            found.append((msgid, re.compile(regex)))
    return found


ENGLISH = english_patterns()


def untranslated(texts: list[str]) -> list[tuple[str, str]]:
    return [(text, msgid) for text in texts for msgid, pattern in ENGLISH if pattern.search(text)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("console-i18n") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def bucket(server: NuageServer) -> str:
    """A versioned bucket with a folder, a CSV and two versions of a text; an IAM user to list."""
    s3 = server.client()
    name = unique_bucket_name("zh")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="docs/notes.txt", Body=b"v1\n", Metadata={"team": "ops"})
    s3.put_object(Bucket=name, Key="docs/notes.txt", Body=b"v2\n")
    s3.put_object_tagging(Bucket=name, Key="docs/notes.txt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_object(Bucket=name, Key="sales.csv", Body=b"region,amount\nhz,1200\nsh,3400\n", ContentType="text/csv")
    make_user(server, READ_ONLY_POLICY, prefix="reader")
    return name


def issue_last_month(server: NuageServer) -> None:
    """The invoice of last month for the operator's own account (admin API)."""
    status, tenants = call_json(server, "GET", "/admin/tenants")
    assert status == 200, tenants
    assert len(tenants["tenants"]) == 1, tenants                 # the operator's account alone
    account = tenants["tenants"][0]["account_id"]
    status, doc = call_json(server, "POST", f"/admin/tenants/{account}/invoices/{last_month()}")
    assert status in (200, 201), doc


def sign_in(page: Any, server: NuageServer) -> None:
    page.goto(server.console_endpoint + "/login")
    page.locator("#access_key").fill(ACCESS_KEY)
    page.locator("#secret_key").fill(SECRET_KEY)
    page.keyboard.press("Enter")
    page.wait_for_url(server.console_endpoint + "/buckets")


def check_page(page: Any, seen: dict[str, list[tuple[str, str]]]) -> None:
    page.wait_for_load_state("networkidle")
    seen[page.url] = untranslated(page.evaluate(TEXTS))


def test_every_page_in_chinese(server: NuageServer, browser: Any, bucket: str, shots: Path) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = server.console_endpoint
    seen: dict[str, list[tuple[str, str]]] = {}
    try:
        page.goto(base + "/login")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        check_page(page, seen)
        page.locator("#access_key").fill(ACCESS_KEY)
        page.locator("#secret_key").fill("not-the-secret")
        page.keyboard.press("Enter")
        assert page.locator("#login-error").inner_text() == "访问密钥或私有密钥不正确。"
        check_page(page, seen)
        sign_in(page, server)
        check_page(page, seen)
        assert page.locator("h1").inner_text() == "存储桶"
        page.screenshot(path=str(shots / "zh-buckets.png"), full_page=True)
        for path in (f"/b/{bucket}", f"/b/{bucket}?prefix=docs/", f"/b/{bucket}?versions=1",
                     f"/b/{bucket}/object?key=docs/notes.txt", f"/b/{bucket}/preview?key=sales.csv",
                     f"/b/{bucket}/preview?key=docs/notes.txt", f"/b/{bucket}/object?key=sales.csv",
                     "/users", "/usage", "/sql", "/billing", "/no-such-page"):
            page.goto(base + path)
            check_page(page, seen)
        page.goto(f"{base}/b/{bucket}")
        page.locator('input[type="checkbox"][form="bulk-delete"]').first.check()    # bulk.js's texts
        assert page.locator("#selected-count").inner_text() == "已选择 1 个"
        assert page.locator("#bulk-delete").get_attribute("data-confirm") == "删除选中的 1 个对象？"  # noqa: RUF001
        check_page(page, seen)
        page.goto(f"{base}/b/{bucket}/object?key=docs/notes.txt")
        page.get_by_role("button", name="创建分享链接").click()
        check_page(page, seen)                                # the share link and its copy button
        issue_last_month(server)                              # the Billing page with an invoice and a budget
        page.goto(base + "/billing")
        page.locator("#budget-amount").fill("0.01")
        page.get_by_role("button", name="设置预算").click()
        page.wait_for_url(re.compile(r".*/billing\?notice=.*"))
        assert page.locator("#invoices-table tbody tr").count() == 1
        check_page(page, seen)
        page.screenshot(path=str(shots / "zh-billing.png"), full_page=True)
        page.goto(base + "/sql")
        page.locator("#sql").fill(f"SELECT region, amount FROM 's3://{bucket}/sales.csv'")
        page.get_by_role("button", name="运行").click()
        page.wait_for_selector('#job[data-status="succeeded"]', timeout=60_000)
        check_page(page, seen)                                # a job, its result and chart
        assert page.locator("#job-status").inner_text() == "成功"
        page.screenshot(path=str(shots / "zh-sql-job.png"), full_page=True)
    finally:
        context.close()
    left = {url: found for url, found in seen.items() if found}
    assert not left, left
    assert len(seen) >= 12


def test_switch_to_english_sticks(server: NuageServer, browser: Any, bucket: str) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    base = server.console_endpoint
    try:
        sign_in(page, server)
        assert page.locator("h1").inner_text() == "存储桶"
        page.locator("#lang-switch").get_by_role("button", name="English").click()   # no script: a form
        page.wait_for_url(base + "/buckets")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Buckets"
        cookie = next(c for c in context.cookies() if c["name"] == "lang")
        assert cookie["value"] == "en" and cookie["sameSite"] == "Strict"
        page.goto(f"{base}/b/{bucket}?prefix=docs/")           # another page: still English
        assert page.get_by_role("button", name="Create folder").is_visible()
        page.goto(base + "/users")
        assert page.locator("h1").inner_text() == "Users and keys"
        assert page.locator("html").get_attribute("lang") == "en"
        # and back to Chinese, on the page it was clicked on
        page.locator("#lang-switch").get_by_role("button", name="简体中文").click()
        page.wait_for_url(base + "/users")
        assert page.locator("h1").inner_text() == "用户与密钥"
    finally:
        context.close()


def test_english_browser_gets_english(server: NuageServer, browser: Any, bucket: str) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, server)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Buckets"
        assert page.locator("#lang-switch").get_by_role("button").inner_text() == "简体中文"
        page.goto(f"{server.console_endpoint}/b/{bucket}")
        assert page.get_by_text("Names starting with").is_visible()
    finally:
        context.close()


def test_the_switch_only_comes_back_to_the_console(server: NuageServer) -> None:
    """The switch's ``next`` is a path of the console: another origin (``//host``, ``/\\host``, a URL) sends
    to the console's home instead; a language that is not ours sets no cookie; a POST needs the CSRF token."""
    client = ConsoleClient(server.console_endpoint)
    client.get("/login")
    for target in ("//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)"):
        page = client.post("/lang", {"lang": "zh_CN", "next": target})
        assert page.status == 303 and page.location == "/", target
    page = client.post("/lang", {"lang": "zh_CN", "next": "/login?x=1"})
    assert page.location == "/login?x=1"
    assert "lang=zh_CN; Path=/; Max-Age=31536000; SameSite=Strict" in page.headers.get_all("set-cookie", [])
    assert '<html lang="zh-CN">' in client.get("/login").text
    page = client.post("/lang", {"lang": "fr", "next": "/login"})
    assert not any(c.startswith("lang=") for c in page.headers.get_all("set-cookie", []))
    assert client.post("/lang", {"lang": "en", "next": "/login"}, csrf="forged").status == 403
    assert '<html lang="zh-CN">' in client.get("/login").text
