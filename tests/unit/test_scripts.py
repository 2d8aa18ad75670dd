"""scripts/test.sh (the README's test command) and .ci/run get the Debian packages the tests need from one
script, scripts/system-deps.sh: installed as root, otherwise one line saying what to install and a
non-zero exit before any test runs."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "scripts" / "system-deps.sh"


def _commands(path: Path) -> list[str]:
    """The script's lines without comments."""
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines() if line.split("#", 1)[0].strip()]


def test_test_sh_checks_the_system_packages_before_any_step() -> None:
    lines = _commands(ROOT / "scripts" / "test.sh")
    check = next(i for i, line in enumerate(lines) if re.match(r"scripts/system-deps\.sh\s*\|\|\s*exit 1$", line))
    first_step = next(i for i, line in enumerate(lines) if line.startswith("step "))
    assert check < first_step


def test_ci_run_uses_the_same_script_and_installs_nothing_itself() -> None:
    ci = _commands(ROOT / ".ci" / "run")
    assert any(line.startswith("scripts/system-deps.sh") for line in ci)
    assert "scripts/test.sh" in ci
    for script in (ROOT / ".ci" / "run", ROOT / "scripts" / "test.sh"):
        assert not any("apt-get" in line for line in _commands(script)), f"{script.name} installs packages itself"
    assert os.access(DEPS, os.X_OK)


def test_without_root_a_missing_package_is_one_line_and_exit_1(tmp_path: Path) -> None:
    """Not root (a stand-in `id`), python3 without venv (a stand-in python3): no apt-get (a stand-in that
    would leave a trace), one line naming the package, status 1."""
    fake = tmp_path / "bin"
    fake.mkdir()
    trace = tmp_path / "apt-get-was-called"
    for name, body in (("id", "echo 1000"), ("python3", "exit 1"), ("apt-get", f"touch {trace}; exit 1")):
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    done = subprocess.run([str(DEPS), "python3-venv"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "apt-get install python3-venv" in done.stderr
    assert not trace.exists()


def test_nothing_missing_is_silent_success() -> None:
    done = subprocess.run([str(DEPS), "python3-venv"], capture_output=True, text=True, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_an_unknown_package_name_is_refused() -> None:
    done = subprocess.run([str(DEPS), "no-such-thing"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "unknown package no-such-thing" in done.stderr
