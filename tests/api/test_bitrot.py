"""Bit rot: one bit flipped on disk (in a blob file, or in the bytes an object keeps in its metadata row)
under a running server. Every read of a damaged object is refused: a small one with 403
InvalidObjectState before the answer begins, a large one by a body cut short before its last byte, never
a complete answer with wrong bytes; later reads are refused at once (quarantined). `nuage scrub`, run
beside the server, finds every damaged blob, and objects written before blobs had a checksum stay
readable (counted as unverifiable)."""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, SQLITE_ONLY, NuageServer

MiB = 1024 * 1024
PART = 5 * MiB


@dataclass
class Stored:
    key: str
    kind: str
    data: bytes
    sse: bool = False


@pytest.fixture(scope="module")
def rot_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    # A read cut short after its head is logged in one line (no traceback: stop() checks the log)
    srv = NuageServer(tmp_path_factory.mktemp("nuage-bitrot") / "data").start()
    yield srv
    assert srv.stop() == 0, srv.log()


KINDS = {"file": 25, "file-crc": 5, "large": 10, "inline": 30, "sse": 7, "sse-inline": 3, "multipart": 15,
         "multipart-large": 5}   # 100 objects


def _store(s3: Any, plain: Any, bucket: str, rng: random.Random, prefix: str,
           counts: dict[str, int]) -> list[Stored]:
    """Objects of every kind: files with and without a client checksum, files larger than one piece read
    (1 MiB: their answer begins before their end is checked), bytes kept in the metadata row, SSE-S3
    files and rows, multipart objects of one part or of 5 MiB and a second part (the one damaged)."""
    out: list[Stored] = []

    def put(client: Any, key: str, kind: str, size: int, **extra: Any) -> None:
        data = rng.randbytes(size)
        client.put_object(Bucket=bucket, Key=key, Body=data, **extra)
        out.append(Stored(key, kind, data, sse="ServerSideEncryption" in extra))

    sse = {"ServerSideEncryption": "AES256"}
    for i in range(counts["file"]):
        put(plain, f"{prefix}file/{i}", "file", rng.randint(20_000, 300_000))
    for i in range(counts["file-crc"]):
        put(s3, f"{prefix}file-crc/{i}", "file", rng.randint(20_000, 300_000))
    for i in range(counts["large"]):
        put(plain, f"{prefix}large/{i}", "large", rng.randint(2 * MiB, 3 * MiB))
    for i in range(counts["inline"]):
        put(plain if i % 2 else s3, f"{prefix}inline/{i}", "inline", rng.randint(1, 16 * 1024))
    for i in range(counts["sse"]):
        put(plain, f"{prefix}sse/{i}", "file", rng.randint(20_000, 100_000), **sse)
    for i in range(counts["sse-inline"]):
        put(plain, f"{prefix}sse-inline/{i}", "inline", rng.randint(100, 4000), **sse)
    for kind in ("multipart", "multipart-large"):
        for i in range(counts[kind]):
            key = f"{prefix}{kind}/{i}"
            sizes = [rng.randint(20_000, 200_000)] if kind == "multipart" else [PART, rng.randint(20_000, 100_000)]
            parts = [rng.randbytes(n) for n in sizes]
            uid = plain.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            done = [{"PartNumber": n, "ETag": plain.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=n,
                                                                Body=body)["ETag"]}
                    for n, body in enumerate(parts, 1)]
            plain.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid, MultipartUpload={"Parts": done})
            out.append(Stored(key, kind, b"".join(parts)))
    return out


def _db(server: NuageServer) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "meta.sqlite3", isolation_level=None, timeout=30)


def _flip(server: NuageServer, bucket: str, obj: Stored, rng: random.Random) -> None:
    """Flip one bit of the object's stored bytes: in its (last) blob file, or in its metadata row."""
    db = _db(server)
    try:
        seq, segments = db.execute("SELECT seq, segments FROM objects WHERE bucket=? AND key=? AND is_latest=1",
                                   (bucket, obj.key)).fetchone()
        if isinstance(segments, bytes):
            raw = bytearray(segments)
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
            db.execute("UPDATE objects SET segments=? WHERE seq=?", (bytes(raw), seq))
            return
    finally:
        db.close()
    blob = json.loads(segments)[-1][0]
    path = server.data_dir / "blobs" / blob[:2] / blob[2:4] / blob
    size = path.stat().st_size
    # large objects: damage in the first or in the last piece (the last piece is the one held back)
    pos = rng.choice([rng.randrange(MiB), rng.randrange(size - 1000, size)]) if obj.kind == "large" else (
        rng.randrange(size))
    with open(path, "r+b") as f:
        f.seek(pos)
        byte = f.read(1)[0]
        f.seek(pos)
        f.write(bytes([byte ^ (1 << rng.randrange(8))]))


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def complete(self) -> bool:
        return len(self.body) == int(self.headers.get("content-length", "-1"))


