"""The console in a real browser (Debian's Chromium, headless, driven by Playwright): the whole walk of
a user, and what a read-only user sees and may do. Screenshots of each page go to test-artifacts/console/."""

from __future__ import annotations

import hashlib
import os
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

SIZE = 20 * 1000 * 1000      # 20 MB: a multipart upload (16 MiB threshold, 8 MiB parts)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    """This module's own server, sampling usage every second (for the usage page's charts)."""
    srv = NuageServer(tmp_path_factory.mktemp("console-browser") / "data", env={"NUAGE_USAGE_INTERVAL": "1"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def s3(server: NuageServer) -> Any:
    return server.client()


UNLABELLED = """() => Array.from(document.querySelectorAll("input, select, textarea, button"))
    .filter(el => el.type !== "hidden")
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.textContent.trim())
    .map(el => el.outerHTML)"""


def shot(page: Any, path: Path) -> None:
    """A screenshot of the page, after checking that each of its controls has a label (or a text)."""
    assert page.evaluate(UNLABELLED) == [], page.url
    page.screenshot(path=str(path), full_page=True)


def sign_in(page: Any, server: NuageServer, access_key: str, secret_key: str) -> None:
    page.goto(server.console_endpoint + "/")
    page.get_by_label("Access key").fill(access_key)
    page.get_by_label("Secret key").fill(secret_key)
    page.keyboard.press("Enter")                          # the keyboard submits the form
    page.wait_for_url(server.console_endpoint + "/buckets")


def test_walkthrough(server: NuageServer, browser: Any, shots: Path, tmp_path: Path, s3: Any) -> None:
    data = os.urandom(SIZE)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # console errors such as a Content-Security-Policy refusal (failed loads are expected: the cut part, a 409)
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    # the network fails once in the middle of the upload: part 2 is cut off on its first try
    cut: list[str] = []

    def flaky(route: Any) -> None:
        if not cut:
            cut.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r".*[?&]partNumber=2&.*"), flaky)
    resumed: list[str] = []
    page.on("request", lambda req: resumed.append(req.url) if req.url.endswith("/api/upload/parts") else None)

    page.goto(server.console_endpoint + "/")
    assert page.get_by_role("heading", name="Sign in to Nuage").is_visible()
    shot(page, shots / "01-sign-in.png")
    sign_in(page, server, ACCESS_KEY, SECRET_KEY)

    # create a bucket
    name = unique_bucket_name("console")
    page.get_by_text("Create a bucket").click()
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create bucket").click()
    page.wait_for_selector(f'text=Bucket {name} created.')
    row = page.locator(f'tr[data-bucket="{name}"]')
    assert row.is_visible() and server.region in row.inner_text()
    shot(page, shots / "02-buckets.png")

    # into the bucket, a new folder, and into it
    row.get_by_role("link", name=name).click()
    page.get_by_label("New folder").fill("reports")
    page.get_by_role("button", name="Create folder").click()
    page.wait_for_selector("text=Folder reports created.")
    assert "prefix=reports%2F" in page.url

    # upload 20 MB: progress reaches 100 %, after one network error and a resume
    page.evaluate("""() => {
        window.seenProgress = [];
        new MutationObserver(records => records.forEach(r => {
            if (r.target.tagName === "PROGRESS") { window.seenProgress.push(r.target.value); }
        })).observe(document.getElementById("uploads"), {attributes: true, subtree: true});
    }""")
    page.set_input_files("#file-input", str(source))
    done = page.locator('#uploads li[data-state="done"]')
    done.wait_for(timeout=30_000)
    bar = done.locator("progress")
    assert bar.get_attribute("aria-label") == "Upload of big.bin"
    assert bar.evaluate("el => el.value") == 100
    assert "100% done" in done.inner_text()
    seen = page.evaluate("() => window.seenProgress")
    assert any(0 < v < 100 for v in seen), seen           # the bar moved with the upload's progress events
    assert cut and resumed, "the upload did not meet (and resume after) the network error"
    page.wait_for_selector('tr[data-key="reports/big.bin"]')
    shot(page, shots / "03-objects-upload.png")
    assert hashlib.sha256(s3.get_object(Bucket=name, Key="reports/big.bin")["Body"].read()).hexdigest() == \
        hashlib.sha256(data).hexdigest()

    # browse: up to the bucket, into the folder again, and open the object
    page.get_by_role("navigation", name="Folder path").get_by_role("link", name=name).click()
    page.locator('tr.folder[data-prefix="reports/"] a').click()
    page.get_by_role("link", name="big.bin", exact=True).click()
    assert page.get_by_role("heading", name="big.bin").is_visible()
    assert "20000000 bytes" in page.inner_text("dl.props")

    # download and compare bytes
    with page.expect_download() as info:
        page.locator("#download").click()
    download = info.value
    assert download.suggested_filename == "big.bin"
    saved = tmp_path / "downloaded.bin"
    download.save_as(str(saved))
    assert saved.read_bytes() == data

    # a share link, fetched anonymously
    page.get_by_label("Link works for").select_option("3600")
    page.get_by_role("button", name="Create share link").click()
    link = page.locator("#share-url").input_value()
    assert "X-Amz-Expires=3600" in link
    with urllib.request.urlopen(link, timeout=30) as resp:
        assert resp.read() == data
    shot(page, shots / "04-object.png")

    # delete it, and the folder marker; the folder disappears
    page.get_by_role("button", name="Delete").first.click()
    page.wait_for_selector("text=Deleted reports/big.bin.")
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=name, Key="reports/big.bin")
    page.get_by_role("button", name="Delete reports/").click()
    page.wait_for_selector("text=Deleted reports/.")

    # usage: charts of storage and requests per bucket (sampled every second by this server)
    s3.put_object(Bucket=name, Key="kept.txt", Body=b"k" * 5000)
    page.wait_for_timeout(1500)
    page.get_by_role("link", name="Usage").click()
    page.wait_for_selector("#storage-chart canvas")
    page.wait_for_selector("#requests-chart canvas")
    assert page.locator(f'#usage-table tr[data-bucket="{name}"]').is_visible()
    shot(page, shots / "05-usage.png")

    # SQL over a stored CSV: the result as a table and a chart
    s3.put_object(Bucket=name, Key="sales/q1.csv", Body=b"region,amount\nnorth,10\nsouth,25\nnorth,5\neast,7\n")
    page.get_by_role("link", name="SQL").click()
    page.get_by_label("Query").fill(f"SELECT region, sum(amount) AS total FROM 's3://{name}/sales/*.csv' "
                                    "GROUP BY region ORDER BY total DESC")
    page.get_by_role("button", name="Run").click()
    page.wait_for_selector('#job[data-status="succeeded"]', timeout=20_000)
    page.wait_for_selector("#result-chart canvas")
    assert page.locator("#result tbody tr").count() == 3
    region, total = page.locator("#result tbody tr").first.inner_text().split()
    assert region == "south" and float(total) == 25
    shot(page, shots / "06-sql.png")
    s3.delete_object(Bucket=name, Key="sales/q1.csv")

    # users and keys: a new read-only user with a key
    page.get_by_role("link", name="Users & keys").click()
    page.get_by_text("Create a user").click()
    page.get_by_label("User name").fill("analyst")
    page.get_by_label("Access", exact=True).select_option("read-only")
    page.get_by_role("button", name="Create user").click()
    page.wait_for_selector("text=User analyst created.")
    page.get_by_role("button", name="Create an access key for analyst").click()
    assert page.locator("#new-secret-key").is_visible()
    shot(page, shots / "07-users.png")

    # the bucket is not empty: deleting it is refused with the reason; then it is emptied and deleted
    page.get_by_role("link", name="Buckets").first.click()
    page.get_by_role("button", name=f"Delete bucket {name}").click()
    assert "is not empty" in page.locator("#page-error").inner_text()
    s3.delete_object(Bucket=name, Key="kept.txt")
    page.get_by_role("link", name="Buckets").first.click()
    page.get_by_role("button", name=f"Delete bucket {name}").click()
    page.wait_for_selector(f"text=Bucket {name} deleted.")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("text=You are signed out.")
    page.goto(server.console_endpoint + "/buckets")
    assert page.url.startswith(server.console_endpoint + "/login")
    assert not errors, errors
    context.close()


