"""Range reads and conditional GET/HEAD, as the AWS S3 API reference describes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import assert_error, client_error
from tests.support import rawhttp
from tests.support.server import NuageServer

DATA = bytes(range(256)) * 4  # 1024 bytes


@pytest.fixture
def obj(s3: Any, bucket: str) -> tuple[str, str, str, datetime]:
    put = s3.put_object(Bucket=bucket, Key="r", Body=DATA)
    head = s3.head_object(Bucket=bucket, Key="r")
    return bucket, "r", put["ETag"], head["LastModified"]


@pytest.mark.parametrize(("spec", "start", "end"), [
    ("bytes=0-0", 0, 0),
    ("bytes=0-9", 0, 9),
    ("bytes=100-199", 100, 199),
    ("bytes=1000-", 1000, 1023),
    ("bytes=1000-5000", 1000, 1023),  # end past the object is clipped
    ("bytes=-24", 1000, 1023),
    ("bytes=-1", 1023, 1023),
    ("bytes=-262144", 0, 1023),       # suffix longer than the object: the whole object, still 206
    ("bytes=0-", 0, 1023),
])
def test_ranges(s3: Any, obj: tuple[str, str, str, datetime], spec: str, start: int, end: int) -> None:
    bucket, key, etag, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, Range=spec)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(DATA)}"
    assert got["ContentLength"] == end - start + 1
    assert got["Body"].read() == DATA[start:end + 1]
    assert got["ETag"] == etag


def test_range_on_head(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, _, _ = obj
    head = s3.head_object(Bucket=bucket, Key=key, Range="bytes=10-19")
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert head["ContentLength"] == 10
    assert head["ContentRange"] == "bytes 10-19/1024"


@pytest.mark.parametrize("spec", ["bytes=1024-", "bytes=2000-3000", "bytes=1024-1024"])
def test_unsatisfiable_range(server: NuageServer, obj: tuple[str, str, str, datetime], spec: str) -> None:
    bucket, key, _, _ = obj
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, key), headers={"Range": spec})
    assert reply.status == 416
    assert reply.code == "InvalidRange"
    assert reply.header("content-range") == "bytes */1024"
    assert reply.xml().findtext("ActualObjectSize") == "1024"


def test_unsatisfiable_range_boto(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, _, _ = obj
    assert_error(s3.get_object, "InvalidRange", 416, Bucket=bucket, Key=key, Range="bytes=5000-")


def test_range_on_empty_object(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "empty"), headers={"Range": "bytes=0-"})
    assert reply.status == 416
    assert reply.header("content-range") == "bytes */0"


def test_if_match(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, etag, _ = obj
    assert s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read() == DATA
    assert s3.get_object(Bucket=bucket, Key=key, IfMatch=etag.strip('"'))["Body"].read() == DATA
    assert s3.get_object(Bucket=bucket, Key=key, IfMatch="*")["Body"].read() == DATA
    assert_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key=key, IfMatch='"nope"')
    assert_error(s3.head_object, "412", 412, Bucket=bucket, Key=key, IfMatch='"nope"')


def test_if_none_match(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, etag, _ = obj
    err = client_error(s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=etag)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["etag"] == etag
    err = client_error(s3.head_object, Bucket=bucket, Key=key, IfNoneMatch=etag)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket=bucket, Key=key, IfNoneMatch='"other"')["Body"].read() == DATA


def test_304_has_no_body(server: NuageServer, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, etag, _ = obj
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, key), headers={"If-None-Match": etag})
    assert reply.status == 304
    assert reply.body == b""
    assert reply.header("etag") == etag
    assert reply.header("last-modified")


def test_304_keeps_the_connection(server: NuageServer, obj: tuple[str, str, str, datetime]) -> None:
    """A 304 is a whole answer: the connection carries the next request (the server once wrote an error
    document after the 304's head, which made the HTTP server drop the connection)."""
    bucket, key, etag, _ = obj
    path = rawhttp.key_path(bucket, key)
    conn = rawhttp.connection(server)
    sock = None
    try:
        for condition, status, body in (({"If-None-Match": etag}, 304, b""), ({}, 200, DATA),
                                        ({"If-None-Match": etag}, 304, b""), ({}, 200, DATA)):
            conn.request("GET", path, headers=rawhttp.sign(server, "GET", path, headers=condition))
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (status, body)
            assert resp.getheader("connection") != "close"
            sock = sock or conn.sock
            assert conn.sock is sock              # the same connection throughout
    finally:
        conn.close()


def test_if_modified_since(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, _, modified = obj
    assert s3.get_object(Bucket=bucket, Key=key, IfModifiedSince=modified - timedelta(days=1))["Body"].read()
    err = client_error(s3.get_object, Bucket=bucket, Key=key, IfModifiedSince=modified)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_if_unmodified_since(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, _, modified = obj
    assert s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=modified + timedelta(days=1))["Body"].read()
    assert s3.get_object(Bucket=bucket, Key=key, IfUnmodifiedSince=modified)["Body"].read()
    assert_error(s3.get_object, "PreconditionFailed", 412, Bucket=bucket, Key=key,
                 IfUnmodifiedSince=modified - timedelta(days=1))


def test_precedence_if_match_true_wins_over_unmodified_since_false(
        s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    # AWS: If-Match true and If-Unmodified-Since false -> 200
    bucket, key, etag, modified = obj
    got = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, IfUnmodifiedSince=modified - timedelta(days=1))
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_precedence_if_none_match_false_and_modified_since_true(
        s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    # AWS: If-None-Match false and If-Modified-Since true -> 304
    bucket, key, etag, modified = obj
    err = client_error(s3.get_object, Bucket=bucket, Key=key, IfNoneMatch=etag,
                       IfModifiedSince=modified - timedelta(days=1))
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_if_match_failure_beats_range(server: NuageServer, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, _, _ = obj
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, key),
                            headers={"If-Match": '"nope"', "Range": "bytes=0-1"})
    assert (reply.status, reply.code) == (412, "PreconditionFailed")


def test_conditional_with_range(s3: Any, obj: tuple[str, str, str, datetime]) -> None:
    bucket, key, etag, _ = obj
    got = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag, Range="bytes=0-3")
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == DATA[:4]


def test_conditionals_on_missing_key(s3: Any, bucket: str) -> None:
    assert_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="none", IfMatch='"x"')
