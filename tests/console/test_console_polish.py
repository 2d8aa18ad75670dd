"""Console polish, in Debian's Chromium: chart labels inside their canvas and a time axis that spans the
window the page names, a folder icon that needs no emoji font, one date format, copy buttons, bulk
delete with per-key permissions, and object previews."""

from __future__ import annotations

import http.client
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import unique_bucket_name
from tests.console.conftest import make_user
from tests.console.test_console_browser import sign_in
from tests.support.accounts import add_account
from tests.support.console import ConsoleClient
from tests.support.queryjobs import on_connection
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

# Every text a canvas draws, with its box in the canvas's pixels (uPlot draws the axis labels on a canvas).
RECORD_TEXTS = """
window.drawnTexts = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y) {
  const t = this.getTransform(), width = this.measureText(String(text)).width;
  const px = t.a * x + t.c * y + t.e;
  const align = this.textAlign;
  const left = align === "right" || align === "end" ? px - width : align === "center" ? px - width / 2 : px;
  const chart = this.canvas.closest("[id]");
  window.drawnTexts.push({chart: chart ? chart.id : "", text: String(text), left: left, right: left + width,
                          canvas: this.canvas.width, rotated: t.b !== 0});
  return fillText.apply(this, arguments);
};
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    """This module's server. Its usage sampler runs at start and then once an hour: the bucket made
    here, then a restart, give the usage page exactly one sample."""
    srv = NuageServer(tmp_path_factory.mktemp("console-polish") / "data",
                      env={"NUAGE_USAGE_INTERVAL": "3600"}).start()
    s3 = srv.client()
    s3.create_bucket(Bucket="sampled")
    s3.put_object(Bucket="sampled", Key="big.bin", Body=b"x" * 1_000_000)   # Y labels such as 976.6 KiB
    srv.stop()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def s3(server: NuageServer) -> Any:
    return server.client()


@pytest.fixture
def page(server: NuageServer, browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_TEXTS)
    pg = context.new_page()
    pg.on("dialog", lambda dialog: dialog.accept())
    yield pg
    context.close()


def drawn(page: Any, chart: str) -> list[dict[str, Any]]:
    texts = [t for t in page.evaluate("() => window.drawnTexts") if t["chart"] == chart and t["text"].strip()]
    assert texts, f"nothing drawn on #{chart}"
    return texts


def assert_inside(texts: list[dict[str, Any]]) -> None:
    """Each label fully inside its canvas, and none cut to a leading '.' (as '190.7 MiB' cut at the left)."""
    for t in texts:
        assert t["left"] >= 0 and t["right"] <= t["canvas"], t
        assert not t["text"].startswith("."), t


def test_usage_chart_labels_fit_and_one_sample_spans_the_hour(server: NuageServer, page: Any) -> None:
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    page.goto(server.console_endpoint + "/usage?range=1h")
    page.wait_for_selector("#storage-chart canvas")
    page.wait_for_selector("#requests-chart canvas")
    now = time.time()
    assert_inside(drawn(page, "storage-chart"))
    assert_inside(drawn(page, "requests-chart"))
    assert any("KiB" in t["text"] for t in drawn(page, "storage-chart"))
    for chart in ("storage-chart", "requests-chart"):
        el = page.locator("#" + chart)
        x_min, x_max = float(el.get_attribute("data-x-min")), float(el.get_attribute("data-x-max"))
        assert x_max - x_min == 3600, (chart, x_min, x_max)         # "Last 1h": one hour...
        assert now - 60 < x_max <= now + 1, (chart, x_max, now)     # ...that ends now
        # and the labels of its time axis are times of day, not years (2027, 2028...)
        assert not any(t["text"].startswith("20") and len(t["text"]) == 4 for t in drawn(page, chart))


def test_sql_chart_labels_fit(server: NuageServer, page: Any, s3: Any) -> None:
    name = unique_bucket_name("sqlchart")
    s3.create_bucket(Bucket=name)
    rows = "".join(f"a rather long region name number {i},{i * 123456789}\n" for i in range(1, 9))
    s3.put_object(Bucket=name, Key="t.csv", Body=("region,amount\n" + rows).encode())
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    page.goto(server.console_endpoint + "/sql")
    page.get_by_label("Query").fill(f"SELECT region, amount FROM 's3://{name}/t.csv' ORDER BY amount")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector('#job[data-status="succeeded"]', timeout=20_000)
    page.wait_for_selector("#result-chart canvas")
    texts = drawn(page, "result-chart")
    assert_inside(texts)
    assert any(t["text"].startswith("a rather") for t in texts)    # the category labels are drawn (cut)


EMOJI = re.compile("[\U0001F000-\U0001FFFF\u2600-\u27BF]")


def test_folder_icon_is_drawn_without_an_emoji_font(server: NuageServer, page: Any, s3: Any) -> None:
    name = unique_bucket_name("icons")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="reports/a.txt", Body=b"a")
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    for query in ("", "?versions=1"):
        page.goto(f"{server.console_endpoint}/b/{name}{query}")
        link = page.locator('tr.folder[data-prefix="reports/"] a')
        assert not EMOJI.search(link.inner_text()), link.inner_text()
        box = link.locator("svg").bounding_box()       # an inline SVG, drawn whatever the fonts
        assert box is not None and box["width"] >= 10 and box["height"] >= 10, box
        assert not EMOJI.search(page.locator("main").inner_text())


ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
ANY_DATE = re.compile(r"\d{4}-\d\d-\d\d|\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w* \d{4}|GMT|"
                      r"\d{1,2}/\d{1,2}/\d{2,4}")
DATES = """() => Array.from(document.querySelectorAll("main time")).map(t => ({
    text: t.textContent, datetime: t.getAttribute("datetime"), title: t.title}))"""


def assert_one_date_format(page: Any, at_least: int) -> None:
    """Every date of the page is an ISO 8601 UTC <time>, with the local time in its title; no other date."""
    times = page.evaluate(DATES)
    assert len(times) >= at_least, (page.url, times)
    for t in times:
        assert ISO_UTC.match(t["text"]), (page.url, t)
        assert t["datetime"] == t["text"][:10] + "T" + t["text"][11:19] + "Z", (page.url, t)
        assert re.match(r"^Local time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t["title"]), (page.url, t)
    text = page.locator("main").inner_text()
    assert len(ANY_DATE.findall(text)) == len(times), (page.url, ANY_DATE.findall(text), times)


def test_one_date_format_everywhere(server: NuageServer, page: Any, s3: Any) -> None:
    name = unique_bucket_name("dates")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"one")
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"two")
    iam = server.client("iam")
    user = unique_bucket_name("dated")
    iam.create_user(UserName=user)
    iam.create_access_key(UserName=user)
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    for path, at_least in (("/buckets", 1), (f"/b/{name}", 1), (f"/b/{name}?versions=1", 2),
                           (f"/b/{name}/object?key=doc.txt", 3), ("/users", 2)):
        page.goto(server.console_endpoint + path)
        assert_one_date_format(page, at_least)
    page.goto(server.console_endpoint + "/sql")
    s3.put_object(Bucket=name, Key="t.csv", Body=b"a,b\n1,2\n")
    page.get_by_label("Query").fill(f"SELECT a FROM 's3://{name}/t.csv'")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector('#job[data-status="succeeded"]', timeout=20_000)
    page.goto(server.console_endpoint + "/sql")
    assert_one_date_format(page, 1)


def test_copy_buttons_of_a_new_access_key(server: NuageServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.console_endpoint)
    page = context.new_page()
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    user = unique_bucket_name("copier")
    page.get_by_role("link", name="Users & keys").click()
    page.get_by_text("Create a user").click()
    page.get_by_label("User name").fill(user)
    page.get_by_role("button", name="Create user").click()
    page.wait_for_selector(f"text=User {user} created.")
    page.get_by_role("button", name=f"Create an access key for {user}").click()
    secret = page.locator("#new-secret-key").inner_text().strip()
    key_id = page.locator("#new-access-key").inner_text().strip()
    assert len(secret) >= 30 and key_id
    # the Clipboard API
    page.get_by_role("button", name="Copy the secret key").click()
    page.wait_for_selector("text=Copied to the clipboard.", state="attached")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    # where there is no Clipboard API: the text selected, and document.execCommand("copy")
    page.evaluate("""() => {
        Object.defineProperty(navigator, "clipboard", {value: undefined});
        window.execCommands = [];
        const exec = document.execCommand.bind(document);
        document.execCommand = (cmd) => { window.execCommands.push([cmd, String(window.getSelection())]);
                                          return exec(cmd); };
    }""")
    page.get_by_role("button", name="Copy the access key").click()
    assert page.evaluate("() => window.execCommands") == [["copy", key_id]]
    other = context.new_page()
    other.goto(server.console_endpoint + "/login")
    assert other.evaluate("() => navigator.clipboard.readText()") == key_id
    context.close()


def test_bulk_delete_goes_through_each_keys_permission(server: NuageServer, browser: Any, s3: Any) -> None:
    name = unique_bucket_name("bulk")
    s3.create_bucket(Bucket=name)
    for key in ("tmp/a.txt", "tmp/b.txt", "tmp/locked-1.txt", "other/c.txt"):
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    user = make_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject"], "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{name}/tmp/*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{name}/tmp/locked-*"}]}, "pruner")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    sign_in(page, server, user.access_key, user.secret_key)
    page.goto(f"{server.console_endpoint}/b/{name}?prefix=tmp/")
    assert page.locator("#selected-count").inner_text() == "None selected"
    assert page.locator("#delete-selected").is_disabled()
    page.get_by_label("Select all objects on this page").check()
    assert page.locator("#selected-count").inner_text() == "3 selected"
    page.get_by_label("Select tmp/b.txt").uncheck()
    assert page.locator("#select-all").evaluate("el => el.indeterminate")
    page.get_by_label("Select tmp/b.txt").check()
    page.get_by_role("button", name="Delete selected").click()
    notice = page.locator("p.notice")
    notice.wait_for()
    assert questions == ["Delete 3 selected objects?"]
    assert notice.inner_text() == "Deleted 2 objects. Not deleted, 1: tmp/locked-1.txt (AccessDenied)."
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"])
    assert left == ["other/c.txt", "tmp/locked-1.txt"]
    assert page.locator('tr[data-key="tmp/locked-1.txt"]').is_visible()
    # the other folder is not this user's to delete: no selection there
    page.goto(f"{server.console_endpoint}/b/{name}?prefix=other/")
    assert page.locator("#select-all").count() == 0 and page.locator("#delete-selected").count() == 0
    # a forged request for a key outside the prefix, with the session's token: refused by S3, key by key
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    text = page.evaluate("""async ([bucket, csrf]) => {
        const body = new URLSearchParams({csrf: csrf, prefix: "other/", k0: "other/c.txt"});
        const resp = await fetch(`/b/${bucket}/delete-selected`, {method: "POST", body: body});
        return await resp.text();
      }""", [name, csrf])
    assert "Deleted 0 objects. Not deleted, 1: other/c.txt (AccessDenied)." in text, text[text.find("<main"):][:600]
    assert s3.head_object(Bucket=name, Key="other/c.txt")
    context.close()


def test_bulk_delete_needs_the_csrf_token_and_batches_by_1000(server: NuageServer, console: ConsoleClient,
                                                               s3: Any) -> None:
    name = unique_bucket_name("batch")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="keep.txt", Body=b"x")
    assert console.sign_in(ACCESS_KEY, SECRET_KEY).status == 303
    console.get(f"/b/{name}")
    form = {"prefix": "", "k0": "keep.txt"}
    assert console.post(f"/b/{name}/delete-selected", form, csrf="forged").status == 403
    assert s3.head_object(Bucket=name, Key="keep.txt")
    # 1001 keys (missing ones are deleted, as S3 has it): two DeleteObjects requests, of 1000 and 1
    form = {"prefix": "", **{f"k{i}": f"gone/{i:04d}" for i in range(1000)}, "k1000": "keep.txt"}
    page = console.post(f"/b/{name}/delete-selected", form)
    assert page.status == 303, page.text
    assert "Deleted+1001+objects." in page.location or "Deleted%201001%20objects." in page.location, page.location
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0


def png(width: int, height: int) -> bytes:
    """A small PNG image (red pixels)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
