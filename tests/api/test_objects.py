"""PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and object headers with boto3."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def test_put_get_head_roundtrip(s3m: Any, bucket: str) -> None:
    data = os.urandom(12345)
    put = s3m.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data)
    assert put["ETag"] == md5_etag(data)
    got = s3m.get_object(Bucket=bucket, Key="dir/obj.bin")
    assert got["Body"].read() == data
    assert got["ETag"] == md5_etag(data)
    assert got["ContentLength"] == len(data)
    assert got["ResponseMetadata"]["HTTPHeaders"]["accept-ranges"] == "bytes"
    head = s3m.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"] == md5_etag(data)
    assert isinstance(head["LastModified"], datetime)
    assert abs((datetime.now(UTC) - head["LastModified"]).total_seconds()) < 120


def test_empty_object(s3m: Any, bucket: str) -> None:
    s3m.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3m.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ETag"] == md5_etag(b"")
    assert got["ContentLength"] == 0


def test_large_object_streams(s3m: Any, bucket: str) -> None:
    data = os.urandom(9 * 1024 * 1024 + 7)  # over botocore's Expect: 100-continue threshold
    s3m.put_object(Bucket=bucket, Key="big", Body=data)
    got = s3m.get_object(Bucket=bucket, Key="big")
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(data).digest()


def test_large_body_rejected_at_its_end_leaves_nothing(server: NuageServer, s3: Any, bucket: str) -> None:
    """A body big enough to be flushed to disk while it arrives (over 8 MiB), refused only at its end
    (wrong Content-MD5): no object, no blob file, no temporary file left behind."""
    import base64

    def files() -> set[str]:
        return {p.name for sub in ("blobs", "tmp") for p in (server.data_dir / sub).rglob("*") if p.is_file()}

    before = files()
    data = os.urandom(20 * 1024 * 1024)
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    assert_error(lambda: s3.put_object(Bucket=bucket, Key="refused", Body=data, ContentMD5=wrong), "BadDigest", 400)
    assert_error(lambda: s3.head_object(Bucket=bucket, Key="refused"), "404", 404)
    assert files() == before
    s3.put_object(Bucket=bucket, Key="kept", Body=data)
    assert hashlib.sha256(s3.get_object(Bucket=bucket, Key="kept")["Body"].read()).digest() == hashlib.sha256(
        data).digest()


def test_overwrite(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two!", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"two!"
    assert got["ContentType"] == "text/plain"


def test_user_metadata_and_standard_headers(s3: Any, bucket: str) -> None:
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    s3.put_object(
        Bucket=bucket, Key="meta", Body=b"<p>hi</p>", Metadata={"colour": "blue", "Mixed-Case": "Value 1"},
        ContentType="text/html; charset=utf-8", ContentEncoding="identity",
        ContentDisposition='inline; filename="a.html"',
        ContentLanguage="fr-FR", CacheControl="max-age=60", Expires=expires,
    )
    for resp in (s3.head_object(Bucket=bucket, Key="meta"), s3.get_object(Bucket=bucket, Key="meta")):
        assert resp["Metadata"] == {"colour": "blue", "mixed-case": "Value 1"}
        assert resp["ContentType"] == "text/html; charset=utf-8"
        assert resp["ContentEncoding"] == "identity"
        assert resp["ContentDisposition"] == 'inline; filename="a.html"'
        assert resp["ContentLanguage"] == "fr-FR"
        assert resp["CacheControl"] == "max-age=60"
        assert resp["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_default_content_type(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "noct"), body=b"abc")
    assert reply.status == 200
    head = rawhttp.request(server, "HEAD", rawhttp.key_path(bucket, "noct"))
    assert head.header("content-type") in ("binary/octet-stream", "application/octet-stream")


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket, Key="o", ResponseContentType="application/json", ResponseContentDisposition="attachment",
        ResponseContentEncoding="gzip", ResponseContentLanguage="de", ResponseCacheControl="no-cache",
        ResponseExpires=datetime(2031, 1, 1, tzinfo=UTC),
    )
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "attachment"
    assert got["ContentEncoding"] == "gzip"
    assert got["ContentLanguage"] == "de"
    assert got["CacheControl"] == "no-cache"
    assert got["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 01 Jan 2031 00:00:00 GMT"


def test_storage_class_standard(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sc", Body=b"x", StorageClass="STANDARD")
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"] == "STANDARD"
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["StorageClass"] == "STANDARD"
    attrs = s3.get_object_attributes(Bucket=bucket, Key="sc", ObjectAttributes=["StorageClass", "ObjectSize"])
    assert attrs["StorageClass"] == "STANDARD"
    assert attrs["ObjectSize"] == 1


def test_invalid_storage_class(s3: Any, bucket: str) -> None:
    assert_error(s3.put_object, "InvalidStorageClass", 400, Bucket=bucket, Key="k", Body=b"x",
                 StorageClass="FROZEN_SOLID")


@pytest.mark.parametrize("key", [
    "plain", "with space", "unicode-é-漢字-😀", "a/b/c/", "../../etc/passwd", "a//b", "%41%2F", "+plus+",
    "tilde~star*quote'", "question?hash#", "semi;colon=eq&amp", "  leading-space", "x" * 1024,
])
def test_special_keys(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_dotdot_key_does_not_escape(s3: Any, bucket: str, server: NuageServer) -> None:
    s3.put_object(Bucket=bucket, Key="../../../root-credentials.json", Body=b"not the real one")
    cred = server.data_dir / "root-credentials.json"
    assert b"not the real one" not in cred.read_bytes()


def test_get_missing_key(s3: Any, bucket: str) -> None:
    err = assert_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="missing")
    assert err.response["Error"]["Key"] == "missing"


def test_head_missing_key(s3: Any, bucket: str) -> None:
    assert_error(s3.head_object, "404", 404, Bucket=bucket, Key="missing")


def test_get_from_missing_bucket(s3: Any) -> None:
    assert_error(s3.get_object, "NoSuchBucket", 404, Bucket="no-such-bucket-here-123", Key="k")


def test_put_to_missing_bucket(s3: Any) -> None:
    assert_error(s3.put_object, "NoSuchBucket", 404, Bucket="no-such-bucket-here-123", Key="k", Body=b"x")


def test_delete_object(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="d", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.head_object, "404", 404, Bucket=bucket, Key="d")
    # deleting a missing key succeeds too
    assert s3.delete_object(Bucket=bucket, Key="d")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_delete_objects(s3: Any, bucket: str) -> None:
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in resp["Deleted"]) == ["a", "b", "zz"]
    assert "Errors" not in resp
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]


def test_delete_objects_quiet(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    resp = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}], "Quiet": True})
    assert "Deleted" not in resp and "Errors" not in resp
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_too_many(s3: Any, bucket: str) -> None:
    objs = [{"Key": f"k{i}"} for i in range(1001)]
    assert_error(s3.delete_objects, "MalformedXML", 400, Bucket=bucket, Delete={"Objects": objs})


def test_delete_objects_requires_content_md5_or_checksum(server: NuageServer, bucket: str) -> None:
    body = b"<Delete><Object><Key>a</Key></Object></Delete>"
    reply = rawhttp.request(server, "POST", f"/{bucket}?delete", body=body)
    assert (reply.status, reply.code) == (400, "InvalidRequest")


def test_x_id_query_form(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "xid", "x-id=PutObject")
    assert rawhttp.request(server, "PUT", path, body=b"data").status == 200
    got = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "xid", "x-id=GetObject"))
    assert (got.status, got.body) == (200, b"data")


def test_unsigned_payload(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "unsigned")
    reply = rawhttp.request(server, "PUT", path, body=b"abc", payload_hash="UNSIGNED-PAYLOAD")
    assert reply.status == 200
    assert rawhttp.request(server, "GET", path).body == b"abc"


def test_signed_payload_hash_mismatch(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "sha")
    reply = rawhttp.request(server, "PUT", path, body=b"abc", payload_hash=hashlib.sha256(b"abd").hexdigest())
    assert (reply.status, reply.code) == (400, "XAmzContentSHA256Mismatch")
    assert rawhttp.request(server, "HEAD", path).status == 404


def test_expect_100_continue(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "expect")
    body = os.urandom(4096)
    headers = rawhttp.sign(server, "PUT", path, body=body, headers={"Expect": "100-continue"})
    conn = rawhttp.connection(server)
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        assert conn.sock is not None
        conn.sock.settimeout(5)
        interim = conn.sock.recv(64)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        conn.send(body)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()
    assert rawhttp.request(server, "GET", path).body == body


def test_concurrent_puts_same_key(s3: Any, bucket: str) -> None:
    bodies = [bytes([i]) * (1000 + i) for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda b: s3.put_object(Bucket=bucket, Key="race", Body=b), bodies))
    assert s3.get_object(Bucket=bucket, Key="race")["Body"].read() in bodies


def test_head_version_null_unversioned(s3: Any, bucket: str) -> None:
    # rclone does this after every upload to an unversioned bucket
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    head = s3.head_object(Bucket=bucket, Key="k", VersionId="null")
    assert head["ContentLength"] == 3
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"abc"
