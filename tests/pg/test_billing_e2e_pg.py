"""Metering to invoice, end to end, with two gateways on one PostgreSQL database (issue 18's proof; the flow
is tests/support/billing_e2e.py, the same as tests/api/test_billing_e2e.py's on SQLite): the workload's
requests spread over both gateways, each flushing its own counts; every quantity exact through either
gateway; one gateway samples the storage (the lease), an hour never twice; last month's invoice issued
through one gateway is the same document through the other, and after new traffic in that month. The
replicated bucket ships from this two-gateway region to a region of its own database."""

from __future__ import annotations

from pathlib import Path

from tests.support.billing_e2e import DEST, FAST, PRICES, SOURCE, run_flow
from tests.support.postgres import PostgresCluster
from tests.support.regions import write_registry
from tests.support.server import NuageServer, free_port


def test_two_gateways_meter_and_invoice_to_the_cent(pg: PostgresCluster, tmp_path: Path) -> None:
    ports = {SOURCE: free_port(), DEST: free_port()}
    other = free_port()                     # the second gateway of the billed region
    registry = tmp_path / "regions.json"
    write_registry(registry, ports, {DEST: [SOURCE]})
    (tmp_path / "prices.toml").write_text(PRICES)
    source_db, dest_db = pg.create_database(), pg.create_database()
    dest = NuageServer(tmp_path / "dest", port=ports[DEST], region=DEST, env=FAST, db=dest_db,
                       extra_args=["--regions", str(registry)]).start()
    args = ["--regions", str(registry), "--prices", str(tmp_path / "prices.toml")]

    def start(env: dict[str, str]) -> list[NuageServer]:
        gateways = [NuageServer(tmp_path / "source", port=port, region=SOURCE, db=source_db, env=env,
                                extra_args=args) for port in (ports[SOURCE], other)]
        return [gateway.start() for gateway in gateways]

    try:
        run_flow(start, dest)
    finally:
        assert dest.stop() == 0, dest.log()
