"""docs/billing.md runs as written: a server with a price sheet of its own, a tenant and a few requests metered
into last month (the metering clock moved back), its invoice issued twice (the same document), as CSV and PDF,
the list, a preview and a refused issue of the month under way; with a free port instead of 9000. The
quantities the page states are checked in the invoice it saves."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "billing.md"


@SQLITE_PAGE
def test_the_billing_commands_run_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    invoice = json.loads((tmp_path / "invoice.json").read_text())
    assert invoice["kind"] == "invoice" and invoice["number"].startswith("EXC-"), report
    assert invoice["issuer"]["name"] == "Example Cloud" and invoice["tax_rate"] == "0.0825"
    quantities = {line["metric"]: line["quantity"] for line in invoice["lines"]}
    assert quantities["requests_a"] == "2" and quantities["requests_b"] == "1", invoice["lines"]
    assert quantities["data_out"] == "0.000977" and invoice["usage"]["bytes_out"] == 1048576, invoice
    assert invoice["total"] == "0.00"
    assert (tmp_path / "invoice-again.json").read_text() == (tmp_path / "invoice.json").read_text()
    assert (tmp_path / "invoice.pdf").read_bytes().startswith(b"%PDF-")
    assert f"{invoice['number']},{invoice['month']},USD,total" in run.stdout, report     # the CSV
    assert invoice["number"] in run.stdout.split("invoices", 1)[-1], report               # the list
    preview = json.loads((tmp_path / "preview.json").read_text())
    assert preview["kind"] == "preview" and preview["number"] is None
    assert "MonthNotClosed" in run.stderr and "refused, as it should be" in run.stdout, report
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log
