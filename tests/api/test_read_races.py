"""Reads racing overwrites and deletes: every GET answers a whole version or NoSuchKey, and the bytes
of a replaced version stay on disk exactly as long as a read needs them."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from typing import Any

from tests.support import rawhttp
from tests.support.server import NuageServer


def _blob_files(server: NuageServer) -> int:
    return sum(1 for p in (server.data_dir / "blobs").rglob("*") if p.is_file())


def _wait_for_blob_files(server: NuageServer, count: int) -> None:
    deadline = time.monotonic() + 10
    while _blob_files(server) != count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _blob_files(server) == count

PART = 5 * 1024 * 1024


def _put_multipart(s3: Any, bucket: str, key: str, data: bytes) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for n, start in enumerate(range(0, len(data), PART), 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=data[start:start + PART])
        parts.append({"PartNumber": n, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": parts})


def _overwrite_and_delete(s3: Any, bucket: str, key: str, versions: list[bytes], stop: float,
                          delete_every: int) -> None:
    """Until ``stop``: upload the versions in turn (multipart), deleting the key every few rounds."""
    i = 0
    while time.monotonic() < stop:
        i += 1
        if i % delete_every == 0:
            s3.delete_object(Bucket=bucket, Key=key)
        else:
            _put_multipart(s3, bucket, key, versions[i % len(versions)])


def test_gets_racing_overwrites_get_whole_versions(server: NuageServer, s3: Any, bucket: str) -> None:
    """GETs of a multipart object (its parts are read one after the other) while it is overwritten and
    deleted: the parts of the version being read must stay readable until the read is done."""
    versions = [os.urandom(PART + 1000 + i) for i in range(3)]
    digests = {hashlib.md5(v).hexdigest() for v in versions}
    _put_multipart(s3, bucket, "hot", versions[0])
    stop = time.monotonic() + 4
    problems: list[str] = []
    answers = {"whole": 0, "missing": 0}

    def writer() -> None:
        _overwrite_and_delete(s3, bucket, "hot", versions, stop, delete_every=5)

    def reader() -> None:
        path = rawhttp.key_path(bucket, "hot")
        while time.monotonic() < stop:
            try:
                reply = rawhttp.request(server, "GET", path)
            except Exception as exc:  # noqa: BLE001 - a cut answer shows up here
                problems.append(repr(exc))
                continue
            if reply.status == 200 and hashlib.md5(reply.body).hexdigest() in digests:
                answers["whole"] += 1
            elif reply.status == 404 and reply.code == "NoSuchKey":
                answers["missing"] += 1
            else:
                problems.append(f"{reply.status} {len(reply.body)} bytes {reply.body[:200]!r}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems, problems[:5]
    assert answers["whole"] > 0


def test_slow_reader_gets_the_version_it_started(server: NuageServer, s3: Any, bucket: str) -> None:
    """A client reads the first bytes of a multipart object, stalls while the object is overwritten and
    then deleted (the old parts are no longer referenced), and then reads the rest: it gets the whole
    version it started with."""
    old, new = os.urandom(4 * PART + 4321), os.urandom(PART + 1234)
    before = _blob_files(server)
    _put_multipart(s3, bucket, "slow", old)
    conn = rawhttp.connection(server)
    path = rawhttp.key_path(bucket, "slow")
    try:
        conn.request("GET", path, headers=rawhttp.sign(server, "GET", path))
        resp = conn.getresponse()
        assert resp.status == 200
        first = resp.read(64 * 1024)
        time.sleep(0.2)                      # the server is waiting for the client to read
        _put_multipart(s3, bucket, "slow", new)
        s3.delete_object(Bucket=bucket, Key="slow")
        rest = resp.read()
    finally:
        conn.close()
    assert hashlib.md5(first + rest).hexdigest() == hashlib.md5(old).hexdigest()
    _wait_for_blob_files(server, before)     # and once read, nothing of either version is left


def test_abandoned_download_lets_go(server: NuageServer, s3: Any, bucket: str) -> None:
    """A client that stops reading and hangs up does not keep a replaced version on disk."""
    old = os.urandom(4 * PART + 99)
    before = _blob_files(server)
    _put_multipart(s3, bucket, "gone", old)
    with_old = _blob_files(server)                           # four 5 MiB parts (the last one is inline)
    assert with_old > before
    conn = rawhttp.connection(server)
    path = rawhttp.key_path(bucket, "gone")
    conn.request("GET", path, headers=rawhttp.sign(server, "GET", path))
    resp = conn.getresponse()
    assert resp.status == 200 and len(resp.read(64 * 1024)) == 64 * 1024
    s3.put_object(Bucket=bucket, Key="gone", Body=b"small")   # the old parts are no longer referenced
    assert _blob_files(server) == with_old                   # but the download still holds them
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    _wait_for_blob_files(server, before)
    assert s3.get_object(Bucket=bucket, Key="gone")["Body"].read() == b"small"


def test_copies_racing_overwrites_copy_whole_versions(server: NuageServer, s3: Any, bucket: str) -> None:
    """CopyObject and UploadPartCopy of a multipart source while it is overwritten and deleted: the copy
    reads its source's parts one after the other (and writes each to disk meanwhile), so the source's
    bytes must stay until the copy is done. Every copy made is a whole version (or NoSuchKey)."""
    from botocore.exceptions import ClientError

    versions = [os.urandom(3 * PART + 1000 + i) for i in range(3)]   # three parts in files, one inline
    digests = {hashlib.md5(v).hexdigest() for v in versions}
    _put_multipart(s3, bucket, "src", versions[0])
    stop = time.monotonic() + 4
    problems: list[str] = []
    copies = {"object": 0, "part": 0, "missing": 0}
    source = {"Bucket": bucket, "Key": "src"}

    def writer() -> None:
        _overwrite_and_delete(s3, bucket, "src", versions, stop, delete_every=4)

    def check(key: str, kind: str) -> None:
        got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if hashlib.md5(got).hexdigest() in digests:
            copies[kind] += 1
        else:
            problems.append(f"{kind} copy of {len(got)} bytes is no version of the source")

    def copy_object(n: int) -> None:
        while time.monotonic() < stop:
            try:
                s3.copy_object(Bucket=bucket, Key=f"copy{n}", CopySource=source)
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                copies["missing"] += code == "NoSuchKey"
                if code != "NoSuchKey":
                    problems.append(f"CopyObject: {code}")
                continue
            check(f"copy{n}", "object")

    def upload_part_copy(n: int) -> None:
        while time.monotonic() < stop:
            key = f"partcopy{n}"
            up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            try:
                part = s3.upload_part_copy(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, CopySource=source)
            except ClientError as exc:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
                code = exc.response["Error"]["Code"]
                copies["missing"] += code == "NoSuchKey"
                if code != "NoSuchKey":
                    problems.append(f"UploadPartCopy: {code}")
                continue
            s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={
                "Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
            check(key, "part")

    threads = [threading.Thread(target=writer)]
    threads += [threading.Thread(target=copy_object, args=(n,)) for n in range(2)]
    threads += [threading.Thread(target=upload_part_copy, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not problems, problems[:5]
    assert copies["object"] > 0 and copies["part"] > 0, copies
