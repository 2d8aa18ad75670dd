"""Errors: the AWS error code and status for bad input, never a 500; every error body has Code, Message,
Resource and RequestId; every response carries x-amz-request-id and x-amz-id-2."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer


def assert_s3_error(reply: rawhttp.Reply, status: int, code: str) -> None:
    assert reply.status == status, (reply.status, reply.body)
    doc = reply.xml()
    assert doc.tag == "Error"
    assert doc.findtext("Code") == code, reply.body
    assert doc.findtext("Message")
    assert doc.findtext("Resource") is not None
    request_id = doc.findtext("RequestId")
    assert request_id and request_id == reply.header("x-amz-request-id")
    assert reply.header("x-amz-id-2")
    assert reply.header("content-type") == "application/xml"


def md5_header(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


@pytest.mark.parametrize(("method", "query", "body"), [
    ("PUT", "tagging", b"<Tagging><TagSet><Tag><Key>a</Key>"),
    ("PUT", "tagging", b"not xml at all"),
    ("PUT", "tagging", b""),
    ("PUT", "versioning", b"<VersioningConfiguration><Status>Enabled</Stat></VersioningConfiguration>"),
    ("POST", "delete", b"<Delete><Object><Key>a</Key></Object>"),
    ("POST", "delete", b"<Delete></Delete>"),
])
def test_malformed_xml_on_bucket(server: NuageServer, bucket: str, method: str, query: str, body: bytes) -> None:
    reply = rawhttp.request(server, method, f"/{bucket}?{query}", body=body, headers=md5_header(body))
    assert_s3_error(reply, 400, "MalformedXML")


def test_malformed_xml_object_tagging(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet>"
    reply = rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "k", "tagging"), body=body)
    assert_s3_error(reply, 400, "MalformedXML")


def test_xml_entities_rejected(server: NuageServer, bucket: str) -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b"<Tagging><TagSet><Tag><Key>k</Key><Value>&b;</Value></Tag></TagSet></Tagging>")
    reply = rawhttp.request(server, "PUT", f"/{bucket}?tagging", body=body)
    assert_s3_error(reply, 400, "MalformedXML")


@pytest.mark.parametrize("key", ["k" * 1025, "é" * 513])
def test_key_too_long(s3: Any, bucket: str, key: str) -> None:
    err = assert_error(s3.put_object, "KeyTooLongError", 400, Bucket=bucket, Key=key, Body=b"x")
    assert err.response["Error"]["Message"]


def test_key_too_long_raw(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "k" * 1025), body=b"x")
    assert_s3_error(reply, 400, "KeyTooLongError")


def test_key_too_long_on_multipart(s3: Any, bucket: str) -> None:
    assert_error(s3.create_multipart_upload, "KeyTooLongError", 400, Bucket=bucket, Key="k" * 1025)


def test_key_too_long_on_copy(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    assert_error(s3.copy_object, "KeyTooLongError", 400, Bucket=bucket, Key="k" * 1025,
                 CopySource={"Bucket": bucket, "Key": "src"})


def test_nul_in_key_rejected(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "PUT", f"/{bucket}/a%00b", body=b"x")
    assert 400 <= reply.status < 500
    assert reply.code
    assert rawhttp.request(server, "GET", f"/{bucket}?list-type=2").xml().findtext("KeyCount") == "0"


@pytest.mark.parametrize("name", ["ab", "Upper", "bad_name", "192.168.1.1", "a..b"])
def test_invalid_bucket_name_raw(server: NuageServer, name: str) -> None:
    assert_s3_error(rawhttp.request(server, "PUT", f"/{name}"), 400, "InvalidBucketName")


def test_range_not_satisfiable_body(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "r"), headers={"Range": "bytes=10-20"})
    assert_s3_error(reply, 416, "InvalidRange")
    assert reply.header("content-range") == "bytes */10"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("sub", ["object-lock", "notification", "logging"])
def test_unimplemented_bucket_subresource_is_an_s3_error(server: NuageServer, bucket: str, method: str,
                                                        sub: str) -> None:
    body = b"<x/>" if method == "PUT" else b""
    reply = rawhttp.request(server, method, f"/{bucket}?{sub}", body=body, headers=md5_header(body) if body else {})
    assert reply.status != 500
    assert reply.status >= 400
    assert reply.xml().findtext("Code")
    assert reply.xml().findtext("RequestId") == reply.header("x-amz-request-id")


@pytest.mark.parametrize(("method", "sub"), [("GET", "retention"), ("GET", "legal-hold"), ("POST", "restore"),
                                             ("GET", "torrent"), ("PUT", "retention")])
def test_unimplemented_object_subresource_is_an_s3_error(server: NuageServer, s3: Any, bucket: str, method: str,
                                                        sub: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = b"<x/>" if method in ("PUT", "POST") else b""
    reply = rawhttp.request(server, method, rawhttp.key_path(bucket, "k", sub), body=body)
    assert reply.status != 500
    assert reply.status >= 400
    assert reply.xml().findtext("Code")


def test_unknown_query_parameter_is_ignored(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "k", "foo=bar&baz"))
    assert (reply.status, reply.body) == (200, b"x")


def test_no_such_bucket_error_body(server: NuageServer) -> None:
    reply = rawhttp.request(server, "GET", "/no-such-bucket-xyz-1?list-type=2")
    assert_s3_error(reply, 404, "NoSuchBucket")
    assert reply.xml().findtext("BucketName") == "no-such-bucket-xyz-1"
    assert reply.xml().findtext("Resource") == "/no-such-bucket-xyz-1"


def test_no_such_key_error_body(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "missing/key"))
    assert_s3_error(reply, 404, "NoSuchKey")
    assert reply.xml().findtext("Key") == "missing/key"
    assert reply.xml().findtext("Resource") == f"/{bucket}/missing/key"


def test_request_id_on_every_response(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    replies = [
        rawhttp.request(server, "GET", "/"),
        rawhttp.request(server, "HEAD", f"/{bucket}"),
        rawhttp.request(server, "GET", rawhttp.key_path(bucket, "k")),
        rawhttp.request(server, "HEAD", rawhttp.key_path(bucket, "k")),
        rawhttp.request(server, "HEAD", rawhttp.key_path(bucket, "missing")),
        rawhttp.request(server, "GET", rawhttp.key_path(bucket, "k"), headers={"If-None-Match": etag}),
        rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "k2"), body=b"y"),
        rawhttp.request(server, "DELETE", rawhttp.key_path(bucket, "k2")),
        rawhttp.request(server, "GET", "/", signed=False),
    ]
    for reply in replies:
        assert reply.header("x-amz-request-id"), reply.status
        assert reply.header("x-amz-id-2"), reply.status
    assert len({r.header("x-amz-request-id") for r in replies}) == len(replies)


def test_head_error_has_no_body(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "HEAD", rawhttp.key_path(bucket, "missing"))
    assert reply.status == 404
    assert reply.body == b""


def test_invalid_max_keys(server: NuageServer, bucket: str) -> None:
    assert_s3_error(rawhttp.request(server, "GET", f"/{bucket}?list-type=2&max-keys=abc"), 400, "InvalidArgument")


def test_invalid_x_amz_date(server: NuageServer, bucket: str) -> None:
    headers = rawhttp.sign(server, "GET", f"/{bucket}")
    headers["X-Amz-Date"] = "Bad Date"
    reply = rawhttp.request(server, "GET", f"/{bucket}", headers=headers, signed=False)
    assert_s3_error(reply, 403, "AccessDenied")


def test_invalid_date_sigv2(server: NuageServer, bucket: str) -> None:
    headers = rawhttp.sign(server, "GET", f"/{bucket}", signer="v2")
    headers["Date"] = "Bad Date"
    reply = rawhttp.request(server, "GET", f"/{bucket}", headers=headers, signed=False)
    assert_s3_error(reply, 403, "AccessDenied")


def test_user_metadata_too_large(s3: Any, bucket: str) -> None:
    assert_error(s3.put_object, "MetadataTooLarge", 400, Bucket=bucket, Key="m", Body=b"x",
                 Metadata={"big": "v" * 2100})


def test_entity_too_large_single_put(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "huge")
    size = 5 * 1024**3 + 1
    headers = rawhttp.sign(server, "PUT", path, payload_hash="UNSIGNED-PAYLOAD")
    conn = rawhttp.connection(server, timeout=5)  # AWS answers from the headers, without reading 5 GiB
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(size))
        conn.endheaders()
        conn.send(b"x" * 65536)
        resp = conn.getresponse()
        reply = rawhttp.Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()
    assert_s3_error(reply, 400, "EntityTooLarge")


def test_truncated_body_stores_nothing(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "truncated")
    body = b"z" * 100_000
    headers = rawhttp.sign(server, "PUT", path, body=body)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        head = f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body[:40_000])
        time.sleep(0.2)
    finally:
        sock.close()
    time.sleep(0.3)
    assert rawhttp.request(server, "HEAD", path).status == 404


@pytest.mark.parametrize("first", ["no-bucket", "no-upload", "bad-part-number"])
def test_error_before_body_keeps_connection_usable(server: NuageServer, bucket: str, first: str) -> None:
    """An error answered before the body is read must not leave that body on a kept-alive connection."""
    bad_path = {
        "no-bucket": rawhttp.key_path("no-such-bucket-zz-1", "k"),
        "no-upload": rawhttp.key_path(bucket, "k", "partNumber=1&uploadId=nonexistent"),
        "bad-part-number": rawhttp.key_path(bucket, "k", "partNumber=0&uploadId=nonexistent"),
    }[first]
    conn = rawhttp.connection(server)
    try:
        for path, ok in [(bad_path, False), (rawhttp.key_path(bucket, "after-error"), True)]:
            body = b"b" * 50_000
            headers = rawhttp.sign(server, "PUT", path, body=body)
            conn.putrequest("PUT", path, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            assert (resp.status == 200) is ok, (resp.status, data)
            assert data.startswith(b"<?xml") or ok, data
            if resp.getheader("connection", "").lower() == "close":
                conn.close()
    finally:
        conn.close()


def test_method_not_allowed_is_xml(server: NuageServer) -> None:
    reply = rawhttp.request(server, "POST", "/")
    assert reply.status in (400, 405)
    assert reply.xml().findtext("Code")
