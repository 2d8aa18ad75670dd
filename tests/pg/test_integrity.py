"""Bit rot on PostgreSQL: damaged bytes (in a blob file, or kept in the object's row) are never served, the
read quarantines the version (its evidence row in PostgreSQL), and `nuage scrub` with NUAGE_DB finds the
damage no read has touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique_bucket_name
from tests.support.postgres import PostgresCluster
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


@pytest.fixture(scope="module")
def server(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("pg-rot") / "data", db=pg.create_database()).start()
    yield srv
    assert srv.stop() == 0, srv.log()


def _row(url: str, bucket: str, key: str) -> tuple[int, str | None]:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT seq, segments FROM objects WHERE bucket=%s AND key=%s AND is_latest=1",
                           (bucket, key)).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def _flip_file(server: NuageServer, bucket: str, key: str) -> str:
    assert server.db is not None
    _, segments = _row(server.db, bucket, key)
    assert segments is not None
    blob = str(json.loads(segments)[-1][0])
    path = server.data_dir / "blobs" / blob[:2] / blob[2:4] / blob
    with open(path, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)[0]
        f.seek(1000)
        f.write(bytes([byte ^ 0x10]))
    return blob


def _flip_row(server: NuageServer, bucket: str, key: str) -> int:
    assert server.db is not None
    seq, segments = _row(server.db, bucket, key)
    assert segments is None   # the bytes are in the row
    with psycopg.connect(server.db) as conn:
        conn.execute("UPDATE objects SET inline_data = overlay(inline_data PLACING "
                     "decode(lpad(to_hex(get_byte(inline_data, 5) # 16), 2, '0'), 'hex') FROM 6 FOR 1) "
                     "WHERE seq=%s", (seq,))
    return seq


def _refused(s3: Any, bucket: str, key: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert exc.value.response["Error"]["Code"] == "InvalidObjectState"


def test_damage_is_refused_quarantined_and_scrubbed(server: NuageServer) -> None:
    assert server.db is not None
    s3 = server.client(checksum="when_required")
    bucket = unique_bucket_name("rot")
    s3.create_bucket(Bucket=bucket)
    bodies = {"file": os.urandom(300_000), "row": os.urandom(3000), "unread": os.urandom(200_000),
              "intact": os.urandom(100_000)}
    for key, body in bodies.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    file_blob = _flip_file(server, bucket, "file")
    row_seq = _flip_row(server, bucket, "row")
    unread_blob = _flip_file(server, bucket, "unread")
    _refused(s3, bucket, "file")
    _refused(s3, bucket, "row")
    with psycopg.connect(server.db) as conn:
        evidence = {r[0] for r in conn.execute("SELECT blob FROM quarantine WHERE bucket=%s", (bucket,))}
    assert evidence == {file_blob, f"row:{row_seq}"}

    env = {**os.environ, "NUAGE_DB": server.db, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY,
           "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    done = subprocess.run([sys.executable, "-m", "nuage.cli.main", "scrub", "--data", str(server.data_dir),
                           "--rate", "0", "--json"], capture_output=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr.decode()
    report = json.loads(done.stdout)
    found = {(d["key"], d["new"]) for d in report["damaged"] if d["bucket"] == bucket}
    assert found == {("file", False), ("row", False), ("unread", True)}
    _refused(s3, bucket, "unread")
    with psycopg.connect(server.db) as conn:
        assert conn.execute("SELECT count(*) FROM quarantine WHERE blob=%s", (unread_blob,)).fetchone() == (1,)
    assert s3.get_object(Bucket=bucket, Key="intact")["Body"].read() == bodies["intact"]
    assert s3.get_object(Bucket=bucket, Key="intact", Range="bytes=50000-50999")["Body"].read() == \
        bodies["intact"][50000:51000]
