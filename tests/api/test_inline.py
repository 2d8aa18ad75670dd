"""Small objects live inside their metadata row (no blob file); larger ones are files. Both read back
whole and by range, and overwriting one kind with the other frees what the old version used."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import SQLITE_ONLY, NuageServer

INLINE_MAX = 16 * 1024


def _files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "blobs").rglob("*") if p.is_file()}


@pytest.mark.parametrize("size", [1, 4096, INLINE_MAX])
def test_small_object_is_inline_and_reads_back(server: NuageServer, s3: Any, bucket: str, size: int) -> None:
    before = _files(server.data_dir)
    data = os.urandom(size)
    put = s3.put_object(Bucket=bucket, Key="small", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert _files(server.data_dir) - before == set()
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == data
    if size > 2:
        assert s3.get_object(Bucket=bucket, Key="small", Range="bytes=1-2")["Body"].read() == data[1:3]
    assert s3.get_object(Bucket=bucket, Key="small", Range="bytes=-1")["Body"].read() == data[-1:]


def test_object_over_the_limit_is_a_file(server: NuageServer, s3: Any, bucket: str) -> None:
    before = _files(server.data_dir)
    data = os.urandom(INLINE_MAX + 1)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    assert len(_files(server.data_dir) - before) == 1
    assert s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={INLINE_MAX - 2}-")["Body"].read() == data[-3:]


def test_overwrites_between_inline_and_file_free_the_old_file(server: NuageServer, s3: Any, bucket: str) -> None:
    before = _files(server.data_dir)
    s3.put_object(Bucket=bucket, Key="k", Body=os.urandom(100_000))
    assert len(_files(server.data_dir) - before) == 1
    s3.put_object(Bucket=bucket, Key="k", Body=b"tiny")
    assert _files(server.data_dir) - before == set()
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"tiny"
    data = os.urandom(50_000)
    s3.put_object(Bucket=bucket, Key="k", Body=data)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == data


def test_inline_source_copies_and_multipart_last_part(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"hello inline")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"hello inline"
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    big, tail = os.urandom(5 * 1024 * 1024), b"tail bytes"
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=big)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=tail)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == big + tail
    assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={len(big) - 2}-")["Body"].read() == big[-2:] + tail


BINARY = bytes(range(256)) * 8 + b"\x00\r\n\x00"   # every byte value, NULs and line ends included


def test_every_byte_value_round_trips_inline(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="bin", Body=BINARY)
    assert s3.get_object(Bucket=bucket, Key="bin")["Body"].read() == BINARY
    assert s3.get_object(Bucket=bucket, Key="bin", Range="bytes=0-9")["Body"].read() == BINARY[:10]
    s3.copy_object(Bucket=bucket, Key="bin-copy", CopySource={"Bucket": bucket, "Key": "bin"})
    assert s3.get_object(Bucket=bucket, Key="bin-copy")["Body"].read() == BINARY
    # a small part is an inline blob in the parts table, then in the object's segment list
    for parts in ([BINARY], [os.urandom(5 * 1024 * 1024), BINARY]):
        uid = s3.create_multipart_upload(Bucket=bucket, Key="mp-bin")["UploadId"]
        done = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp-bin", UploadId=uid, PartNumber=n,
                                                         Body=body)["ETag"]} for n, body in enumerate(parts, 1)]
        s3.complete_multipart_upload(Bucket=bucket, Key="mp-bin", UploadId=uid, MultipartUpload={"Parts": done})
        assert s3.get_object(Bucket=bucket, Key="mp-bin")["Body"].read() == b"".join(parts)


@SQLITE_ONLY
def test_objects_stored_with_base64_inline_ids_still_read(server: NuageServer, s3: Any, bucket: str) -> None:
    """Databases written before inline bytes were stored raw keep ``inline:<base64>`` blob ids."""
    import base64
    import json
    import sqlite3

    s3.put_object(Bucket=bucket, Key="old", Body=BINARY)   # then its row is rewritten as before
    legacy = json.dumps([["inline:" + base64.b64encode(BINARY).decode(), len(BINARY)]])
    conn = sqlite3.connect(server.data_dir / "meta.sqlite3", timeout=10)
    try:
        with conn:
            cur = conn.execute("UPDATE objects SET segments=? WHERE bucket=? AND key='old'", (legacy, bucket))
            assert cur.rowcount == 1
    finally:
        conn.close()
    assert s3.get_object(Bucket=bucket, Key="old")["Body"].read() == BINARY
    assert s3.get_object(Bucket=bucket, Key="old", Range="bytes=-4")["Body"].read() == BINARY[-4:]
    s3.copy_object(Bucket=bucket, Key="old-copy", CopySource={"Bucket": bucket, "Key": "old"})
    assert s3.get_object(Bucket=bucket, Key="old-copy")["Body"].read() == BINARY
