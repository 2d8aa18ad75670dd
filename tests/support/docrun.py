"""Run a document's shell commands as written, in order: every ```sh block of a docs/ page, one after
the other in one bash process (functions and variables carry over, as in a terminal), in an empty
folder with this checkout's `nuage` and `aws` first on the PATH. Only what names this machine may be
substituted (ports, so that tests run side by side); the rest is the page's own text."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The pages' commands start their own servers, on SQLite as written: the suite's PostgreSQL run
#: (NUAGE_TEST_DB=postgresql) would only run them a second time the same way.
SQLITE_PAGE = pytest.mark.skipif(os.environ.get("NUAGE_TEST_DB") == "postgresql",
                                 reason="the page's servers run on SQLite, as written; the SQLite run covers it")
_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def shell_blocks(doc: Path) -> list[str]:
    """The ```sh blocks of a Markdown page, in order."""
    return _BLOCK.findall(doc.read_text())


def free_port_pair() -> int:
    """A free port whose next port is free too (a server's S3 port and its console's)."""
    while True:
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65535:
                continue
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port


@dataclass
class DocRun:
    script: str
    returncode: int
    stdout: str
    stderr: str


def run_doc(doc: Path, cwd: Path, *, ports: dict[int, int] | None = None, substitutions: dict[str, str] | None = None,
            env: dict[str, str] | None = None, timeout: float = 240) -> DocRun:
    """Run the page's shell blocks with ``bash -e`` (the first failing command fails the run), each port
    of ``ports`` (the page's, e.g. 9000) replaced by a free one. Whatever the page leaves running in the
    background is stopped afterwards (its own process group)."""
    script = "\n".join(shell_blocks(doc))
    for page_port, port in (ports or {}).items():
        pattern = re.compile(rf"(?<![0-9]){page_port}(?![0-9])")
        assert pattern.search(script), f"port {page_port} is not in the commands of {doc.name}"
        script = pattern.sub(str(port), script)
    for old, new in (substitutions or {}).items():
        assert old in script, f"{old!r} is not in the commands of {doc.name}"
        script = script.replace(old, new)
    bindir = str(Path(sys.executable).parent)
    home = cwd / ".home"
    home.mkdir(parents=True, exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR")}
    environment = {**keep, "PATH": f"{bindir}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
                   "AWS_CONFIG_FILE": str(home / "aws-config-none"),
                   "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials-none"),
                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "", "NO_PROXY": "127.0.0.1",
                   "PYTHONWARNINGS": "ignore", **(env or {})}
    out_path, err_path = home / "stdout", home / "stderr"
    # files, not pipes: a server the page starts in the background would hold a pipe open after the end
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(["bash", "-e", "-c", script], cwd=cwd, env=environment, stdout=out, stderr=err,
                                start_new_session=True)
    note = ""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        note = f"\n(timed out after {timeout} s)"
    finally:
        _stop_group(proc.pid)
    proc.wait()
    return DocRun(script, proc.returncode, out_path.read_text(), err_path.read_text() + note)


def _stop_group(pgid: int) -> None:
    """Stop what the script left running: its process group (it is the group's leader)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
