"""Multipart uploads: create, parts (concurrent, out of order, copies with ranges), complete, abort, list."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer

MiB = 1024 * 1024


def multipart_etag(parts: list[bytes]) -> str:
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


def test_upload_out_of_order_concurrently(s3m: Any, bucket: str) -> None:
    parts = [os.urandom(5 * MiB) for _ in range(3)] + [b"tail"]
    up = s3m.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="application/x-test",
                                     Metadata={"m": "v"})
    uid = up["UploadId"]

    def send(n: int) -> dict[str, Any]:
        r = s3m.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=parts[n - 1])
        assert r["ETag"] == f'"{hashlib.md5(parts[n - 1]).hexdigest()}"'
        return {"PartNumber": n, "ETag": r["ETag"]}

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(send, [4, 2, 3, 1]))
    listed = s3m.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3, 4]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    done.sort(key=lambda p: p["PartNumber"])
    resp = s3m.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    assert resp["ETag"] == multipart_etag(parts)
    assert resp["Key"] == "mp" and resp["Bucket"] == bucket
    got = s3m.get_object(Bucket=bucket, Key="mp")
    assert got["ETag"] == multipart_etag(parts)
    assert got["ContentType"] == "application/x-test"
    assert got["Metadata"] == {"m": "v"}
    assert hashlib.md5(got["Body"].read()).digest() == hashlib.md5(b"".join(parts)).digest()
    assert_error(s3m.list_parts, "NoSuchUpload", 404, Bucket=bucket, Key="mp", UploadId=uid)


def test_get_part_number(s3: Any, bucket: str) -> None:
    parts = [b"a" * 5 * MiB, b"bb"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pn")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="pn", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="pn", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    got = s3.get_object(Bucket=bucket, Key="pn", PartNumber=2)
    assert got["Body"].read() == b"bb"
    assert got["PartsCount"] == 2
    assert got["ContentRange"] == f"bytes {5 * MiB}-{5 * MiB + 1}/{5 * MiB + 2}"
    head = s3.head_object(Bucket=bucket, Key="pn", PartNumber=1)
    assert head["ContentLength"] == 5 * MiB


def test_upload_file_with_transfer_manager(s3m: Any, bucket: str, tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(17 * MiB)
    path.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    s3m.upload_file(str(path), bucket, "big.bin", Config=cfg)
    head = s3m.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].endswith('-4"')
    out = tmp_path / "back.bin"
    s3m.download_file(bucket, "big.bin", str(out), Config=cfg)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_entity_too_small(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=1, Body=b"x" * 1024)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="small", UploadId=uid, PartNumber=2, Body=b"y")["ETag"]
    assert_error(s3.complete_multipart_upload, "EntityTooSmall", 400, Bucket=bucket, Key="small", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    # a single small part is fine
    s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"x" * 1024


def test_invalid_part_order(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="o")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="o", UploadId=uid, PartNumber=1, Body=b"a" * 5 * MiB)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="o", UploadId=uid, PartNumber=2, Body=b"b")["ETag"]
    assert_error(s3.complete_multipart_upload, "InvalidPartOrder", 400, Bucket=bucket, Key="o", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})


def test_part_resent_and_listed_twice_the_last_entry_counts(s3: Any, bucket: str) -> None:
    """A client that re-sent part 1 lists it with both ETags (s3-tests' resend_first_finishes_last): the
    last entry names the part that was stored last, and the object is that part."""
    uid = s3.create_multipart_upload(Bucket=bucket, Key="resent")["UploadId"]
    first = s3.upload_part(Bucket=bucket, Key="resent", UploadId=uid, PartNumber=1, Body=b"B" * 8)["ETag"]
    second = s3.upload_part(Bucket=bucket, Key="resent", UploadId=uid, PartNumber=1, Body=b"A" * 8)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="resent", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": first}, {"PartNumber": 1, "ETag": second}]})
    assert s3.get_object(Bucket=bucket, Key="resent")["Body"].read() == b"A" * 8
    # the last entry must still name the stored part
    uid = s3.create_multipart_upload(Bucket=bucket, Key="resent2")["UploadId"]
    old = s3.upload_part(Bucket=bucket, Key="resent2", UploadId=uid, PartNumber=1, Body=b"B" * 8)["ETag"]
    new = s3.upload_part(Bucket=bucket, Key="resent2", UploadId=uid, PartNumber=1, Body=b"A" * 8)["ETag"]
    assert_error(s3.complete_multipart_upload, "InvalidPart", 400, Bucket=bucket, Key="resent2", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": new}, {"PartNumber": 1, "ETag": old}]})


def test_invalid_part(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="p", UploadId=uid, PartNumber=1, Body=b"a")
    assert_error(s3.complete_multipart_upload, "InvalidPart", 400, Bucket=bucket, Key="p", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    assert_error(s3.complete_multipart_upload, "InvalidPart", 400, Bucket=bucket, Key="p", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": '"00000000000000000000000000000000"'}]})


def test_complete_with_no_parts(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="none")["UploadId"]
    assert_error(s3.complete_multipart_upload, "MalformedXML", 400, Bucket=bucket, Key="none", UploadId=uid,
                 MultipartUpload={"Parts": []})


def test_part_number_bounds(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="b")["UploadId"]
    for n in (0, 10001):
        assert_error(s3.upload_part, "InvalidArgument", 400, Bucket=bucket, Key="b", UploadId=uid, PartNumber=n,
                     Body=b"x")


def test_reupload_part_replaces_it(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="r")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1, Body=b"first")
    e = s3.upload_part(Bucket=bucket, Key="r", UploadId=uid, PartNumber=1, Body=b"second")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="r", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert s3.get_object(Bucket=bucket, Key="r")["Body"].read() == b"second"


def test_abort(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="a", UploadId=uid, PartNumber=1, Body=b"x")
    resp = s3.abort_multipart_upload(Bucket=bucket, Key="a", UploadId=uid)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.upload_part, "NoSuchUpload", 404, Bucket=bucket, Key="a", UploadId=uid, PartNumber=2, Body=b"x")
    assert_error(s3.complete_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="a", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"x"'}]})
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    assert_error(s3.head_object, "404", 404, Bucket=bucket, Key="a")


def test_abort_unknown_upload(s3: Any, bucket: str) -> None:
    assert_error(s3.abort_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="a", UploadId="nonexistent")


def test_list_multipart_uploads(s3: Any, bucket: str) -> None:
    ids = {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in ("x/1", "x/2", "y/3")}
    resp = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in resp["Uploads"]] == sorted(ids.items())
    assert all("Initiated" in u for u in resp["Uploads"])
    resp = s3.list_multipart_uploads(Bucket=bucket, Prefix="x/")
    assert [u["Key"] for u in resp["Uploads"]] == ["x/1", "x/2"]
    resp = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["x/", "y/"]
    resp = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert resp["IsTruncated"] is True
    assert [u["Key"] for u in resp["Uploads"]] == ["x/1"]
    resp = s3.list_multipart_uploads(Bucket=bucket, KeyMarker=resp["NextKeyMarker"],
                                     UploadIdMarker=resp["NextUploadIdMarker"])
    assert [u["Key"] for u in resp["Uploads"]] == ["x/2", "y/3"]


def test_list_parts_pagination(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    for n in range(1, 6):
        s3.upload_part(Bucket=bucket, Key="lp", UploadId=uid, PartNumber=n, Body=b"p")
    resp = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in resp["Parts"]] == [1, 2]
    assert resp["IsTruncated"] is True and resp["NextPartNumberMarker"] == 2
    resp = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in resp["Parts"]] == [3, 4, 5]


def test_upload_part_copy_with_ranges(s3: Any, bucket: str) -> None:
    src = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    p1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    p2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "src"})
    p3 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=3,
                             CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")
    etags = [p["CopyPartResult"]["ETag"] for p in (p1, p2, p3)]
    assert etags[0] == f'"{hashlib.md5(src[:5 * MiB]).hexdigest()}"'
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    got = s3.get_object(Bucket=bucket, Key="dst")["Body"].read()
    assert got == src[:5 * MiB] + src + src[5 * MiB:]


def test_upload_part_copy_bad_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    assert_error(s3.upload_part_copy, "InvalidRange", 416, Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                 CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=5-100")


def test_complete_is_idempotent_for_same_parts(server: NuageServer, s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="i")["UploadId"]
    e = s3.upload_part(Bucket=bucket, Key="i", UploadId=uid, PartNumber=1, Body=b"abc")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="i", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert s3.get_object(Bucket=bucket, Key="i")["Body"].read() == b"abc"


def test_complete_malformed_xml(server: NuageServer, s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    reply = rawhttp.request(server, "POST", rawhttp.key_path(bucket, "m", f"uploadId={uid}"),
                            body=b"<CompleteMultipartUpload><Part><PartNumber>1</Part>")
    assert (reply.status, reply.code) == (400, "MalformedXML")


@pytest.mark.parametrize("versioned", [False, True])
def test_multipart_in_versioned_bucket(s3: Any, bucket: str, versioned: bool) -> None:
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    uid = s3.create_multipart_upload(Bucket=bucket, Key="v")["UploadId"]
    e = s3.upload_part(Bucket=bucket, Key="v", UploadId=uid, PartNumber=1, Body=b"abc")["ETag"]
    resp = s3.complete_multipart_upload(Bucket=bucket, Key="v", UploadId=uid,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert ("VersionId" in resp) is versioned


def test_unfinished_uploads_do_not_block_delete_bucket(s3: Any) -> None:
    name = f"mpu-leftover-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=name)
    uid = s3.create_multipart_upload(Bucket=name, Key="left")["UploadId"]
    s3.upload_part(Bucket=name, Key="left", UploadId=uid, PartNumber=1, Body=b"part")
    s3.delete_bucket(Bucket=name)           # as on S3: unfinished uploads go with the empty bucket
    assert_error(s3.head_bucket, "404", 404, Bucket=name)


def test_completing_a_completed_upload_answers_the_same(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="done")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="done", UploadId=uid, PartNumber=1, Body=b"only part")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="done", UploadId=uid, MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="done", UploadId=uid, MultipartUpload=parts)
    assert again["ETag"] == first["ETag"]
    assert s3.get_object(Bucket=bucket, Key="done")["Body"].read() == b"only part"
    assert_error(s3.complete_multipart_upload, "NoSuchUpload", 404, Bucket=bucket, Key="done",
                 UploadId="0" * 40, MultipartUpload=parts)
