"""The service files of deploy/ and the Dockerfile, checked as far as this machine can:

- deploy/nuage.service passes ``systemd-analyze verify`` (where systemd-analyze exists; CI's Debian has it)
  and its hardening keeps ``systemd-analyze security`` at "OK" (exposure 3.0 or less);
- the Dockerfile's CMD, with its ENV, starts a real gateway and its HEALTHCHECK command, run as written,
  says healthy; SIGTERM (its STOPSIGNAL, what ``docker stop`` sends) stops it with exit 0. The image itself
  is not built here: this machine has the docker client but no engine.

Only what names the machine changes: the venv for /opt/nuage/.venv, a temporary folder for /data and the
unit's data folder, a free port for 9000 (and the console's)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("no systemd-analyze on this machine")
    return found


def unit_here(tmp_path: Path) -> Path:
    """deploy/nuage.service with this machine's paths: the venv's nuage, a temporary data folder."""
    text = (REPO / "deploy" / "nuage.service").read_text()
    text = text.replace("/opt/nuage/.venv/bin/nuage", str(VENV_BIN / "nuage"))
    text = text.replace("/srv/nuage", str(tmp_path / "srv"))
    unit = tmp_path / "nuage.service"
    unit.write_text(text)
    return unit


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    done = subprocess.run([systemd_analyze(), "verify", str(unit_here(tmp_path))], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stdout + done.stderr


def test_the_systemd_unit_is_hardened(tmp_path: Path) -> None:
    done = subprocess.run([systemd_analyze(), "security", "--offline=true", str(unit_here(tmp_path))],
                          capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    assert found is not None, done.stdout + done.stderr
    assert float(found[1]) <= 3.0, done.stdout   # systemd says OK up to 3.9; MEDIUM, EXPOSED, UNSAFE above
    unit = (REPO / "deploy" / "nuage.service").read_text()
    for setting in ("User=nuage", "ProtectSystem=strict", "ReadWritePaths=/srv/nuage", "LimitNOFILE=",
                    "NoNewPrivileges=yes", "KillMode=mixed"):
        assert setting in unit, setting


def dockerfile() -> dict[str, list[str]]:
    """Each instruction of the Dockerfile (continuation lines joined) with its arguments, in order."""
    out: dict[str, list[str]] = {}
    text = re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.setdefault(word.upper(), []).append(rest.strip())
    return out


def here(argv: list[str], port: int, data: Path) -> list[str]:
    return [a.replace("/opt/nuage/.venv/bin/", f"{VENV_BIN}/").replace("/data", str(data))
            .replace("9000", str(port)) for a in argv]


def test_the_dockerfile_command_serves_and_its_healthcheck_says_so(tmp_path: Path) -> None:
    instructions = dockerfile()
    assert instructions["FROM"][0].startswith("python:3.11-slim-bookworm")   # Debian's Python image
    assert instructions["USER"] == ["nuage"]                                 # never root
    assert instructions["STOPSIGNAL"] == ["SIGTERM"]
    env = dict(item.split("=", 1) for line in instructions["ENV"] for item in line.split())
    cmd = json.loads(instructions["CMD"][0])
    health = instructions["HEALTHCHECK"][0]
    health_cmd = json.loads(health[health.index("CMD ") + 4:])
    port, data = free_port(), tmp_path / "data"
    data.mkdir(mode=0o700)
    proc_env = {**os.environ, **{k: v.replace("/data", str(data)) for k, v in env.items()},
                "NUAGE_CONSOLE_PORT": str(free_port())}
    for name in ("NUAGE_ROOT_ACCESS_KEY", "NUAGE_ROOT_SECRET_KEY", "NUAGE_DB", "NUAGE_TEST_DB"):
        proc_env.pop(name, None)
    argv = here(cmd, port, data)
    assert "0.0.0.0" in argv   # reachable from outside the container
    argv[argv.index("0.0.0.0")] = "127.0.0.1"   # the tests listen on 127.0.0.1 only
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=proc_env)
    try:
        deadline = time.monotonic() + 60
        while True:
            check = subprocess.run(here(health_cmd, port, data), capture_output=True, timeout=30)
            if check.returncode == 0:
                break
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert (data / "root-credentials.json").exists()   # the volume holds the data
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text()
    unhealthy = subprocess.run(here(health_cmd, port, data), capture_output=True, timeout=30)
    assert unhealthy.returncode != 0   # and the check fails once nothing serves
