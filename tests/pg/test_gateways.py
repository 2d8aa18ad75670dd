"""Three gateways on one PostgreSQL database and one blob folder, requests spread round-robin: what one
acknowledged, the others read, list and delete at once; of writers racing on the three gateways with
If-None-Match: * exactly one wins; a multipart upload takes its parts through different gateways and
completes on a third; quotas stay exact across them; bucket configuration set through one applies on
another within a second; migrations run once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
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


def test_migrations_applied_once(three: list[NuageServer]) -> None:
    a = three[0]
    assert a.db is not None
    with psycopg.connect(a.db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [number for number, _, _ in migration_files()]


def test_read_after_write_across_gateways(three: list[NuageServer]) -> None:
    """Round-robin over three gateways: each object is written through one, read and listed through the
    next, deleted through the third, and its absence seen at once through the first again."""
    clients = [g.client() for g in three]
    sa, sb = clients[0], clients[1]
    bucket = unique_bucket_name("ab")
    sa.create_bucket(Bucket=bucket)
    for c in clients:
        c.head_bucket(Bucket=bucket)
    for i in range(30):
        writer, reader, deleter = (clients[(i + n) % 3] for n in range(3))
        body = f"object {i}".encode() * (1 + i * 500)   # small ones in the row, larger ones in files
        writer.put_object(Bucket=bucket, Key=f"k/{i}", Body=body)
        assert reader.get_object(Bucket=bucket, Key=f"k/{i}")["Body"].read() == body
        listed = deleter.list_objects_v2(Bucket=bucket, Prefix=f"k/{i}")
        assert f"k/{i}" in [o["Key"] for o in listed.get("Contents", [])]
        deleter.delete_object(Bucket=bucket, Key=f"k/{i}")
        assert _status(lambda i=i, c=writer: c.head_object(Bucket=bucket, Key=f"k/{i}")) == 404
        assert _status(lambda i=i, c=reader: c.get_object(Bucket=bucket, Key=f"k/{i}")) == 404
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
    # a bucket's deletion, like its configuration, reaches the other gateways within the documented second
    deleted = time.monotonic()
    while _status(lambda: sa.head_bucket(Bucket=bucket)) != 404:
        assert time.monotonic() - deleted < 1.0, "the deleted bucket still answers on another gateway after 1 s"
        time.sleep(0.01)


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


def test_multipart_across_gateways(three: list[NuageServer]) -> None:
    """Created on A, parts through B and A (one of them sent again through C, which replaces it), listed
    on C, completed on C; every gateway reads the whole object."""
    sa, sb, sc = (g.client() for g in three)
    bucket = unique_bucket_name("mp")
    sa.create_bucket(Bucket=bucket)
    upload = sa.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    one, two = b"1" * (5 * 1024 * 1024), b"2" * 1000
    sb.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"0" * (5 * 1024 * 1024))
    e1 = sc.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=one)["ETag"]
    e2 = sa.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=two)["ETag"]
    parts = sc.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, e1), (2, e2)]
    sc.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    for client in (sa, sb, sc):
        assert client.get_object(Bucket=bucket, Key="big")["Body"].read() == one + two
    assert not sb.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_quota_exact_under_writers_on_three_gateways(three: list[NuageServer]) -> None:
    """An object quota and a byte quota, each hit by 12 writers spread round-robin over three gateways:
    exactly the quota's worth is accepted, the rest refused, and what is stored is exactly that."""
    clients = [g.client(max_pool_connections=12) for g in three]
    admin = AdminClient(three[0].endpoint, ACCESS_KEY, SECRET_KEY)
    by_count, by_bytes = unique_bucket_name("quota"), unique_bucket_name("quotab")
    clients[0].create_bucket(Bucket=by_count)
    clients[0].create_bucket(Bucket=by_bytes)
    admin.call("PUT", "/admin/quotas", {"bucket": by_count, "max_objects": 10, "max_bytes": None})
    admin.call("PUT", "/admin/quotas", {"bucket": by_bytes, "max_objects": None, "max_bytes": 10 * 1000})

    def put(bucket: str, i: int, size: int) -> int:
        client = clients[i % 3]
        return _status(lambda: client.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x" * size))

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: put(by_count, i, 1), range(45)))
        sizes = list(pool.map(lambda i: put(by_bytes, i, 1000), range(45)))
    assert results.count(200) == 10 and results.count(403) == 35, results
    assert sizes.count(200) == 10 and sizes.count(403) == 35, sizes
    for client in clients:
        assert client.list_objects_v2(Bucket=by_count)["KeyCount"] == 10
        listed = client.list_objects_v2(Bucket=by_bytes)
        assert sum(o["Size"] for o in listed["Contents"]) == 10 * 1000


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
        three: list[NuageServer]) -> None:
    a, b = three[0], three[1]
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