def test_read_only_user(server: NuageServer, browser: Any, shots: Path, s3: Any) -> None:
    name = unique_bucket_name("ro")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="docs/readme.txt", Body=b"read me", Metadata={"team": "ops"})
    s3.put_object_tagging(Bucket=name, Key="docs/readme.txt", Tagging={"TagSet": [{"Key": "kind", "Value": "doc"}]})
    user = make_user(server, READ_ONLY_POLICY, "reader")
    context = browser.new_context(viewport={"width": 390, "height": 844})      # a phone
    page = context.new_page()
    sign_in(page, server, user.access_key, user.secret_key)
    row = page.locator(f'tr[data-bucket="{name}"]')
    assert row.is_visible()
    assert page.get_by_text("Create a bucket").count() == 0
    assert row.get_by_role("button").count() == 0
    shot(page, shots / "08-read-only-phone.png")
    page.get_by_role("link", name=name).click()
    assert page.locator("#dropzone").count() == 0 and page.get_by_label("New folder").count() == 0
    page.locator('tr.folder[data-prefix="docs/"] a').click()
    page.get_by_role("link", name="readme.txt", exact=True).click()
    assert page.get_by_role("button", name=re.compile("^Delete")).count() == 0
    assert "team" in page.inner_text("#metadata") and "doc" in page.inner_text("#tags")
    assert page.locator("#download").is_visible()
    # forged requests, with the session's own CSRF token: refused by the S3 authorization (403)
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    status = page.evaluate(
        """async ([bucket, csrf]) => {
             const body = new URLSearchParams({csrf: csrf, key: "docs/readme.txt"});
             const resp = await fetch(`/b/${bucket}/delete`, {method: "POST", body: body});
             return resp.status;
           }""", [name, csrf])
    assert status == 403
    status = page.evaluate(
        """async ([bucket, csrf]) => {
             const resp = await fetch("/api/upload/start", {method: "POST",
               headers: {"content-type": "application/json", "x-csrf-token": csrf},
               body: JSON.stringify({bucket: bucket, key: "evil.txt", size: 3})});
             return resp.status;
           }""", [name, csrf])
    assert status == 403
    assert s3.get_object(Bucket=name, Key="docs/readme.txt")["Body"].read() == b"read me"
    context.close()
