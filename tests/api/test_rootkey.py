"""First start without NUAGE_ROOT_* creates a root key in the data folder, prints the endpoint, the keys and
a ready-to-paste `aws --endpoint-url ... s3 ls` line; a restart reuses the key; the environment overrides it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import boto3
from botocore.config import Config

from tests.support.server import NuageServer


def wait_for(pattern: str, srv: NuageServer, timeout: float = 10) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, srv.log())
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not in output:\n{srv.log()}")


def client(srv: NuageServer, access: str, secret: str) -> object:
    c = boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=access, aws_secret_access_key=secret,
                     region_name=srv.region, config=Config(s3={"addressing_style": "path"},
                                                           retries={"max_attempts": 1}))
    srv.clients.append(c)
    return c


def test_first_start_creates_and_prints_root_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data, root_keys_from_env=False).start()
    try:
        line = wait_for(r"aws --endpoint-url (\S+) s3 ls", srv)
        assert line.group(1) == srv.endpoint
        assert srv.endpoint in srv.log()
        saved = json.loads(next(p for p in data.iterdir() if "cred" in p.name).read_text())
        access, secret = saved["access_key"], saved["secret_key"]
        assert access in srv.log() and secret in srv.log()
        assert (next(p for p in data.iterdir() if "cred" in p.name).stat().st_mode & 0o077) == 0
        c = client(srv, access, secret)
        c.create_bucket(Bucket="first")  # type: ignore[attr-defined]
    finally:
        assert srv.stop() == 0

    again = NuageServer(data, root_keys_from_env=False).start()
    try:
        wait_for(r"s3 ls", again)
        assert access in again.log()
        c = client(again, access, secret)
        assert [b["Name"] for b in c.list_buckets()["Buckets"]] == ["first"]  # type: ignore[attr-defined]
    finally:
        assert again.stop() == 0


def test_environment_overrides_root_key(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data, root_keys_from_env=False).start()
    wait_for(r"s3 ls", srv)
    assert srv.stop() == 0
    env_srv = NuageServer(data, env={"NUAGE_ROOT_ACCESS_KEY": "ENVROOTKEY0000000001",
                                     "NUAGE_ROOT_SECRET_KEY": "env-root-secret-000000000000000000000001"}).start()
    try:
        wait_for(r"s3 ls", env_srv)
        c = client(env_srv, "ENVROOTKEY0000000001", "env-root-secret-000000000000000000000001")
        c.list_buckets()  # type: ignore[attr-defined]
        assert "ENVROOTKEY0000000001" in env_srv.log()
    finally:
        assert env_srv.stop() == 0
