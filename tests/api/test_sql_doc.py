"""docs/sql.md runs as written: the shell commands of its SQL jobs section in order (a server, a CSV turned
into Parquet by a job, queries in table and CSV form, a result saved as an object, the job list, a cancel),
with a free port instead of 9000."""

from __future__ import annotations

from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "sql.md"


@SQLITE_PAGE
def test_the_sql_job_commands_run_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in run.stdout.splitlines() if "│" in line]
    assert ["north", "15.5"] in rows and ["south", "7.0"] in rows, report     # sum(amount) by region
    assert "time,path,status" in run.stdout and ",/missing,404" in run.stdout, report   # the CSV form
    assert "result written to s3://sales/2015/jan.parquet" in run.stderr, report
    assert "result written to s3://reports/by-region.parquet" in run.stderr, report
    count_job = (tmp_path / "job.txt").read_text().split()
    assert count_job[0] == "job" and count_job[2] == "succeeded:", report
    assert f"job {count_job[1]} succeeded:" in run.stderr, report        # the cancel found it ended
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log        # the page's own kill
