"""docs/integrity.md runs as written: its `nuage scrub` commands in order (a server with one object, three
scrubs of a sound data folder, then one byte changed on disk: found by the scrub, exit status 2, the GET
refused), with a free port instead of 9000."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc

DOC = ROOT / "docs" / "integrity.md"


@SQLITE_PAGE
def test_the_scrub_commands_run_as_written(tmp_path: Path) -> None:
    run = run_doc(DOC, tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    start = run.stdout.index("{")                     # the --json report of the sound folder
    sound, _ = json.JSONDecoder().raw_decode(run.stdout[start:])
    assert (sound["blobs"], sound["bytes"], sound["damaged"]) == (1, 100_000, []), report
    assert "1 newly damaged" in run.stdout and "nuage scrub exited with status 2" in run.stdout, report
    assert "GET refused" in run.stdout and not (tmp_path / "back.bin").exists(), report
    assert "Traceback" not in log, log
    assert log.rstrip().endswith("nuage stopped cleanly"), log        # the page's own kill
