"""Replication from a region of two gateways on PostgreSQL: a version written through the gateway that does
not ship (the other holds the replication lease) reaches the destination region all the same, with its
version id; the outbox is empty afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import PostgresCluster
from tests.support.regions import HANGZHOU, WEST, replicate, versioned_bucket, wait_for, write_registry
from tests.support.server import NuageServer, free_port


@pytest.fixture
def regions(pg: PostgresCluster, tmp_path: Path) -> Iterator[tuple[NuageServer, NuageServer, NuageServer]]:
    """(cn-hangzhou gateway A, cn-hangzhou gateway B, us-west-1): one database per region."""
    ports = {HANGZHOU: free_port(), WEST: free_port()}
    registry = tmp_path / "regions.json"
    write_registry(registry, ports, {WEST: [HANGZHOU]})
    hz_db, west_db = pg.create_database(), pg.create_database()
    args = ["--regions", str(registry)]
    a = NuageServer(tmp_path / "hz", port=ports[HANGZHOU], region=HANGZHOU, db=hz_db, extra_args=args).start()
    b = NuageServer(tmp_path / "hz", region=HANGZHOU, db=hz_db, extra_args=args).start()
    west = NuageServer(tmp_path / "west", port=ports[WEST], region=WEST, db=west_db, extra_args=args).start()
    yield a, b, west
    for srv in (a, b, west):
        srv.stop()


def shipper_pid(url: str) -> int | None:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                           "WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database() "
                           "AND a.application_name LIKE 'nuage-lease:replication:%'").fetchone()
    return int(row[0].rsplit(":", 1)[1]) if row else None


def test_rows_written_through_any_gateway_are_shipped(regions: tuple[NuageServer, NuageServer, NuageServer]) -> None:
    a, b, west = regions
    assert a.db is not None and a.proc is not None and b.proc is not None
    wait_for(lambda: shipper_pid(str(a.db)) is not None, timeout=10)
    idle = b if shipper_pid(str(a.db)) == a.proc.pid else a     # the gateway whose shipper waits
    source, dest = "pg-src", "pg-dst"
    versioned_bucket(idle.client(), source, HANGZHOU)
    versioned_bucket(west.client(), dest, WEST)
    replicate(idle.client(), source, dest)
    s3 = idle.client()
    versions = [s3.put_object(Bucket=source, Key=f"k{i}", Body=f"body {i}".encode())["VersionId"] for i in range(5)]
    west_s3 = west.client()

    def arrived() -> bool:
        listed = west_s3.list_object_versions(Bucket=dest).get("Versions", [])
        return sorted(v["VersionId"] for v in listed) == sorted(versions)

    wait_for(arrived, timeout=15)
    assert west_s3.get_object(Bucket=dest, Key="k3")["Body"].read() == b"body 3"
    with psycopg.connect(str(a.db)) as conn:
        wait_for(lambda: conn.execute("SELECT count(*) FROM repl_outbox").fetchone() == (0,), timeout=10)
    assert s3.head_object(Bucket=source, Key="k0")["ReplicationStatus"] == "COMPLETED"
