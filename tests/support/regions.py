"""Two (or more) real `nuage serve` regions on loopback sharing one region registry file."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.server import NuageServer, free_port

WEST, HANGZHOU = "us-west-1", "cn-hangzhou"


@dataclass
class Regions:
    servers: dict[str, NuageServer]
    registry: Path

    def __getitem__(self, name: str) -> NuageServer:
        return self.servers[name]

    def stop(self) -> None:
        for server in self.servers.values():
            if server.proc is not None and server.proc.poll() is None:
                server.stop()


def write_registry(path: Path, ports: dict[str, int], accept: dict[str, list[str]]) -> None:
    regions = [{"name": name, "endpoint": f"http://127.0.0.1:{port}",
                "access_key": f"REPL{name.upper().replace('-', '')}KEY"[:20],
                "secret_key": f"replication-secret-of-{name}", "accept_from": accept.get(name, [])}
               for name, port in ports.items()]
    path.write_text(json.dumps({"regions": regions}))


def start_regions(tmp: Path, accept: dict[str, list[str]], names: tuple[str, ...] = (HANGZHOU, WEST),
                  env: dict[str, str] | None = None) -> Regions:
    ports = {name: free_port() for name in names}
    registry = tmp / "regions.json"
    write_registry(registry, ports, accept)
    servers = {name: NuageServer(tmp / name, port=ports[name], region=name, env=dict(env or {}),
                                 extra_args=["--regions", str(registry)]) for name in names}
    for server in servers.values():
        server.start()
    return Regions(servers, registry)


def versioned_bucket(client: Any, name: str, region: str) -> None:
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def replicate(client: Any, source: str, dest: str, *, prefix: str = "", delete_markers: bool = True,
              rule_id: str = "all") -> None:
    client.put_bucket_replication(Bucket=source, ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/replication",
        "Rules": [{"ID": rule_id, "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": prefix},
                   "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{dest}"}}]})


def wait_for(check: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(interval)


def all_versions(client: Any, bucket: str) -> list[tuple[str, str, bool, str]]:
    """(key, version id, is delete marker, etag) of every version, in listing order."""
    out: list[tuple[str, str, bool, str]] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        out += [(v["Key"], v["VersionId"], False, v["ETag"]) for v in page.get("Versions", [])]
        out += [(m["Key"], m["VersionId"], True, "") for m in page.get("DeleteMarkers", [])]
    return sorted(out)
