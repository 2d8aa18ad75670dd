"""docs/admin.md runs as written: its shell commands in order (a server, the operator's key from its data
folder, a tenant and its key, a bucket of the tenant's, quotas, usage, suspend and activate), with a free
port instead of 9000."""

from __future__ import annotations

from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "admin.md"


@SQLITE_PAGE
def test_the_admin_guide_runs_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    assert "make_bucket: acme-data" in run.stdout, report
    rows = [line.split() for line in run.stdout.splitlines()]
    assert ["acme-data", "0", "0", "-", "1000"] in rows, report                  # usage: the bucket, its quota
    assert ["TOTAL", "(acme,", "Active)", "0", "0", "10000000000", "1000000"] in rows, report
    account = next(row[1] for row in rows if row[:1] == ["acme"])
    assert ["acme", account, "Suspended"] in rows, report                       # suspended ...
    assert rows[-1] == ["acme", account, "Active"], report                      # ... and active again
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log        # the page's own kill
