"""Metering to invoice, end to end, on SQLite (issue 18's proof; the flow is tests/support/billing_e2e.py):
two tenants' known workload (uploads, an overwrite, a delete, GETs with a Range and a presigned URL, LISTs,
an incomplete multipart upload, a bucket replicated to another region, a SQL job) metered exactly in last
month's hours by a moved metering clock; storage byte-hours split at the month's end; last month's invoice
checked line by line against amounts worked out by hand from the test's price sheet, to the cent, and the
same document after new traffic in that month."""

from __future__ import annotations

from pathlib import Path

from tests.support.billing_e2e import DEST, FAST, PRICES, SOURCE, run_flow
from tests.support.regions import write_registry
from tests.support.server import NuageServer, free_port


def test_a_known_workload_is_metered_and_invoiced_to_the_cent(tmp_path: Path) -> None:
    ports = {SOURCE: free_port(), DEST: free_port()}
    registry = tmp_path / "regions.json"
    write_registry(registry, ports, {DEST: [SOURCE]})
    (tmp_path / "prices.toml").write_text(PRICES)
    dest = NuageServer(tmp_path / "dest", port=ports[DEST], region=DEST, env=FAST,
                       extra_args=["--regions", str(registry)]).start()

    def start(env: dict[str, str]) -> list[NuageServer]:
        server = NuageServer(tmp_path / "source", port=ports[SOURCE], region=SOURCE, env=env,
                             extra_args=["--regions", str(registry), "--prices", str(tmp_path / "prices.toml")])
        return [server.start()]

    try:
        run_flow(start, dest)
    finally:
        assert dest.stop() == 0, dest.log()
