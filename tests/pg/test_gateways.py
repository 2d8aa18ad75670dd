"""Two gateways on one PostgreSQL database and one blob folder: what one acknowledged, the other reads,
lists and deletes at once; of writers racing on the two gateways with If-None-Match: * exactly one wins;
a multipart upload takes its parts through both; quotas hold across them; a bucket policy set through one
applies on the other at once; migrations run once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from nuage.cli.admin import AdminClient
from nuage.cli.main import main
from nuage.storage.meta.postgres.db import migration_files
from tests.conftest import unique_bucket_name
from tests.support import rawhttp
from tests.support.postgres import PostgresCluster
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, free_port

RACES = 1000


def _status(call: Any) -> int:
    try:
        call()
    except ClientError as exc:
        return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
    return 200


def test_migrations_applied_once(gateways: tuple[NuageServer, NuageServer]) -> None:
    a, _ = gateways
    assert a.db is not None
    with psycopg.connect(a.db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [number for number, _, _ in migration_files()]


def test_read_after_write_across_gateways(gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    sa, sb = a.client(), b.client()
    bucket = unique_bucket_name("ab")
    sa.create_bucket(Bucket=bucket)
    sb.head_bucket(Bucket=bucket)
    for i in range(20):
        body = f"object {i}".encode() * (1 + i * 500)   # small ones in the row, larger ones in files
        sa.put_object(Bucket=bucket, Key=f"k/{i}", Body=body)
        assert sb.get_object(Bucket=bucket, Key=f"k/{i}")["Body"].read() == body
        listed = sb.list_objects_v2(Bucket=bucket, Prefix=f"k/{i}")
        assert f"k/{i}" in [o["Key"] for o in listed.get("Contents", [])]
        sb.delete_object(Bucket=bucket, Key=f"k/{i}")
        assert _status(lambda i=i: sa.head_object(Bucket=bucket, Key=f"k/{i}")) == 404
    sb.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # bucket configuration reaches the other gateway within a second (the test below); objects at once
    deadline = time.monotonic() + 1.0
    while sa.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    version = sa.put_object(Bucket=bucket, Key="v", Body=b"versioned")["VersionId"]
    assert sb.get_object(Bucket=bucket, Key="v", VersionId=version)["Body"].read() == b"versioned"
    sa.delete_object(Bucket=bucket, Key="v", VersionId=version)
    sb.delete_bucket(Bucket=bucket)
    assert _status(lambda: sa.head_bucket(Bucket=bucket)) == 404


@pytest.fixture(scope="module")
def three(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NuageServer]]:
    """Three gateways on one database and one data folder (started one after the other)."""
    url = pg.create_database()
    data = tmp_path_factory.mktemp("three") / "data"
    servers = [NuageServer(data, db=url).start() for _ in range(3)]
    yield servers
    codes = [s.stop() for s in servers]
    assert codes == [0, 0, 0], "".join(s.log() for s in servers)


def test_racing_if_none_match_one_winner(three: list[NuageServer]) -> None:
    """RACES keys, each written at the same moment through the three gateways with If-None-Match: *: exactly
    one 200 and two 412 each, and every gateway then reads the winner's bytes."""
    clients = [g.client(max_pool_connections=4) for g in three]
    bucket = unique_bucket_name("race")
    clients[0].create_bucket(Bucket=bucket)
    winners: dict[str, bytes] = {}
    with ThreadPoolExecutor(len(clients)) as pool:
        for i in range(RACES):
            key = f"race-{i}"
            start = threading.Barrier(len(clients))

            def put(client: Any, body: bytes, key: str = key, start: threading.Barrier = start) -> int:
                start.wait()
                return _status(lambda: client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*"))

            bodies = [f"{key} from {n}".encode() for n in range(len(clients))]
            results = list(pool.map(put, clients, bodies))
            assert sorted(results) == [200, 412, 412], (key, results)
            winners[key] = bodies[results.index(200)]
    for i, (key, winner) in enumerate(winners.items()):
        reader = clients[i % len(clients)]
        assert reader.get_object(Bucket=bucket, Key=key)["Body"].read() == winner, key


def test_multipart_across_gateways(gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    sa, sb = a.client(), b.client()
    bucket = unique_bucket_name("mp")
    sa.create_bucket(Bucket=bucket)
    upload = sa.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    one, two = b"1" * (5 * 1024 * 1024), b"2" * 1000
    e1 = sb.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=one)["ETag"]
    e2 = sa.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=two)["ETag"]
    sb.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert sa.get_object(Bucket=bucket, Key="big")["Body"].read() == one + two


