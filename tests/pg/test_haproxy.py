"""deploy/haproxy.cfg in front of 3 gateways on one PostgreSQL database and one data folder, with boto3
through haproxy: read-after-write across gateways, a multipart upload whose parts go through different
gateways, and kill -9 of a gateway leaves the cluster serving (its health checks fail: haproxy takes it
out). Debian's haproxy is required in CI (.ci/run installs it): without it these tests fail there."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.postgres import PostgresCluster
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, free_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
GATEWAY_HEADER = "x-nuage-gateway"   # added by the test's configuration: the gateway that answered


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("haproxy is required in CI: apt-get install haproxy")
        pytest.skip("no haproxy: apt-get install haproxy")
    return found


def configuration(ports: dict[str, int], gateways: dict[str, NuageServer],
                  source: Path = DEPLOY / "haproxy.cfg") -> str:
    """deploy/haproxy.cfg (or ``source``, a copy of it) for these ports: each frontend on
    127.0.0.1:ports[its name], one server line per gateway in each backend. The global section's system
    settings (syslog, chroot, user, stats socket, daemon) are left out: the test runs haproxy in the
    foreground, as whoever runs the tests."""
    out: list[str] = []
    section, done = "", set()
    for line in source.read_text().splitlines():
        words = line.split()
        if words[:1] in (["frontend"], ["backend"]):
            section = words[1]
        if words[:1] in (["log"], ["chroot"], ["user"], ["group"], ["daemon"]) or words[:2] == ["stats", "socket"]:
            continue
        if words[:1] == ["bind"]:
            line = f"\tbind 127.0.0.1:{ports[section]}"
        elif words[:1] == ["errorfile"]:
            line = f"\terrorfile {words[1]} {DEPLOY / Path(words[2]).name}"
        elif words[:1] == ["server"]:
            if section not in done:
                out.append(f"\thttp-response set-header {GATEWAY_HEADER} %[srv_name]")
                out += [f"\tserver {name} 127.0.0.1:{srv.console_port if section == 'console' else srv.port} check"
                        + (f" port {srv.port}" if "port" in words[3:] else "") for name, srv in gateways.items()]
                done.add(section)
            continue
        out.append(line)
    assert done == {"nuage", "console"}, f"server lines of {done} in deploy/haproxy.cfg"
    return "\n".join(out) + "\n"


class Haproxy:
    def __init__(self, binary: str, config: Path, port: int, console_port: int) -> None:
        self.port = port
        self.console_port = console_port
        self.log = config.with_suffix(".log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def cluster(pg: PostgresCluster, tmp_path: Path) -> Iterator[tuple[Haproxy, dict[str, NuageServer]]]:
    binary = haproxy_binary()
    url = pg.create_database()
    data = tmp_path / "data"
    gateways: dict[str, NuageServer] = {}
    try:
        for name in ("gw1", "gw2", "gw3"):   # the first alone: it makes the data folder's key files
            gateways[name] = NuageServer(data, db=url).start()
        ports = {"s3": free_port(), "console": free_port()}
        config = tmp_path / "haproxy.cfg"
        config.write_text(configuration(ports, gateways))
        checked = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        proxy = Haproxy(binary, config, ports["s3"], ports["console"])
        try:
            yield proxy, gateways
        finally:
            proxy.stop()
    finally:
        for srv in gateways.values():
            srv.stop()


def client(proxy: Haproxy) -> Any:
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{proxy.port}", aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def gateway(response: dict[str, Any]) -> str:
    return str(response["ResponseMetadata"]["HTTPHeaders"][GATEWAY_HEADER])


def wait_until_serving(s3: Any, names: set[str], timeout: float = 20.0) -> None:
    """Until haproxy's checks passed for every gateway named (requests reach each of them)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while seen != names:
        assert time.monotonic() < deadline, f"only {seen} of {names} served within {timeout} s"
        try:
            seen.add(gateway(s3.list_buckets()))
        except Exception:   # noqa: BLE001 - haproxy still starting, or no gateway up yet
            time.sleep(0.2)