HOSTILE = b"<html><body><script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">hi</body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = 3</script></svg>'


def open_preview(page: Any, server: NuageServer, bucket: str, key: str) -> Any:
    page.goto(f"{server.console_endpoint}/b/{bucket}/object?key={quote(key, safe='')}")
    section = page.locator("#preview[data-kind]")       # loaded into the object page by htmx
    section.wait_for(state="attached")
    return section


def fetch_inline(page: Any, bucket: str, key: str) -> dict[str, Any]:
    return dict(page.evaluate("""async ([bucket, key]) => {
        const resp = await fetch(`/b/${bucket}/inline?key=${encodeURIComponent(key)}`);
        return {status: resp.status, type: resp.headers.get("content-type"),
                csp: resp.headers.get("content-security-policy") || "",
                disposition: resp.headers.get("content-disposition") || ""};
      }""", [bucket, key]))


def test_preview_of_images_pdf_text_and_tables(server: NuageServer, page: Any, s3: Any, shots: Path) -> None:
    name = unique_bucket_name("preview")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="pics/red.png", Body=png(40, 30), ContentType="image/png")
    s3.put_object(Bucket=name, Key="doc.pdf", Body=PDF, ContentType="application/pdf")
    s3.put_object(Bucket=name, Key="page.html", Body=HOSTILE, ContentType="text/html")
    s3.put_object(Bucket=name, Key="logo.svg", Body=SVG, ContentType="image/svg+xml")
    s3.put_object(Bucket=name, Key="big.log", Body=b"line of the log\n" * 10_000, ContentType="text/plain")
    s3.put_object(Bucket=name, Key="t.csv", Body=b"n,label\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(30)))
    s3.put_object(Bucket=name, Key="blob.bin", Body=b"\x00\x01" * 100)
    s3.put_object(Bucket=name, Key="odd.txt", Body=b"\x00\x01" * 100, ContentType="text/plain")
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)

    section = open_preview(page, server, name, "pics/red.png")
    assert section.get_attribute("data-kind") == "image"
    img = section.locator("img")
    img.wait_for()
    page.wait_for_function("() => document.querySelector('#preview img').complete")
    assert img.evaluate("el => [el.naturalWidth, el.naturalHeight]") == [40, 30]
    got = fetch_inline(page, name, "pics/red.png")
    assert got["status"] == 200 and got["type"] == "image/png" and "sandbox" in got["csp"]
    assert got["disposition"].startswith("inline")
    page.screenshot(path=str(shots / "09-object-preview.png"), full_page=True)

    section = open_preview(page, server, name, "doc.pdf")
    frame = section.locator("iframe")
    assert section.get_attribute("data-kind") == "pdf" and "/inline?key=doc.pdf" in frame.get_attribute("src")
    box = frame.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 300
    got = fetch_inline(page, name, "doc.pdf")
    assert got["status"] == 200 and got["type"] == "application/pdf" and got["disposition"].startswith("inline")
    assert "default-src 'none'" in got["csp"] and "frame-ancestors 'self'" in got["csp"]
    page.screenshot(path=str(shots / "10-object-preview-pdf.png"), full_page=True)

    # HTML and SVG: shown as text, escaped, never run; and never served inline from the console
    for key, body in (("page.html", HOSTILE), ("logo.svg", SVG)):
        section = open_preview(page, server, name, key)
        assert section.get_attribute("data-kind") == "text"
        assert section.locator("#preview-text").inner_text() == body.decode()
        assert section.locator("script, img, svg").count() == 0
        assert fetch_inline(page, name, key)["status"] == 404
    assert page.evaluate("() => window.pwned") is None

    section = open_preview(page, server, name, "big.log")
    assert len(section.locator("#preview-text").inner_text()) == 64 * 1024
    assert "The first 64 KiB of 156.2 KiB are shown." in section.inner_text()

    section = open_preview(page, server, name, "t.csv")
    table = section.locator("#preview-table")
    assert table.locator("thead th").all_inner_texts() == ["n", "label"]
    assert table.locator("tbody tr").count() == 20
    assert table.locator("tbody tr").last.inner_text().split("\t") == ["19", "row 19"]
    page.screenshot(path=str(shots / "11-object-preview-csv.png"), full_page=True)

    section = open_preview(page, server, name, "blob.bin")
    assert section.get_attribute("data-kind") == ""
    assert "No preview for this type of object" in section.inner_text()
    assert fetch_inline(page, name, "blob.bin")["status"] == 404
    section = open_preview(page, server, name, "odd.txt")
    assert section.get_attribute("data-kind") == ""
    assert "looks binary" in section.inner_text()


