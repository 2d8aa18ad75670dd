"""docs/scale-out.md, run as written, in order: every line of its ``sh`` blocks is matched by one row of
RUNNERS and run. Only what names this machine changes: a temporary folder for /srv/nuage and /etc, free
ports of 127.0.0.1 for 9000 and 0.0.0.0, the throw-away PostgreSQL cluster's port for 5432 (as its
superuser for ``sudo -u postgres``; the doc's role and database ``nuage`` are ``nuage_doc_scale``, as
the test cluster's superuser is already called nuage), the project's own venv for /opt/nuage/.venv.

Commands that change the machine itself (``apt-get install``, ``useradd``, ``systemctl``) are not run on a
developer's machine: ``apt-get install X`` checks X is installed (.ci/run installs it), ``useradd`` is
left out (the unit's ``User=`` is then left out too), ``systemctl daemon-reload`` reads the installed unit,
``systemctl enable --now nuage`` runs its ``ExecStart=`` with its ``EnvironmentFile=``, ``systemctl reload
haproxy`` starts haproxy on the installed configuration with the doc's gateways in it. A line that no row
matches fails the test: a new command in the doc needs a way to run here."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

from tests.conftest import unique_bucket_name
from tests.pg.test_haproxy import Haproxy, configuration, haproxy_binary
from tests.support.postgres import SUPERUSER, PostgresCluster, find_bindir
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, free_port

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "scale-out.md"
VENV_BIN = Path(sys.executable).parent
ROLE = "nuage_doc_scale"


def doc_commands() -> list[str]:
    """The lines of the doc's ``sh`` blocks, in order, without trailing comments."""
    out, inside = [], False
    for line in DOC.read_text().splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```sh"
            continue
        if inside and line.strip():
            out.append(re.sub(r"\s+#\s.*$", "", line).strip())
    return out


@dataclass
class Machine:
    """What the doc's commands act on, here."""

    pg: PostgresCluster
    root: Path                                    # stands for /
    gateways: list[NuageServer] = field(default_factory=list)
    unit: dict[str, str] = field(default_factory=dict)
    proxy: Haproxy | None = None
    log: list[str] = field(default_factory=list)

    def path(self, text: str) -> str:
        """Machine paths of the doc moved under ``root``; the PostgreSQL port, role and database put in."""
        text = re.sub(r"postgresql://nuage:change-me@127\.0\.0\.1:5432/nuage\b",
                      f"postgresql://{ROLE}:change-me@127.0.0.1:{self.pg.port}/{ROLE}", text)
        text = text.replace("CREATE ROLE nuage ", f"CREATE ROLE {ROLE} ").replace("-O nuage nuage", f"-O {ROLE} {ROLE}")
        return re.sub(r"(?<![\w.])/(srv|etc|opt)/", lambda m: f"{self.root}/{m.group(1)}/", text)

    def gateway(self) -> NuageServer:
        assert self.gateways, "a command of the doc needs a running gateway, and none was started before it"
        return self.gateways[-1]

    def stop_gateways(self) -> None:
        codes = [g.stop() for g in self.gateways]
        assert codes == [0] * len(codes), "".join(g.log() for g in self.gateways)
        self.gateways.clear()

    # ----------------------------------------------------------------- one method per kind of command

    def serve(self, args: list[str], env: dict[str, str] | None = None) -> None:
        """``nuage serve ...``: the previous gateway stops (exit 0) unless the doc keeps several running;
        this one starts on free ports of 127.0.0.1 and answers its health check."""
        options = dict(zip(args[::2], args[1::2], strict=False))
        assert set(options) <= {"--data", "--workers", "--db", "--host", "--port"}, args
        self.stop_gateways()
        workers = int(options["--workers"]) if "--workers" in options else None   # None: one per core
        srv = NuageServer(Path(self.path(options["--data"])), db=options.get("--db"), env=env or {},
                          workers=workers)
        self.gateways.append(srv.start(timeout=60))
        health(srv)

    def nuage(self, args: list[str]) -> None:
        done = subprocess.run([str(VENV_BIN / "nuage"), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"nuage {' '.join(args)}: {done.stdout}{done.stderr}"
        assert "change-me" not in done.stdout + done.stderr   # the password is never printed

    def curl_health(self, port: str) -> None:
        assert port == "9000", port
        health(self.gateway())

    def superuser(self, tool: str, args: list[str]) -> None:
        """``sudo -u postgres psql|createdb ...``: the cluster's superuser over its TCP port."""
        if self.gateways:
            self.stop_gateways()   # the doc stops the gateway before moving its metadata
        done = subprocess.run([str(find_bindir() / tool), "-h", "127.0.0.1", "-p", str(self.pg.port),
                               "-U", SUPERUSER, *(["-d", "postgres"] if tool == "psql" else []), *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    def install(self, args: list[str]) -> None:
        """``install ...`` under ``root``; owner options need the doc's system user, which is left out."""
        out: list[str] = []
        skip = False
        for arg in args:
            if skip:
                skip = False
            elif arg in ("-o", "-g"):
                skip = True
            else:
                out.append(self.path(arg))
        if "-d" not in out:   # the destination's folder: -D makes it, a plain install expects it
            Path(out[-1]).parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["install", *out], cwd=REPO, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        installed = Path(out[-1])
        if installed.name == "nuage.env":   # "then set NUAGE_DB in it"
            text = installed.read_text()
            url = f"postgresql://{ROLE}:change-me@127.0.0.1:{self.pg.port}/{ROLE}"
            installed.write_text(re.sub(r"(?m)^NUAGE_DB=.*$", f"NUAGE_DB={url}", text))
        if installed.name == "haproxy.cfg":   # "then put your gateways' addresses in it": at reload
            installed.write_text(self.path(installed.read_text()))

    def daemon_reload(self) -> None:
        unit = self.root / "etc/systemd/system/nuage.service"
        self.unit = {}
        for line in unit.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.startswith(("#", "[")):
                self.unit[name.strip()] = value.strip()

    def enable_now(self) -> None:
        """The unit's ExecStart with its EnvironmentFile, as systemd would run it."""
        exec_start = shlex.split(self.unit["ExecStart"])
        assert exec_start[:2] == ["/opt/nuage/.venv/bin/nuage", "serve"], exec_start
        env: dict[str, str] = {}
        for line in Path(self.path(self.unit["EnvironmentFile"])).read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                env[name.strip()] = value.strip()
        self.serve(exec_start[2:], env=env)
        assert self.gateways[-1].db is None and "NUAGE_DB" in env   # the database came from the env file

    def haproxy_check(self, config: str) -> None:
        done = subprocess.run([haproxy_binary(), "-c", "-f", self.path(config)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    def haproxy_reload(self) -> None:
        """haproxy on the installed configuration with the running gateway(s) as its servers, then an S3
        round trip through it."""
        installed = self.root / "etc/haproxy/haproxy.cfg"
        ports = {"s3": free_port(), "console": free_port()}
        gateways = {f"gw{n + 1}": g for n, g in enumerate(self.gateways)}
        text = configuration(ports, gateways, source=installed)
        running = self.root / "haproxy-running.cfg"
        running.write_text(text)
        self.proxy = Haproxy(haproxy_binary(), running, ports["s3"], ports["console"])
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{ports['s3']}", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}))
        bucket = self.log[0]   # made before the metadata moved to PostgreSQL
        s3.put_object(Bucket=bucket, Key="through-haproxy", Body=b"hello")
        assert s3.get_object(Bucket=bucket, Key="from-sqlite")["Body"].read() == b"moved with db copy"
        assert s3.get_object(Bucket=bucket, Key="through-haproxy")["Body"].read() == b"hello"

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        self.stop_gateways()


def health(srv: NuageServer) -> None:
    with urllib.request.urlopen(f"{srv.endpoint}/_nuage/health", timeout=10) as answer:
        assert answer.status == 200
        body = json.loads(answer.read())
    assert (body["status"], body["database"]) == ("ok", "ok"), body


def installed(package: str) -> None:
    """``apt-get install -y PACKAGE``: .ci/run installs it; here it must be there."""
    found = {"postgresql": lambda: find_bindir().exists(), "haproxy": lambda: bool(haproxy_binary())}
    assert found[package](), f"{package} is not installed"


Runner = Callable[[Machine, "re.Match[str]"], None]

#: (pattern of a doc line, how it runs here): every line of the doc must match one
RUNNERS: list[tuple[str, Runner]] = [
    (r"apt-get install -y (\S+)", lambda m, g: installed(g[1])),
    (r"nuage serve (.*)", lambda m, g: m.serve(shlex.split(m.path(g[1])))),
    (r"nuage db (copy|check) (.*)", lambda m, g: m.nuage(["db", g[1], *shlex.split(m.path(g[2]))])),
    (r"curl -i http://127\.0\.0\.1:(\d+)/_nuage/health", lambda m, g: m.curl_health(g[1])),
    (r"sudo -u postgres (psql|createdb) (.*)", lambda m, g: m.superuser(g[1], shlex.split(m.path(g[2])))),
    (r"useradd --system .* nuage", lambda m, g: None),
    (r"install (.*)", lambda m, g: m.install(shlex.split(g[1]))),
    (r"systemctl daemon-reload", lambda m, g: m.daemon_reload()),
    (r"systemctl enable --now nuage", lambda m, g: m.enable_now()),
    (r"haproxy -c -f (\S+)", lambda m, g: m.haproxy_check(g[1])),
    (r"systemctl reload haproxy", lambda m, g: m.haproxy_reload()),
]


def test_every_line_of_the_doc_has_a_runner() -> None:
    commands = doc_commands()
    assert len(commands) > 20
    unknown = [c for c in commands if not any(re.fullmatch(p, c) for p, _ in RUNNERS)]
    assert not unknown, f"commands of docs/scale-out.md this test cannot run: {unknown}"


def test_the_scale_out_guide_runs_as_written(pg: PostgresCluster, tmp_path: Path) -> None:
    machine = Machine(pg, tmp_path / "machine")
    (machine.root / "srv").mkdir(parents=True)
    try:
        for command in doc_commands():
            if command.startswith("nuage db copy"):   # something to move: an object of the SQLite days
                data = Path(machine.path("/srv/nuage"))
                srv = NuageServer(data).start()
                bucket = unique_bucket_name("doc")
                machine.log.append(bucket)
                srv.client().create_bucket(Bucket=bucket)
                srv.client().put_object(Bucket=bucket, Key="from-sqlite", Body=b"moved with db copy")
                assert srv.stop() == 0, srv.log()
            pattern, run = next((p, r) for p, r in RUNNERS if re.fullmatch(p, command))
            match = re.fullmatch(pattern, command)
            assert match is not None
            run(machine, match)
        assert machine.proxy is not None, "the doc ends with haproxy in front of the gateways"
    finally:
        machine.close()