def test_quota_exact_under_writers_on_both_gateways(gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    sa, sb = a.client(max_pool_connections=8), b.client(max_pool_connections=8)
    bucket = unique_bucket_name("quota")
    sa.create_bucket(Bucket=bucket)
    AdminClient(a.endpoint, ACCESS_KEY, SECRET_KEY).call(
        "PUT", "/admin/quotas", {"bucket": bucket, "max_objects": 10, "max_bytes": None})

    def put(i: int) -> int:
        client = sa if i % 2 else sb
        return _status(lambda: client.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x"))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(put, range(30)))
    assert results.count(200) == 10 and results.count(403) == 20
    assert sb.list_objects_v2(Bucket=bucket)["KeyCount"] == 10


def test_db_commands(pg: PostgresCluster, tmp_path: Path) -> None:
    url = pg.create_database()
    runner = CliRunner()
    checked = runner.invoke(main, ["db", "check", "--db", url])
    assert checked.exit_code == 1 and "schema version 0" in checked.output
    assert "missing migrations: 0001_initial.sql" in checked.output
    # operators (and gateways) migrating at once: each file once
    procs = [subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "db", "migrate", "--db", url],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [p.communicate(timeout=60)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    applied = [line for out in outputs for line in out.splitlines() if line.startswith("applied")]
    files = migration_files()
    assert len(applied) == len(files) and len(set(applied)) == len(files)
    checked = runner.invoke(main, ["db", "check", "--db", url])
    assert checked.exit_code == 0 and f"schema version {files[-1][0]}" in checked.output
    assert "up to date" in checked.output
    refused = runner.invoke(main, ["db", "check", "--db", "mysql://x@localhost/db"])
    assert refused.exit_code == 2
    unreachable = runner.invoke(main, ["db", "check", "--db", "postgresql://nobody:hunter2@127.0.0.1:1/x"])
    assert unreachable.exit_code == 1 and "cannot reach the database" in unreachable.output
    assert "hunter2" not in unreachable.output
    assert runner.invoke(main, ["db", "migrate", "--data", str(tmp_path / "d")]).exit_code == 0   # SQLite
    assert runner.invoke(main, ["db", "check", "--data", str(tmp_path / "d")]).output.endswith("up to date\n")


def test_bucket_configuration_applies_on_the_other_gateway_within_a_second(
        gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    sa, sb = a.client(), b.client()
    bucket = unique_bucket_name("cfg")
    sa.create_bucket(Bucket=bucket)
    sa.put_object(Bucket=bucket, Key="public", Body=b"for everyone")
    for _ in range(3):   # both gateways have the bucket and its (missing) policy cached now
        assert rawhttp_get(a, f"/{bucket}/public") == 403 and rawhttp_get(b, f"/{bucket}/public") == 403
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    for writer, reader, change, expected in (
            (sa, b, lambda c: c.put_bucket_policy(Bucket=bucket, Policy=policy), 200),
            (sb, a, lambda c: c.delete_bucket_policy(Bucket=bucket), 403)):
        change(writer)
        changed = time.monotonic()
        while rawhttp_get(reader, f"/{bucket}/public") != expected:
            assert time.monotonic() - changed < 1.0, "the change did not reach the other gateway within 1 s"
            time.sleep(0.01)
    sa.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    changed = time.monotonic()
    while sb.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        assert time.monotonic() - changed < 1.0
        time.sleep(0.01)
    assert "VersionId" in sb.put_object(Bucket=bucket, Key="v", Body=b"x")
    listed = sb.list_object_versions(Bucket=bucket)
    for version in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
        sb.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    sb.delete_bucket(Bucket=bucket)
    changed = time.monotonic()
    while _status(lambda: sa.head_bucket(Bucket=bucket)) != 404:
        assert time.monotonic() - changed < 1.0
        time.sleep(0.01)


def rawhttp_get(server: NuageServer, path: str) -> int:
    return rawhttp.request(server, "GET", path, signed=False).status


def test_serve_without_its_database_says_so(tmp_path: Path) -> None:
    url = "postgresql://nuage:hunter2@127.0.0.1:1/nuage"   # nothing listens there
    done = subprocess.run([sys.executable, "-m", "nuage.cli.main", "serve", "--port", str(free_port()),
                           "--console-port", "0",   # the S3 port + 1 may be taken
                           "--data", str(tmp_path / "data"), "--db", url], capture_output=True, timeout=60)
    output = (done.stdout + done.stderr).decode()
    assert done.returncode == 1 and "Error: cannot reach the database" in output, output
    assert "Traceback" not in output and "hunter2" not in output
