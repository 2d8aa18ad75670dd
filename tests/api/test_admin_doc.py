"""docs/admin.md runs as written: its shell commands in order (a server, the operator's key from its data
folder, a tenant and its key, a bucket of the tenant's, quotas with units, usage of one tenant and of all,
suspend and activate, a key listed and revoked, a tenant delete refused while it owns a bucket and done once
the bucket is gone), with a free port instead of 9000."""

from __future__ import annotations

import json
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
    assert ["acme", account, "Active", "1", "0", "0", "10000000000", "1000000"] in rows, report   # usage, all
    suspended = rows.index(["acme", account, "Suspended"])                      # suspended ...
    assert ["acme", account, "Active"] in rows[suspended + 1:], report          # ... and active again
    second = json.loads((tmp_path / "acme-key-2.json").read_text())["access_key"]
    listings = [i for i, row in enumerate(rows) if row[:3] == ["ACCESS", "KEY", "USER"]]
    assert len(listings) == 2, report
    revoked = next(i for i, row in enumerate(rows) if row[:1] == ["REVOKED"])
    assert listings[0] < revoked < listings[1], report
    assert [second, "acme", "(root)"] == rows[revoked + 1], report
    assert [row[:3] for row in rows[listings[0]:revoked]].count([second, "(root)", "Active"]) == 1, report
    assert not [row for row in rows[listings[1]:] if second in row], report     # gone from the second listing
    assert "Error: DeleteConflict: The tenant acme still owns 1 bucket" in run.stderr, report   # refused first
    assert "remove_bucket: acme-data" in run.stdout, report
    deleted = next(i for i, row in enumerate(rows) if row[:1] == ["DELETED"])
    assert rows[deleted + 1] == ["acme", account, "0", "0", "1"], report        # its one remaining key went too
    assert not [row for row in rows[deleted + 2:] if row[:1] == ["acme"]], report   # not listed any more
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log        # the page's own kill
