"""Registries that differ between regions, and a broken registry file at start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.regions import (
    HANGZHOU,
    WEST,
    replicate,
    start_regions,
    versioned_bucket,
    wait_for,
    write_registry,
)
from tests.support.server import NuageServer, free_port


def test_a_registry_mismatch_holds_replication_until_mended(tmp_path: Path) -> None:
    ports = {HANGZHOU: free_port(), WEST: free_port()}
    good, stale = tmp_path / "regions.json", tmp_path / "regions-stale.json"
    accept = {WEST: [HANGZHOU]}
    write_registry(good, ports, accept)
    doc = json.loads(good.read_text())
    doc["regions"][0]["secret_key"] = "an-old-secret"          # us-west-1's copy has hangzhou's old key
    stale.write_text(json.dumps(doc))
    hz = NuageServer(tmp_path / HANGZHOU, port=ports[HANGZHOU], region=HANGZHOU, extra_args=["--regions", str(good)])
    west = NuageServer(tmp_path / WEST, port=ports[WEST], region=WEST, extra_args=["--regions", str(good)])
    hz.start()
    west.start()
    try:
        s3, w3 = hz.client(), west.client()
        versioned_bucket(s3, "src", HANGZHOU)
        versioned_bucket(w3, "dst", WEST)
        replicate(s3, "src", "dst")
        west.stop()
        west.extra_args = ["--regions", str(stale)]
        west.start()
        vid = s3.put_object(Bucket="src", Key="k", Body=b"waits")["VersionId"]
        wait_for(lambda: "SignatureDoesNotMatch" in json.dumps(_status(hz)), timeout=20)
        assert s3.head_object(Bucket="src", Key="k")["ReplicationStatus"] == "PENDING"
        west.stop()                                             # mended: the same registry on both sides
        west.extra_args = ["--regions", str(good)]
        west.start()
        w3 = west.client()
        wait_for(lambda: s3.head_object(Bucket="src", Key="k")["ReplicationStatus"] == "COMPLETED", timeout=30)
        assert w3.get_object(Bucket="dst", Key="k", VersionId=vid)["Body"].read() == b"waits"
    finally:
        hz.stop()
        west.stop()


def _status(server: NuageServer) -> object:
    from nuage.cli.admin import AdminClient
    from tests.support.server import ACCESS_KEY, SECRET_KEY
    return AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY, region=server.region).call("GET", "/admin/replication")


def test_a_rule_removed_before_shipping_keeps_the_version_home(tmp_path: Path) -> None:
    regions = start_regions(tmp_path, {WEST: [HANGZHOU]})
    try:
        s3, w3 = regions[HANGZHOU].client(), regions[WEST].client()
        versioned_bucket(s3, "src", HANGZHOU)
        versioned_bucket(w3, "dst", WEST)
        replicate(s3, "src", "dst")
        regions[WEST].stop()
        s3.put_object(Bucket="src", Key="k", Body=b"written under the rule")
        assert s3.head_object(Bucket="src", Key="k")["ReplicationStatus"] == "PENDING"
        s3.delete_bucket_replication(Bucket="src")           # the rule goes before the version could
        regions[WEST].start()
        w3 = regions[WEST].client()
        wait_for(lambda: s3.head_object(Bucket="src", Key="k")["ReplicationStatus"] == "FAILED", timeout=30)
        assert "Contents" not in w3.list_objects_v2(Bucket="dst")
    finally:
        regions.stop()


def test_a_broken_registry_stops_serve_with_a_message(tmp_path: Path) -> None:
    registry = tmp_path / "regions.json"
    registry.write_text(json.dumps({"regions": [{"name": "us-west-1", "endpoint": "http://127.0.0.1:1"}]}))
    done = subprocess.run([sys.executable, "-m", "nuage.cli.main", "serve", "--port", str(free_port()), "--data",
                           str(tmp_path / "d"), "--region", WEST, "--regions", str(registry),
                           "--console-port", "0"],   # the S3 port + 1 may be taken
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "lacks access_key" in done.stderr
    assert "Traceback" not in done.stderr
