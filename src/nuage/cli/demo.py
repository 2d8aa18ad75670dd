"""`nuage demo`: the whole platform in one command, on one machine.

Two regions (cn-hangzhou and us-west-1), each a real ``nuage serve`` process (one worker) with its web
console, linked by a region registry; a tenant with an IAM user in both; a versioned bucket in each, with a
replication rule from the first to the second; a small shop's orders (CSV, Parquet, a JSON catalog) written
to cn-hangzhou and replicated to us-west-1. Everything is set up through the public APIs (demo_setup.py),
then the endpoints, the user's keys and commands to paste are printed, and the demo waits: Ctrl-C (or
SIGTERM) stops both regions. Without ``--data`` everything lives in a temporary folder removed at exit;
``--data DIR`` keeps it, and a later ``nuage demo --data DIR`` starts the same regions again without
setting anything up twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

import click

from nuage.cli import demo_data, demo_setup
from nuage.cli.demo_setup import Key, Region, State
from nuage.cli.helpformat import Command, pad
from nuage.cli.i18n import _

REGIONS = ("cn-hangzhou", "us-west-1")
PORT_STEP = 10            # the second region's ports: the first's + 10 (consoles: S3 port + 1)
START_SECONDS = 60.0      # a region has this long to answer its health check
STOP_SECONDS = 20.0       # and this long to stop after SIGTERM, before SIGKILL


class _Stop(BaseException):
    """SIGINT or SIGTERM: stop the demo (a BaseException, so that no client's `except Exception` eats it)."""


def _stop(_sig: int, _frame: FrameType | None) -> None:
    raise _Stop


@dataclass
class Server:
    region: Region
    data_dir: Path
    s3_port: int
    console_port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port


def plan_ports(base: int) -> list[tuple[int, int]]:
    """(S3 port, console port) per region: base, base + 1, base + 10, base + 11; free ones for base 0. A
    ClickException (one line) when a port is out of range or in use."""
    if base == 0:
        taken: set[int] = set()
        for _n in range(2 * len(REGIONS)):
            taken.add(_free_port(taken))
        ports = sorted(taken)
        return [(ports[2 * i], ports[2 * i + 1]) for i in range(len(REGIONS))]
    plan = [(base + PORT_STEP * i, base + PORT_STEP * i + 1) for i in range(len(REGIONS))]
    for (s3, console), name in zip(plan, REGIONS, strict=True):
        for port, what in ((s3, _("the S3 endpoint of {region}")), (console, _("the web console of {region}"))):
            what = what.format(region=name)
            if not 1 <= port <= 65535:
                raise click.ClickException(_("--port {base}: {what} would be on port {port}, not a port (the demo "
                                             "uses --port to --port + {span})").format(
                                                 base=base, what=what, port=port, span=PORT_STEP + 1))
            if not _port_free(port):
                raise click.ClickException(_("port {port} ({what}) is in use: give another --port, or --port 0 for "
                                             "free ports").format(port=port, what=what))
    return plan


def write_registry(path: Path, servers: list[Server]) -> None:
    """The region registry both servers read: endpoints of this start, replication keys of the first one
    (kept), us-west-1 accepting replicas from cn-hangzhou. Mode 0600: it holds the keys."""
    try:
        old = {r["name"]: r for r in json.loads(path.read_text())["regions"]}
    except (OSError, ValueError, KeyError, TypeError):
        old = {}
    regions = []
    for i, s in enumerate(servers):
        prev = old.get(s.region.name, {})
        regions.append({
            "name": s.region.name, "endpoint": s.region.endpoint,
            "access_key": prev.get("access_key") or "DEMO" + secrets.token_hex(8).upper(),
            "secret_key": prev.get("secret_key") or secrets.token_urlsafe(30),
            "accept_from": [servers[0].region.name] if i > 0 else []})
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps({"regions": regions}, indent=2) + "\n")
    tmp.replace(path)


