"""docs/operations.md runs as written: a server with objects, `nuage backup` while it runs, `nuage restore`
into a new folder served on another port (the object reads back identical), the root key rotated (the new
one works after a restart without the variables, the old one is refused), and `nuage db check`; with free
ports instead of 9000 and 9100."""

from __future__ import annotations

from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "operations.md"


@SQLITE_PAGE
def test_the_operations_commands_run_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair(), 9100: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    logs = {name: (tmp_path / name).read_text() if (tmp_path / name).exists() else ""
            for name in ("nuage.log", "restored.log")}
    report = (f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n"
              + "".join(f"--- {name}\n{text}\n" for name, text in logs.items()))
    assert run.returncode == 0, report
    assert "backed up metadata (schema " in run.stdout and " 1 blobs (3.0 MB)" in run.stdout, report
    assert "restored metadata (schema " in run.stdout and "integrity ok" in run.stdout, report
    assert "the restored object is identical" in run.stdout, report
    assert "PRE 2026/" in run.stdout and "readme.txt" in run.stdout, report     # listed with the new root key
    assert "the old root key is refused" in run.stdout, report
    assert run.stdout.rstrip().endswith("up to date"), report
    assert (tmp_path / "backups" / "2026-12-07" / "secrets" / "iam.key").exists(), report
    for text in logs.values():
        assert "Traceback" not in text, text
        assert text.rstrip().endswith("nuage stopped cleanly"), text       # the page's own kills