def test_preview_of_parquet_rows(server: NuageServer, page: Any, s3: Any) -> None:
    name = unique_bucket_name("parquet")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="src.csv", Body=b"n,label\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(30)))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    call = on_connection(server, conn)
    status, job = call("POST", "/query/jobs", {
        "sql": f"SELECT n, label FROM 's3://{name}/src.csv' ORDER BY n", "wait": 15,
        "output": {"bucket": name, "key": "t.parquet", "format": "parquet"}})
    conn.close()
    assert status in (200, 201) and job["status"] == "succeeded", job
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)
    section = open_preview(page, server, name, "t.parquet")
    assert section.get_attribute("data-kind") == "parquet"
    table = section.locator("#preview-table")
    assert table.locator("thead th").all_inner_texts() == ["n", "label"]
    assert table.locator("tbody tr").count() == 20
    assert table.locator("tbody tr").first.inner_text().split("\t") == ["0", "row 0"]


def test_preview_needs_get_object(server: NuageServer, page: Any, s3: Any) -> None:
    name = unique_bucket_name("private")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="red.png", Body=png(4, 4), ContentType="image/png")
    s3.put_object(Bucket=name, Key="notes.txt", Body=b"secret notes")
    user = make_user(server, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:ListBucket"], "Resource": "*"}]}, "lister")
    sign_in(page, server, user.access_key, user.secret_key)
    assert fetch_inline(page, name, "red.png")["status"] == 403
    for key in ("red.png", "notes.txt"):
        text = page.evaluate("""async ([bucket, key]) =>
            (await fetch(`/b/${bucket}/preview?key=${encodeURIComponent(key)}`)).status""", [name, key])
        assert text == 403


def test_another_tenant_can_neither_preview_nor_bulk_delete(server: NuageServer, s3: Any) -> None:
    """The new object routes (preview, inline, delete-selected) act as the signed-in user: the root user of
    another tenant, all-powerful in its own account, reads and deletes nothing in the operator's bucket."""
    name = unique_bucket_name("theirs")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="red.png", Body=png(4, 4), ContentType="image/png")
    s3.put_object(Bucket=name, Key="notes.txt", Body=b"operator's notes")
    other = add_account(server)
    console = ConsoleClient(server.console_endpoint)
    assert console.sign_in(other.access_key, other.secret_key).status == 303
    console.get("/")   # a page of the other tenant's own, for a valid CSRF token
    for path in (f"/b/{name}/inline?key=red.png", f"/b/{name}/preview?key=notes.txt"):
        page = console.get(path)
        assert page.status == 403 and "operator's notes" not in page.text, (path, page.status)
    done = console.post(f"/b/{name}/delete-selected", {"prefix": "", "k0": "red.png", "k1": "notes.txt"})
    assert done.status in (303, 403), done.status
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 2   # nothing deleted
