"""Conditional writes: If-None-Match: * and If-Match on PutObject and CompleteMultipartUpload, atomically."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.helpers import assert_error
from tests.support.server import NuageServer


def test_put_if_none_match_star(s3m: Any, bucket: str) -> None:
    s3m.put_object(Bucket=bucket, Key="once", Body=b"first", IfNoneMatch="*")
    assert_error(s3m.put_object, "PreconditionFailed", 412, Bucket=bucket, Key="once", Body=b"second",
                 IfNoneMatch="*")
    assert s3m.get_object(Bucket=bucket, Key="once")["Body"].read() == b"first"


def test_put_if_none_match_after_delete(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")


def test_put_if_none_match_versioned_delete_marker(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.delete_object(Bucket=bucket, Key="k")  # current version is a delete marker: the key "does not exist"
    s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"2"


def test_put_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    etag2 = s3.put_object(Bucket=bucket, Key="k", Body=b"v2", IfMatch=etag)["ETag"]
    assert_error(s3.put_object, "PreconditionFailed", 412, Bucket=bucket, Key="k", Body=b"v3", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["ETag"] == etag2


def test_put_if_match_missing_key(s3: Any, bucket: str) -> None:
    assert_error(s3.put_object, "NoSuchKey", 404, Bucket=bucket, Key="absent", Body=b"x", IfMatch='"abc"')


def _mpu(s3: Any, bucket: str, key: str, body: bytes) -> tuple[str, list[dict[str, Any]]]:
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=body)["ETag"]
    return uid, [{"PartNumber": 1, "ETag": etag}]


def test_complete_if_none_match_star(s3: Any, bucket: str) -> None:
    uid, parts = _mpu(s3, bucket, "mp", b"multipart")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts},
                                 IfNoneMatch="*")
    uid2, parts2 = _mpu(s3, bucket, "mp", b"second")
    assert_error(s3.complete_multipart_upload, "PreconditionFailed", 412, Bucket=bucket, Key="mp", UploadId=uid2,
                 MultipartUpload={"Parts": parts2}, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"multipart"


def test_complete_if_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="mp", Body=b"plain")["ETag"]
    uid, parts = _mpu(s3, bucket, "mp", b"replaced")
    assert_error(s3.complete_multipart_upload, "PreconditionFailed", 412, Bucket=bucket, Key="mp", UploadId=uid,
                 MultipartUpload={"Parts": parts}, IfMatch='"0000"')
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts},
                                 IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == b"replaced"


def _race(fns: list[Any]) -> list[int]:
    barrier = threading.Barrier(len(fns))
    statuses: list[int] = [0] * len(fns)

    def run(i: int) -> None:
        barrier.wait()
        try:
            resp = fns[i]()
            statuses[i] = resp["ResponseMetadata"]["HTTPStatusCode"]
        except ClientError as exc:
            statuses[i] = exc.response["ResponseMetadata"]["HTTPStatusCode"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


@pytest.mark.parametrize("size", [10, 512 * 1024])
def test_racing_conditional_puts(server: NuageServer, bucket: str, size: int) -> None:
    clients = [server.client(), server.client()]
    for round_ in range(8):
        key = f"race-{round_}"
        bodies = [os.urandom(size), os.urandom(size)]
        statuses = _race([
            lambda c=c, b=b, key=key: c.put_object(Bucket=bucket, Key=key, Body=b, IfNoneMatch="*")
            for c, b in zip(clients, bodies, strict=True)])
        assert statuses == [200, 412], (round_, statuses)
        assert clients[0].get_object(Bucket=bucket, Key=key)["Body"].read() in bodies


def test_racing_conditional_completes(server: NuageServer, bucket: str) -> None:
    clients = [server.client(), server.client()]
    for round_ in range(5):
        key = f"mrace-{round_}"
        uploads = [_mpu(c, bucket, key, f"body-{i}".encode()) for i, c in enumerate(clients)]
        statuses = _race([
            lambda c=c, u=u, key=key: c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=u[0],
                                                         MultipartUpload={"Parts": u[1]}, IfNoneMatch="*")
            for c, u in zip(clients, uploads, strict=True)])
        assert statuses == [200, 412], (round_, statuses)