def test_through_haproxy(cluster: tuple[Haproxy, dict[str, NuageServer]]) -> None:
    proxy, gateways = cluster
    s3 = client(proxy)
    wait_until_serving(s3, set(gateways))
    # the health endpoint is for haproxy, not for clients
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(f"http://127.0.0.1:{proxy.port}/_nuage/health", timeout=10)
    assert denied.value.code == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{proxy.console_port}/", timeout=10) as page:   # the console
        assert page.status == 200 and page.headers[GATEWAY_HEADER] in gateways

    s3.create_bucket(Bucket="cluster")
    pairs = set()
    for i in range(12):   # read-after-write: written through one gateway, read through the next
        body = f"object {i}".encode() * (1 + i * 400)
        put = s3.put_object(Bucket="cluster", Key=f"k{i}", Body=body)
        got = s3.get_object(Bucket="cluster", Key=f"k{i}")
        assert got["Body"].read() == body
        listed = s3.list_objects_v2(Bucket="cluster", Prefix=f"k{i}")
        assert [o["Key"] for o in listed["Contents"]] == [f"k{i}"]
        pairs.add((gateway(put), gateway(got), gateway(listed)))
    assert any(len(set(p)) == 3 for p in pairs), pairs   # each of the three steps on another gateway

    upload = s3.create_multipart_upload(Bucket="cluster", Key="big")
    parts, through = [], {gateway(upload)}
    chunks = [bytes([65 + n]) * (5 * 1024 * 1024) for n in range(3)] + [b"tail"]
    for number, chunk in enumerate(chunks, 1):
        part = s3.upload_part(Bucket="cluster", Key="big", UploadId=upload["UploadId"], PartNumber=number,
                              Body=chunk)
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
        through.add(gateway(part))
    done = s3.complete_multipart_upload(Bucket="cluster", Key="big", UploadId=upload["UploadId"],
                                        MultipartUpload={"Parts": parts})
    through.add(gateway(done))
    assert through == set(gateways), through
    assert s3.get_object(Bucket="cluster", Key="big")["Body"].read() == b"".join(chunks)

    # kill -9 of a gateway: requests keep succeeding, and haproxy stops sending it any
    gateways["gw2"].allow_faults = True
    gateways["gw2"].kill()
    killed = time.monotonic()
    served: list[tuple[float, str]] = []
    for i in range(40):
        body = f"after {i}".encode()
        put = s3.put_object(Bucket="cluster", Key=f"after/{i}", Body=body)
        got = s3.get_object(Bucket="cluster", Key=f"after/{i}")
        assert got["Body"].read() == body
        served += [(time.monotonic() - killed, gateway(put)), (time.monotonic() - killed, gateway(got))]
        time.sleep(0.1)
    assert {name for _, name in served} == {"gw1", "gw3"}, served
    assert s3.list_objects_v2(Bucket="cluster", Prefix="after/")["KeyCount"] == 40
    log = proxy.log.read_text(errors="replace")
    assert re.search(r"Server nuage/gw2 is DOWN", log), log


def test_an_early_error_closes_the_client_connection(cluster: tuple[Haproxy, dict[str, NuageServer]]) -> None:
    """A PUT sent with ``Expect: 100-continue`` (boto3 sends one with every PutObject and UploadPart) that a
    gateway refuses before its body (no such bucket, access denied): the client then never sends that body.
    haproxy drops the gateway's ``Connection: close`` and would wait on the client's connection for the
    body, reading the client's next request as it (an HTML 400, a ClientError with no code): its
    configuration closes that connection instead."""
    proxy, gateways = cluster
    s3 = client(proxy)
    wait_until_serving(s3, set(gateways))
    s3.create_bucket(Bucket="early")
    for n in range(3):   # one connection of the client's pool; each time through another gateway
        with pytest.raises(s3.exceptions.NoSuchBucket):
            s3.put_object(Bucket="early-missing", Key="k", Body=io.BytesIO(b"body"))
        s3.put_object(Bucket="early", Key=f"k{n}", Body=io.BytesIO(b"body"))   # the same connection's next
    s3.put_bucket_policy(Bucket="early", Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::early/denied"}]}))
    time.sleep(1.5)   # every gateway sees the policy (bucket configuration: within 1 second)
    for n in range(3):
        with pytest.raises(ClientError) as denied:
            s3.put_object(Bucket="early", Key="denied", Body=io.BytesIO(b"body"))
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        assert s3.get_object(Bucket="early", Key=f"k{n}")["Body"].read() == b"body"
