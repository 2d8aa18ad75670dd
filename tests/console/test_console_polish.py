"""Console polish, in Debian's Chromium: chart labels inside their canvas and a time axis that spans the
window the page names, a folder icon that needs no emoji font, one date format, copy buttons, bulk
delete with per-key permissions, and object previews."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.console.test_console_browser import sign_in
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
