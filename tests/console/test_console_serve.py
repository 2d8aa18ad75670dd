"""Where `nuage serve` puts the web console: its own port (the banner says which), --console-address,
a free port with --console-port 0, and clear refusals (no traceback) for a port in use or the S3 port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, free_port, listens


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def serve(tmp_path: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    # one process: these tests are about the console's port (tests/api/test_workers.py starts several)
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY,
           "NUAGE_WORKERS": "1", **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "serve", "--host", "127.0.0.1",
                             "--data", str(tmp_path / "data"), *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_the_banner_prints_the_console_url(server: NuageServer) -> None:
    assert f"Web console:       http://127.0.0.1:{server.console_port}/\n" in server.log()
    assert status(server.console_endpoint + "/login") == 200


@pytest.fixture
def addressed(tmp_path: Path) -> Iterator[NuageServer]:
    port = free_port()
    srv = NuageServer(tmp_path / "data", console_port=port, extra_args=["--console-address", f"127.0.0.1:{port}"])
    yield srv.start()
    srv.stop()


def test_console_address(addressed: NuageServer) -> None:
    assert status(addressed.console_endpoint + "/login") == 200
    assert status(addressed.endpoint + "/console/login") == 404      # NoSuchBucket: S3's, not a console page


@pytest.mark.parametrize("how", ["option", "environment"])
def test_console_port_zero_is_a_free_port(tmp_path: Path, how: str) -> None:
    s3_port = free_port()
    proc = (serve(tmp_path, "--port", str(s3_port), "--console-port", "0") if how == "option" else
            serve(tmp_path, "--port", str(s3_port), env_extra={"NUAGE_CONSOLE_PORT": "0"}))
    try:
        assert proc.stdout is not None
        line = ""
        while "Web console:" not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found is not None, line
        port = int(found.group(1))
        assert port != s3_port + 1   # not the default
        deadline = time.monotonic() + 20
        while not listens(proc.pid, port):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        assert status(f"http://127.0.0.1:{port}/login") == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)      # and closes the pipes
    assert proc.returncode == 0


def test_a_console_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        proc = serve(tmp_path, "--port", str(free_port()), "--console-port", str(taken))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"cannot listen on 127.0.0.1:{taken}" in err and "Traceback" not in err


@pytest.mark.parametrize("args", [["--console-port", "{p}"], ["--console-address", "127.0.0.1:{p}"],
                                  ["--console-port", "{q}", "--console-address", ":{q}"],
                                  ["--console-address", "nonsense"]])
def test_bad_console_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    port, other = free_port(), free_port()
    proc = serve(tmp_path, "--port", str(port), *[a.format(p=port, q=other) for a in args])
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert "console" in err and "Traceback" not in err