def _raw(method: str, url: str) -> RawReply:
    """One request on its own connection, read to the end of the connection: what the client really got."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"{method} {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        received = bytearray()
        while True:
            try:
                piece = sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not piece:
                break
            received += piece
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    if not head:
        return RawReply(0, {}, b"")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return RawReply(int(lines[0].split()[1]), headers, body)


def _scrub(server: NuageServer) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    done = subprocess.run([sys.executable, "-m", "nuage.cli.main", "scrub", "--data", str(server.data_dir),
                           "--rate", "0", "--json"], capture_output=True, env=env, timeout=120)
    assert done.returncode in (0, 2), done.stderr.decode()
    return done.returncode, json.loads(done.stdout)


def _refused(reply: RawReply) -> bool:
    """Refused with InvalidObjectState, or cut short: never a complete answer."""
    if reply.status == 403:
        return b"<Code>InvalidObjectState</Code>" in reply.body
    return reply.status in (200, 0) and not reply.complete


@SQLITE_ONLY
def test_bit_rot_is_never_served_and_scrub_finds_it(rot_server: NuageServer) -> None:
    rng = random.Random(20261207)
    s3 = rot_server.client()
    plain = rot_server.client(checksum="when_required")
    bucket = unique_bucket_name("rot")
    s3.create_bucket(Bucket=bucket)
    damaged = _store(s3, plain, bucket, rng, "", KINDS)
    intact = _store(s3, plain, bucket, rng, "intact/", dict.fromkeys(KINDS, 1))
    assert len(damaged) == 100
    for obj in damaged:
        _flip(rot_server, bucket, obj, rng)
    plain.put_object(Bucket=bucket, Key="after-the-damage", Body=b"x")   # a commit: the server's caches reload

    url = {o.key: s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": o.key})
           for o in damaged + intact}
    read_first, scrub_first = damaged[::2], damaged[1::2]
    for obj in read_first:
        reply = _raw("GET", url[obj.key])
        assert _refused(reply), (obj.key, obj.kind, reply.status, reply.headers)
        if obj.kind in ("file", "inline", "multipart"):   # found before the answer begins
            assert reply.status == 403, (obj.key, reply.status)
        else:   # found at the end of the (first damaged) blob, before its last piece: the body is cut short
            assert reply.status == 200 and len(reply.body) < len(obj.data), (obj.key, len(reply.body))
        assert reply.body != obj.data
    for obj in intact:
        reply = _raw("GET", url[obj.key])
        assert (reply.status, reply.body) == (200, obj.data), obj.key

    code, report = _scrub(rot_server)
    assert code == 2
    found = {(d["key"], d["new"]) for d in report["damaged"] if d["bucket"] == bucket}
    assert found == {(o.key, False) for o in read_first} | {(o.key, True) for o in scrub_first}
    assert report["unverifiable"] == 0

    for obj in damaged:   # all quarantined now: refused at once, HEAD too
        reply = _raw("GET", url[obj.key])
        assert reply.status == 403 and b"<Code>InvalidObjectState</Code>" in reply.body, (obj.key, reply.status)
        head = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": obj.key})
        assert _raw("HEAD", head).status == 403
    for obj in intact:
        assert s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read() == obj.data
    # the damaged files are kept as evidence
    assert len(list((rot_server.data_dir / "quarantine").iterdir())) == sum(o.kind != "inline" for o in damaged)


@SQLITE_ONLY
def test_objects_without_a_checksum_stay_readable(rot_server: NuageServer) -> None:
    """Versions written before blobs had a CRC (NULL in the row, [blob, size] in the segments) are read
    unverified, and a scrub counts them as unverifiable, never as damaged."""
    s3 = rot_server.client(checksum="when_required")
    bucket = unique_bucket_name("old")
    s3.create_bucket(Bucket=bucket)
    small, large = os.urandom(1000), os.urandom(200_000)
    s3.put_object(Bucket=bucket, Key="small", Body=small)
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    db = _db(rot_server)
    try:
        db.execute("UPDATE objects SET crc=NULL WHERE bucket=? AND key='small'", (bucket,))
        (segments,) = db.execute("SELECT segments FROM objects WHERE bucket=? AND key='large'", (bucket,)).fetchone()
        db.execute("UPDATE objects SET segments=? WHERE bucket=? AND key='large'",
                   (json.dumps([s[:2] for s in json.loads(segments)]), bucket))
    finally:
        db.close()
    s3.put_object(Bucket=bucket, Key="commit", Body=b"x")   # the server's caches reload
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == small
    assert s3.get_object(Bucket=bucket, Key="large")["Body"].read() == large
    _, report = _scrub(rot_server)
    assert report["unverifiable"] >= 2
    assert not {d["key"] for d in report["damaged"]} & {"small", "large"}


@SQLITE_ONLY
def test_range_reads_check_the_chunks_they_cover(rot_server: NuageServer) -> None:
    """A range read of part of an unencrypted blob checks the CRCs of the 64 KiB chunks it covers: one
    over a damaged chunk is refused (and quarantines the object), one elsewhere is served."""
    s3 = rot_server.client(checksum="when_required")
    bucket = unique_bucket_name("range")
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(3 * MiB)
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    db = _db(rot_server)
    try:
        (segments,) = db.execute("SELECT segments FROM objects WHERE bucket=? AND key='k'", (bucket,)).fetchone()
    finally:
        db.close()
    blob = json.loads(segments)[0][0]
    with open(rot_server.data_dir / "blobs" / blob[:2] / blob[2:4] / blob, "r+b") as f:
        f.seek(2_500_000)
        f.write(bytes([data[2_500_000] ^ 0x01]))
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-99")["Body"].read() == data[:100]
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=2000000-2400000")["Body"].read() == (
        data[2_000_000:2_400_001])
    for rng in ("bytes=2499990-2500010", "bytes=0-99"):   # the damaged chunk, then anything: quarantined
        with pytest.raises(ClientError) as refused:
            s3.get_object(Bucket=bucket, Key="k", Range=rng)
        assert refused.value.response["Error"]["Code"] == "InvalidObjectState"


@SQLITE_ONLY
def test_the_background_scrub_quarantines_damage_no_read_has_touched(tmp_path: Path) -> None:
    """The server's slow background pass finds damage that no read has come across and quarantines the
    object, after which every read is refused."""
    srv = NuageServer(tmp_path / "data", env={"NUAGE_SCRUB_INTERVAL": "0.5", "NUAGE_SCRUB_RATE": "0"},
                      allow_faults=True).start()
    try:
        s3 = srv.client(checksum="when_required")
        bucket = unique_bucket_name("scrub")
        s3.create_bucket(Bucket=bucket)
        data = os.urandom(300_000)
        s3.put_object(Bucket=bucket, Key="k", Body=data)
        obj = Stored("k", "file", data)
        rng = random.Random(5)
        _flip(srv, bucket, obj, rng)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                s3.head_object(Bucket=bucket, Key="k")
            except ClientError as exc:
                assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the background scrub did not quarantine the damaged object")
        with pytest.raises(ClientError) as refused:
            s3.get_object(Bucket=bucket, Key="k", Range="bytes=10-20")
        assert refused.value.response["Error"]["Code"] == "InvalidObjectState"
        state = json.loads((srv.data_dir / "scrub.json").read_text())
        assert state["damaged"] >= 1
        assert "scrub: damaged blob in " + bucket + "/k" in srv.log()
    finally:
        assert srv.stop() == 0, srv.log()


@SQLITE_ONLY
def test_sql_jobs_and_s3_select_never_read_damaged_bytes(rot_server: NuageServer) -> None:
    """DuckDB reads a plain blob file itself: its CRC is checked first, so a damaged CSV fails the S3
    Select request (403 InvalidObjectState) and the SQL job (ObjectCorrupt), and is quarantined."""
    from tests.api.test_query import run_job

    s3 = rot_server.client()
    bucket = unique_bucket_name("rotsql")
    s3.create_bucket(Bucket=bucket)
    rows = "".join(f"{i},{i * 3}\n" for i in range(8000))
    for key in ("select.csv", "job.csv"):
        s3.put_object(Bucket=bucket, Key=key, Body=("a,b\n" + rows).encode())
    rng = random.Random(7)
    for key in ("select.csv", "job.csv"):
        _flip(rot_server, bucket, Stored(key, "file", b""), rng)
    plain = rot_server.client(checksum="when_required")
    plain.put_object(Bucket=bucket, Key="after-the-damage", Body=b"x")   # a commit: the caches reload
    with pytest.raises(ClientError) as caught:
        s3.select_object_content(
            Bucket=bucket, Key="select.csv", ExpressionType="SQL", Expression="SELECT sum(CAST(s.b AS INT)) FROM "
            "S3Object s", InputSerialization={"CSV": {"FileHeaderInfo": "USE"}}, OutputSerialization={"JSON": {}})
    assert caught.value.response["Error"]["Code"] == "InvalidObjectState"
    job = run_job(rot_server, f"SELECT sum(b) AS total FROM 's3://{bucket}/job.csv'")
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "ObjectCorrupt", job
    with pytest.raises(ClientError) as caught:   # quarantined by the job's check
        s3.head_object(Bucket=bucket, Key="job.csv")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
