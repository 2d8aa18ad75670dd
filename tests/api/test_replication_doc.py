"""docs/replication.md runs as written: its shell commands in order (two regions on one machine, each
with its own root key read from its data folder, versioned buckets, a replication rule, an object that
arrives in the other region, the operator's status), with free ports instead of 9000 and 9010."""

from __future__ import annotations

from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "replication.md"


@SQLITE_PAGE
def test_the_replication_guide_runs_as_written(tmp_path: Path) -> None:
    hz, us = free_port_pair(), free_port_pair()
    while us in (hz - 1, hz, hz + 1):
        us = free_port_pair()
    run = run_doc(DOC, tmp_path, ports={9000: hz, 9010: us}, env={"NUAGE_WORKERS": "1"})
    logs = {name: (tmp_path / name).read_text() for name in ("hz.log", "us.log") if (tmp_path / name).exists()}
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n{logs}"
    assert run.returncode == 0, report
    # the object crossed over, and both sides say so
    assert "order 1001, Seattle" in run.stdout, report
    assert '"REPLICA"' in run.stdout, report              # (and COMPLETED on the source: the page waits for it)
    assert "us-customers" in run.stdout, report          # the admin status names the rule
    assert not any("Traceback" in log for log in logs.values()), logs
    assert all(log.rstrip().endswith("nuage stopped cleanly") for log in logs.values()), logs   # the page's kill
