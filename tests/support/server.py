"""Start and stop a real `nuage serve` process on a free loopback port, for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

ACCESS_KEY = "NUAGETESTROOTKEY0001"
SECRET_KEY = "nuage-test-root-secret-key-0000000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: log files of every server started in this process, with how long each was when the current test began
STARTED_LOGS: dict[Path, int] = {}


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a socket listening on 127.0.0.1:``port``. A connection test is not
    enough when a server restarts on its old port: another test's server may have taken the port in
    between, and would answer in its place (same root keys)."""
    inodes = set()
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":   # local address, LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    for process in (pid, *children(pid)):   # with --workers N, the worker processes listen
        try:
            fds = os.listdir(f"/proc/{process}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{process}/fd/{fd}") in inodes:
                    return True
            except OSError:
                continue
    return False


#: Tests that look at the SQLite database file (or SQLite's own lock files) themselves; tests/pg covers the
#: same behaviour on PostgreSQL. Left out of the suite's PostgreSQL run (NUAGE_TEST_DB=postgresql).
SQLITE_ONLY = pytest.mark.skipif(os.environ.get("NUAGE_TEST_DB") == "postgresql",
                                 reason="reads or alters the SQLite database file itself")


def children(pid: int) -> list[int]:
    """The child processes of ``pid``."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class NuageServer:
    data_dir: Path
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    tls: tuple[Path, Path] | None = None          # (cert, key)
    region: str = "us-east-1"
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    ca_file: Path | None = None                   # CA that clients verify the TLS certificate against
    clients: list[Any] = field(default_factory=list, repr=False)
    root_keys_from_env: bool = True               # False: start without NUAGE_ROOT_* (first-start key creation)
    allow_faults: bool = False                    # True: stop() does not fail on tracebacks in the log
    console_port: int = 0                         # the web console's own port (a free one when 0)
    # metadata in this PostgreSQL database (postgresql://...); None: SQLite in the data folder, unless
    # NUAGE_TEST_DB=postgresql, which gives every server a fresh database of a shared test cluster
    db: str | None = None
    workers: int | None = 1                       # worker processes; None: nuage's default (one per core)

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def console_endpoint(self) -> str:
        """The web console's origin: a port of its own, never the S3 endpoint's."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.console_port}"

    def start(self, timeout: float = 20.0) -> NuageServer:
        if not self.port:
            self.port = free_port()
        if not self.console_port:
            self.console_port = free_port()
        env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY,
               **self.env}
        if not self.root_keys_from_env:
            env.pop("NUAGE_ROOT_ACCESS_KEY")
            env.pop("NUAGE_ROOT_SECRET_KEY")
        args = [sys.executable, "-m", "nuage.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data", str(self.data_dir), "--region", self.region, *self.extra_args]
        if self.workers is not None and not any(arg.startswith("--workers") for arg in self.extra_args):
            args += ["--workers", str(self.workers)]   # nuage's default is one per core
        if not any(arg.startswith("--console-address") for arg in self.extra_args):
            args += ["--console-port", str(self.console_port)]
        if self.tls:
            args += ["--tls-cert", str(self.tls[0]), "--tls-key", str(self.tls[1])]
        if self.db is None and os.environ.get("NUAGE_TEST_DB") == "postgresql":
            from tests.support.postgres import database_for
            self.db = database_for(self.data_dir)   # one per data folder: a restart finds its metadata
            # the only gateway of its database: no other process reads its blobs, so they go at once (as
            # the SQLite runs of the tests that count blob files expect)
            env.setdefault("NUAGE_SHARED_DELETE_GRACE", "0")
        if self.db is not None:
            args += ["--db", self.db]
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-server-{self.port}.log"
        STARTED_LOGS.setdefault(self.log_path, self.log_path.stat().st_size if self.log_path.exists() else 0)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nuage exited with {self.proc.returncode}: {self.log()}")
            if listens(self.proc.pid, self.port) and listens(self.proc.pid, self.console_port):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"nuage did not start: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def stop(self, timeout: float = 30.0) -> int:
        """Graceful stop (SIGINT, as Ctrl-C). Returns the exit code. Fails when the server logged a
        traceback: a fault the client may never see (an answer cut short after its head, say) must
        still fail the tests that caused it."""
        assert self.proc is not None
        self.close_clients()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        faults = self.faults()
        if faults and not self.allow_faults:
            raise AssertionError(f"the server logged {len(faults)} traceback(s); the first:\n{faults[0]}")
        return int(self.proc.returncode)

    def faults(self) -> list[str]:
        """The tracebacks in the server's log, each with the line before it (what was going on)."""
        lines = self.log().splitlines()
        out = []
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                end = i + 1
                while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
                    end += 1
                out.append("\n".join(lines[max(0, i - 1):end + 1]))
        return out

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def client(self, service: str = "s3", *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
               checksum: str = "when_supported", verify: Any = None, **config: Any) -> Any:
        cfg = Config(s3={"addressing_style": "path"}, request_checksum_calculation=checksum,
                     response_checksum_validation=checksum, retries={"max_attempts": 1, "mode": "standard"},
                     **config)
        client = boto3.client(service, endpoint_url=self.endpoint, aws_access_key_id=access_key,
                              aws_secret_access_key=secret_key, region_name=self.region, config=cfg,
                              verify=verify if verify is not None else self.verify)
        self.clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close the keep-alive connections of every client made here (an idle TLS connection would
        otherwise hold a graceful shutdown for the TLS close_notify timeout)."""
        for client in self.clients:
            client.close()
        self.clients.clear()

    @property
    def verify(self) -> str | None:
        if not self.tls:
            return None
        return str(self.ca_file or self.tls[0])