def _die_with_parent() -> None:   # pragma: no cover - runs in the child, between fork and exec
    """A region stops when the demo itself dies without cleaning up (kill -9): SIGTERM from the kernel."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def start(server: Server, registry: Path) -> None:
    """``nuage serve`` for the region, its output in its log file. The children get no NUAGE_* variable of
    this shell: the demo is two embedded regions (SQLite, local files), whatever the environment says."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUAGE_")}
    cmd = [sys.executable, "-m", "nuage.cli.main", "serve", "--region", server.region.name,
           "--port", str(server.s3_port), "--console-port", str(server.console_port),
           "--data", str(server.data_dir), "--regions", str(registry), "--workers", "1"]
    with server.log.open("ab") as log:
        server.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                          env=env, start_new_session=True,
                                          preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def wait_healthy(server: Server) -> None:
    url = f"{server.region.endpoint}/_nuage/health"
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert server.process is not None
        if server.process.poll() is not None:
            raise click.ClickException(_("{region} did not start (exit {code}); its log ({log}) ends with:\n{tail}")
                                       .format(region=server.region.name, code=server.process.returncode,
                                               log=server.log, tail=server.log_tail()))
        with contextlib.suppress(OSError, urllib.error.URLError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        if time.monotonic() > deadline:
            raise click.ClickException(_("{region} did not answer {url} within {seconds:.0f} s; its log: {log}")
                                       .format(region=server.region.name, url=url, seconds=START_SECONDS,
                                               log=server.log))
        time.sleep(0.1)


def stop(servers: list[Server]) -> None:
    """SIGTERM to every region still running (each stops gracefully), SIGKILL after STOP_SECONDS."""
    running = [s.process for s in servers if s.process is not None and s.process.poll() is None]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in running:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def set_up(servers: list[Server], state: State, sample_dir: Path) -> None:
    """Tenant, quota, user and buckets in both regions, the replication rule, the sample data."""
    source, replica = servers[0].region, servers[1].region
    owners: dict[str, Key] = {}
    accounts: dict[str, str] = {}   # one tenant name in both regions: one account for replication
    for s in servers:
        owners[s.region.name], accounts[s.region.name] = demo_setup.tenant(s.region, demo_setup.root_key(s.data_dir),
                                                                           state)
        demo_setup.user(s.region, owners[s.region.name], state)
    demo_setup.bucket(replica, owners[replica.name], demo_setup.REPLICA_BUCKET)
    demo_setup.bucket(source, owners[source.name], demo_setup.SOURCE_BUCKET)
    demo_setup.replication(source, owners[source.name], accounts[source.name])
    files = demo_data.write_all(sample_dir)
    demo_setup.upload(source, owners[source.name], files)
    state.mark_ready()


def _env_prefix(key: Key) -> str:
    return f"AWS_ACCESS_KEY_ID={shlex.quote(key.access_key)} AWS_SECRET_ACCESS_KEY={shlex.quote(key.secret_key)}"


QUERY = ("SELECT country, sum(quantity * unit_price) AS revenue, count(*) AS orders "
         f"FROM 's3://{demo_setup.SOURCE_BUCKET}/orders/orders.parquet' GROUP BY country ORDER BY revenue DESC")


def banner(servers: list[Server], state: State, data_dir: Path, kept: bool, reused: bool, lag: float) -> str:
    source, replica = servers[0].region, servers[1].region
    keys = {s.region.name: state.key(s.region.name, "user") for s in servers}
    src_key, dst_key = keys[source.name], keys[replica.name]
    assert src_key is not None and dst_key is not None
    where = (_("kept in {folder}").format(folder=data_dir) if kept
             else _("in {folder}, removed at exit (keep it with --data DIR)").format(folder=data_dir))
    lines = ["", _("Nuage demo: two regions, one tenant, replicated sample data ({where}).").format(where=where)]
    if reused:
        lines.append(_("The regions, tenant, buckets and data of an earlier run were found there and reused."))
    lines += ["", f"  {pad(_('REGION'), 12)} {pad(_('S3 ENDPOINT'), 26)} {_('WEB CONSOLE')}"]
    lines += [f"  {s.region.name:<12} {s.region.endpoint:<26} {s.region.console}" for s in servers]
    lines += ["", _('Tenant "{tenant}", IAM user "{user}" (a demo: its keys are printed here; sign in to each '
                    "region's console with that region's key):").format(tenant=demo_setup.TENANT,
                                                                          user=demo_setup.USER)]
    for s in servers:
        key = keys[s.region.name]
        assert key is not None
        lines.append(f"  {s.region.name:<12} " + _("access key {access}  secret key {secret}").format(
            access=key.access_key, secret=key.secret_key))
    src_url = f"s3://{demo_setup.SOURCE_BUCKET}"
    replicated = (_("Replication: {source} -> {replica} in {region}: replicas arrived (COMPLETED, {lag:.2f} s after "
                    "the upload)") if not reused else
                  _("Replication: {source} -> {replica} in {region}: replicas arrived (COMPLETED)"))
    lines += ["", _("Data in {region}: {url}/orders/orders.csv ({orders:,} orders), {url}/orders/orders.parquet, "
                    "{url}/catalog/products.json").format(region=source.name, url=src_url, orders=demo_data.ORDERS),
              replicated.format(source=f"{src_url}/{demo_setup.REPLICATED_PREFIX}",
                                replica=f"s3://{demo_setup.REPLICA_BUCKET}/{demo_setup.REPLICATED_PREFIX}",
                                region=replica.name, lag=lag),
              "", _("Revenue per country, a SQL job over the Parquet file:"),
              f"  {_env_prefix(src_key)} nuage query --endpoint {source.endpoint} --region {source.name} "
              f'"{QUERY}"',
              "", _("The replicas in {region}, with the aws command line:").format(region=replica.name),
              f"  {_env_prefix(dst_key)} aws --endpoint-url {replica.endpoint} --region {replica.name} "
              f"s3 ls --recursive s3://{demo_setup.REPLICA_BUCKET}/",
              "", _("Logs: {files}").format(files=", ".join(str(s.log) for s in servers)),
              _("Ctrl-C stops both regions.")]
    return "\n".join(lines)


def _watch(servers: list[Server], out: IO[str]) -> int:
    """Wait for a signal (_Stop) or for a region to end by itself (then 1)."""
    while True:
        for s in servers:
            assert s.process is not None
            if s.process.poll() is not None:
                print(_("{region} stopped (exit {code}); its log ({log}) ends with:\n{tail}").format(
                    region=s.region.name, code=s.process.returncode, log=s.log, tail=s.log_tail()),
                    file=out, flush=True)
                return 1
        time.sleep(0.5)


@click.command("demo", cls=Command,
               help=_("Start two regions with a tenant, a user, replicated buckets and sample data, print how to use "
                      "them, and wait: Ctrl-C stops everything."))
@click.option("--port", "base_port", type=click.IntRange(0, 65535), default=9000, show_default=True,
              help=_("cn-hangzhou's S3 port; its console takes the next one, us-west-1 the same ten ports higher "
                     "(0: free ports)."))
@click.option("--data", "data_option", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=_("Keep the demo in this folder (a later `nuage demo --data DIR` reuses it); default: a "
                     "temporary folder removed at exit."))
def demo(base_port: int, data_option: Path | None) -> None:
    """`nuage demo` (the help text above)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    ports = plan_ports(base_port)
    kept = data_option is not None
    data_dir = (data_option.resolve() if data_option is not None
                else Path(tempfile.mkdtemp(prefix="nuage-demo-")))
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    servers: list[Server] = []
    code = 0
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for name, (s3_port, console_port) in zip(REGIONS, ports, strict=True):
            region = Region(name, f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{console_port}/")
            servers.append(Server(region, data_dir / name, s3_port, console_port, data_dir / f"{name}.log"))
        registry = data_dir / "regions.json"
        write_registry(registry, servers)
        click.echo(_("Starting {first} and {second} in {folder} ...").format(
            first=REGIONS[0], second=REGIONS[1], folder=data_dir), err=True)
        for s in servers:
            start(s, registry)
        for s in servers:
            wait_healthy(s)
        state = State(data_dir / "demo.json")
        reused = state.ready
        if not reused:
            click.echo(_("Setting up the tenant, its user, the buckets, replication and the sample data ..."),
                       err=True)
            set_up(servers, state, data_dir / "sample")
        source = servers[0].region
        owner = state.key(source.name, "root")
        assert owner is not None
        lag = demo_setup.wait_replicated(source, owner)
        click.echo(banner(servers, state, data_dir, kept, reused, lag))
        code = _watch(servers, sys.stderr)
    except _Stop:
        click.echo(_("Stopping both regions ..."), err=True)
    except (OSError, ValueError, KeyError, BotoCoreError, ClientError) as exc:
        raise click.ClickException(_("the demo's set-up failed: {reason}").format(reason=exc)) from None
    finally:
        for sig in previous:   # a second Ctrl-C does not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        stop(servers)
        if not kept:
            shutil.rmtree(data_dir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code:
        raise SystemExit(code)
    click.echo(_("Stopped.") if kept else _("Stopped. {folder} removed.").format(folder=data_dir), err=True)
