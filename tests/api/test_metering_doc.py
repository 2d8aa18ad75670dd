"""docs/metering.md runs as written: a server, a tenant, a few requests and its metered usage, with a free port
instead of 9000; the numbers the page states are checked in the JSON it saves."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "metering.md"


@SQLITE_PAGE
def test_the_metering_commands_run_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    usage = json.loads((tmp_path / "acme-usage.json").read_text())
    got = {row["metric"]: row["value"] for row in usage["rows"] if row["bucket"] == "acme-data"}
    assert got == {"requests_a": 3, "requests_b": 1, "bytes_in": 16, "bytes_out": 16}, report
    assert "acme-data" in run.stdout and "requests_a" in run.stdout, report     # the table
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log
