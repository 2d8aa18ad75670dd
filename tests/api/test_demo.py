"""`nuage demo` (issue 17): one command starts two regions with a tenant, a user, replicated buckets and
sample data, and prints how to use them. The tests start it as a user would, use only what it prints (the
endpoints, the keys, the `nuage query` and `aws` commands, run as printed), and stop it with Ctrl-C."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from nuage.cli import demo_data
from tests.support.console import ConsoleClient
from tests.support.server import children, listens

#: The demo's regions run on SQLite whatever the environment says (an embedded demo on a laptop): the
#: suite's PostgreSQL run would only run the same thing again.
pytestmark = pytest.mark.skipif(os.environ.get("NUAGE_TEST_DB") == "postgresql",
                                reason="nuage demo runs embedded regions (SQLite) by design")

BIN = Path(sys.executable).parent
READY = "Ctrl-C stops both regions."


@dataclass
class Printout:
    text: str
    endpoints: dict[str, str]           # region -> S3 endpoint
    consoles: dict[str, str]            # region -> console URL
    keys: dict[str, tuple[str, str]]    # region -> (access key, secret key)
    query_command: str
    aws_command: str
    data_dir: Path


def parse(text: str) -> Printout:
    endpoints, consoles, keys = {}, {}, {}
    for m in re.finditer(r"^  ([a-z0-9-]+) +(http://127\.0\.0\.1:\d+) +(http://127\.0\.0\.1:\d+/)$", text, re.M):
        endpoints[m[1]], consoles[m[1]] = m[2], m[3]
    for m in re.finditer(r"^  ([a-z0-9-]+) +access key (\S+)  secret key (\S+)$", text, re.M):
        keys[m[1]] = (m[2], m[3])
    query = re.search(r"^  (AWS_ACCESS_KEY_ID=.* nuage query .*)$", text, re.M)
    aws = re.search(r"^  (AWS_ACCESS_KEY_ID=.* aws .*)$", text, re.M)
    data = re.search(r"\((?:kept )?in (/\S+?)[,)]", text)
    assert query and aws and data, text
    return Printout(text, endpoints, consoles, keys, query[1], aws[1], Path(data[1]))


def shell_env(home: Path) -> dict[str, str]:
    """A user's shell: this checkout's `nuage` and `aws` first on the PATH, no AWS profile of the machine."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL")}
    return {**keep, "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
            "TMPDIR": str(home), "AWS_CONFIG_FILE": str(home / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"), "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "", "NO_PROXY": "127.0.0.1", "PYTHONWARNINGS": "ignore"}


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def printout(self, timeout: float = 180) -> Printout:
        deadline = time.monotonic() + timeout
        while READY not in self.out.read_text():
            assert self.proc.poll() is None, f"exit {self.proc.returncode}: {self.logs()}"
            assert time.monotonic() < deadline, f"no printout after {timeout} s: {self.logs()}"
            time.sleep(0.2)
        return parse(self.out.read_text())

    def logs(self) -> str:
        return f"--- stdout\n{self.out.read_text()}\n--- stderr\n{self.err.read_text()[-4000:]}"

    def interrupt(self, timeout: float = 15, sig: signal.Signals = signal.SIGINT) -> float:
        """Ctrl-C (or ``sig``); the seconds the demo took to exit (it must exit 0)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout=timeout)
        took = time.monotonic() - start
        assert self.proc.returncode == 0, self.logs()
        return took


@contextlib.contextmanager
def run_demo(home: Path, *args: str, name: str = "demo") -> Iterator[Demo]:
    home.mkdir(parents=True, exist_ok=True)
    out, err = home / f"{name}.out", home / f"{name}.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([str(BIN / "nuage"), "demo", *args], stdout=o, stderr=e, env=shell_env(home),
                                cwd=home)
    demo = Demo(proc, out, err)
    try:
        yield demo
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def s3(p: Printout, region: str) -> Any:
    access, secret = p.keys[region]
    return boto3.client("s3", endpoint_url=p.endpoints[region], region_name=region, aws_access_key_id=access,
                        aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def table_rows(text: str) -> list[list[str]]:
    """The header and the rows of a table `nuage query` printed (rich's box characters)."""
    return [[c.strip() for c in line.strip()[1:-1].split(line[0])] for line in text.splitlines()
            if line[:1] in ("┃", "│")]


def test_demo_starts_two_regions_answers_the_printed_query_replicates_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with run_demo(tmp_path / "home", "--port", "0") as demo:
        p = demo.printout()
        report = demo.logs()
        assert set(p.endpoints) == set(p.consoles) == set(p.keys) == {"cn-hangzhou", "us-west-1"}, report
        assert p.data_dir.is_dir() and str(p.data_dir).startswith(str(tmp_path)), report   # $TMPDIR
        servers = children(demo.proc.pid)
        assert len(servers) == 2, (servers, report)
        ports = [int(url.rsplit(":", 1)[1].rstrip("/")) for url in [*p.endpoints.values(), *p.consoles.values()]]
        assert len(set(ports)) == 4
        for port in ports:
            assert any(listens(pid, port) for pid in servers), (port, report)

        # the SQL query, run exactly as printed: revenue and orders per country of the generated data
        run = subprocess.run(["bash", "-c", p.query_command], capture_output=True, text=True,
                             env=shell_env(tmp_path / "home"), timeout=120)
        assert run.returncode == 0, (run.stdout, run.stderr, report)
        rows = table_rows(run.stdout)
        assert rows[0] == ["country", "revenue", "orders"], run.stdout
        orders = demo_data.orders()
        expected = demo_data.revenue_per_country(orders)
        counts = {c: sum(1 for o in orders if o.country == c) for c in expected}
        got = {r[0]: (Decimal(r[1]), int(r[2])) for r in rows[1:]}
        assert got == {c: (expected[c], counts[c]) for c in expected}, run.stdout
        assert [r[0] for r in rows[1:]] == sorted(expected, key=lambda c: -expected[c])   # ORDER BY revenue DESC

        # the data reached us-west-1: read with the printed us-west-1 key, from the printed endpoint
        west = s3(p, "us-west-1")
        sample = tmp_path / "sample"
        files = demo_data.write_all(sample)
        for key, name in (("orders/orders.csv", "orders.csv"), ("orders/orders.parquet", "orders.parquet")):
            got_obj = west.get_object(Bucket="shop-orders-replica", Key=key)
            assert got_obj["ReplicationStatus"] == "REPLICA"
            assert hashlib.sha256(got_obj["Body"].read()).digest() == hashlib.sha256(files[name].read_bytes()).digest()
        east = s3(p, "cn-hangzhou")
        head = east.head_object(Bucket="shop-orders", Key="orders/orders.csv")
        assert head["ReplicationStatus"] == "COMPLETED"
        # the catalog is outside the replicated prefix: it stays home
        assert east.head_object(Bucket="shop-orders", Key="catalog/products.json")["ContentLength"] > 0
        listed = west.list_objects_v2(Bucket="shop-orders-replica")
        assert sorted(o["Key"] for o in listed["Contents"]) == ["orders/orders.csv", "orders/orders.parquet"]

        # the aws command, as printed
        run = subprocess.run(["bash", "-c", p.aws_command], capture_output=True, text=True,
                             env=shell_env(tmp_path / "home"), timeout=120)
        assert run.returncode == 0, (run.stdout, run.stderr)
        assert "orders/orders.csv" in run.stdout and "orders/orders.parquet" in run.stdout, run.stdout

        # both consoles answer, and take the printed key of their region: the user sees its bucket there
        for region, bucket in (("cn-hangzhou", "shop-orders"), ("us-west-1", "shop-orders-replica")):
            console = ConsoleClient(p.consoles[region].rstrip("/"))
            signed_in = console.sign_in(*p.keys[region])
            assert signed_in.status in (302, 303), (region, signed_in.status, signed_in.text[:500])
            page = console.get(signed_in.location if signed_in.location.startswith("/") else "/")
            assert page.status == 200 and bucket in page.text, (region, page.status, page.text[:2000])

        took = demo.interrupt()
        assert took < 15, took
        assert not any(alive(pid) for pid in servers), servers
        assert not p.data_dir.exists()
        for port in ports:
            with socket.socket() as sock:   # the ports are free again
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
        assert "Traceback" not in demo.err.read_text()


def test_demo_data_folder_is_kept_and_reused_without_a_second_set_up(tmp_path: Path) -> None:
    data = tmp_path / "kept"
    with run_demo(tmp_path / "home", "--port", "0", "--data", str(data), name="first") as demo:
        first = demo.printout()
        assert first.data_dir == data.resolve(), first.text
        assert "kept in" in first.text and "reused" not in first.text
        demo.interrupt()
    assert (data / "demo.json").is_file() and (data / "cn-hangzhou").is_dir() and (data / "us-west-1").is_dir()
    assert (data / "demo.json").stat().st_mode & 0o077 == 0

    with run_demo(tmp_path / "home", "--port", "0", "--data", str(data), name="second") as demo:
        second = demo.printout()
        assert "reused" in second.text, second.text
        assert second.keys == first.keys             # the same user, the same keys: nothing was made twice
        east, west = s3(second, "cn-hangzhou"), s3(second, "us-west-1")
        versions = east.list_object_versions(Bucket="shop-orders")["Versions"]
        assert sorted(v["Key"] for v in versions) == ["catalog/products.json", "orders/orders.csv",
                                                      "orders/orders.parquet"]   # one version of each
        replicas = west.list_object_versions(Bucket="shop-orders-replica")["Versions"]
        assert sorted(v["Key"] for v in replicas) == ["orders/orders.csv", "orders/orders.parquet"]
        # replication still runs between the regions on their new ports
        east.put_object(Bucket="shop-orders", Key="orders/late.csv", Body=b"order_id\n1\n")
        deadline = time.monotonic() + 30
        while True:
            status = east.head_object(Bucket="shop-orders", Key="orders/late.csv").get("ReplicationStatus")
            if status == "COMPLETED" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == "COMPLETED"
        late = west.get_object(Bucket="shop-orders-replica", Key="orders/late.csv")
        assert late["Body"].read() == b"order_id\n1\n"
        servers = children(demo.proc.pid)
        assert len(servers) == 2
        demo.interrupt(sig=signal.SIGTERM)   # SIGTERM stops it as Ctrl-C does
        assert not any(alive(pid) for pid in servers)
    assert (data / "demo.json").is_file()


def test_ctrl_c_during_the_set_up_stops_both_regions(tmp_path: Path) -> None:
    with run_demo(tmp_path / "home", "--port", "0") as demo:
        deadline = time.monotonic() + 120
        while "Setting up" not in demo.err.read_text():
            assert demo.proc.poll() is None and time.monotonic() < deadline, demo.logs()
            time.sleep(0.05)
        servers = children(demo.proc.pid)
        assert len(servers) == 2, demo.logs()
        demo.interrupt()
        assert not any(alive(pid) for pid in servers)
        assert not list((tmp_path / "home").glob("nuage-demo-*"))   # the temporary data folder is removed
        assert "Traceback" not in demo.err.read_text(), demo.logs()


def test_demo_on_a_port_in_use_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([str(BIN / "nuage"), "demo", "--port", str(port)], capture_output=True, text=True,
                             env=shell_env(tmp_path), timeout=60)
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert run.stderr.strip().splitlines() == [
        f"Error: port {port} (the S3 endpoint of cn-hangzhou) is in use: give another --port, or --port 0 for "
        "free ports"], run.stderr
    assert not list(tmp_path.glob("nuage-demo-*"))   # nothing made
