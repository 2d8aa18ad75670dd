"""SigV2 (HMAC-SHA1) authentication: AWS vectors, botocore HmacV1Auth / HmacV1QueryAuth, errors."""

from __future__ import annotations

import functools
import io
import types
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from tests.unit.sigv4_data import AK, ENDPOINT, SECRET, TRICKY_KEYS, lookup

from nuage.s3.errors import from_auth
from nuage.sigv4 import AuthError, AuthResult, RequestView, authenticate
from nuage.sigv4.v2 import SUBRESOURCES

SIGNED_AT = datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)
HTTP_DATE = "Tue, 31 Dec 2024 23:59:59 GMT"
KEYS = [*TRICKY_KEYS, "!*'()$@:;,"]



def expect_error(req: RequestView, code: str, message: str | None = None, **kwargs: Any) -> AuthError:
    kwargs.setdefault("region", "us-east-1")
    with pytest.raises(AuthError) as info:
        authenticate(req, lookup, **kwargs)
    assert from_auth(info.value).code == code, info.value
    if message is not None:
        assert message in info.value.message, info.value.message
    return info.value


# --------------------------------------------------------------------------- AWS documentation vectors


def doc(
    method: str,
    path: str,
    query: str,
    date: str,
    signature: str,
    extra: list[tuple[str, str]] | None = None,
) -> RequestView:
    now = datetime.strptime(date, "%a, %d %b %Y %H:%M:%S %z")
    headers = [("date", date), *(extra or []), ("authorization", f"AWS {AK}:{signature}")]
    return RequestView(method, path, query, headers, now)


@pytest.mark.parametrize(
    ("req", "bucket"),
    [
        (
            doc(
                "GET",
                "/photos/puppy.jpg",
                "",
                "Tue, 27 Mar 2007 19:36:42 +0000",
                "bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
            ),
            "johnsmith",
        ),
        (
            doc(
                "PUT",
                "/photos/puppy.jpg",
                "",
                "Tue, 27 Mar 2007 21:15:45 +0000",
                "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
                [("content-type", "image/jpeg"), ("content-length", "94328")],
            ),
            "johnsmith",
        ),
        (
            doc(
                "GET",
                "/",
                "prefix=photos&max-keys=50&marker=puppy",
                "Tue, 27 Mar 2007 19:42:41 +0000",
                "htDYFYduRNen8P9ZfE/s9SuKy0U=",
                [("user-agent", "Mozilla/5.0")],
            ),
            "johnsmith",
        ),
        (
            doc("GET", "/", "acl", "Tue, 27 Mar 2007 19:44:46 +0000", "c2WLPFtWHVgbEmeEG93a4cG37dM="),
            "johnsmith",
        ),
        (
            doc(
                "PUT",
                "/db-backup.dat.gz",
                "",
                "Tue, 27 Mar 2007 21:06:08 +0000",
                "ilyl83RwaSoYIEdixDQcA4OnAnc=",
                [
                    ("x-amz-acl", "public-read"),
                    ("content-type", "application/x-download"),
                    ("content-md5", "4gJE4saaMU4BqNR0kLY+lw=="),
                    ("x-amz-meta-reviewedby", "joe@johnsmith.net"),
                    ("x-amz-meta-reviewedby", "jane@johnsmith.net"),
                    ("x-amz-meta-filechecksum", "0x02661779"),
                    ("x-amz-meta-checksumalgorithm", "crc32"),
                    ("content-disposition", "attachment; filename=database.dat"),
                    ("content-encoding", "gzip"),
                ],
            ),
            "static.johnsmith.net",
        ),
        (doc("GET", "/", "", "Wed, 28 Mar 2007 01:29:59 +0000", "qGdzdERIC03wnaRNKh6OqZehG9s="), None),
        (
            doc(
                "GET",
                "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re",
                "",
                "Wed, 28 Mar 2007 01:49:49 +0000",
                "DNEZGsoieTZ92F3bUfSPQcbGmlM=",
            ),
            None,
        ),
    ],
)
def test_doc_header_examples(req: RequestView, bucket: str | None) -> None:
    result = authenticate(req, lookup, region="us-east-1", vhost_bucket=bucket)
    assert result == AuthResult(AK, "v2", False, None, None)
    if bucket is not None:  # the bucket of a virtual-hosted request is part of the signed resource
        expect_error(req, "SignatureDoesNotMatch")


def test_doc_delete_with_x_amz_date() -> None:
    headers = [
        ("user-agent", "dotnet"),
        ("host", "s3.amazonaws.com"),
        ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ("authorization", f"AWS {AK}:lx3byBScXR6KzyMaifNkardMwNk="),
    ]
    now = datetime(2007, 3, 27, 21, 20, 30, tzinfo=UTC)
    req = RequestView("DELETE", "/johnsmith/photos/puppy.jpg", "", headers, now)
    assert authenticate(req, lookup, region="us-east-1").access_key == AK


def test_x_amz_date_empties_the_date_line() -> None:
    import base64
    import hashlib
    import hmac

    to_sign = "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg"
    signature = base64.b64encode(hmac.new(SECRET.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    headers = [
        ("date", "Tue, 27 Mar 2007 21:20:27 +0000"),
        ("x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"),
        ("authorization", f"AWS {AK}:{signature}"),
    ]
    now = datetime(2007, 3, 27, 21, 20, 30, tzinfo=UTC)
    req = RequestView("DELETE", "/johnsmith/photos/puppy.jpg", "", headers, now)
    assert authenticate(req, lookup, region="us-east-1").access_key == AK
    # x-amz-date drives the skew check, not Date
    late = RequestView("DELETE", "/johnsmith/photos/puppy.jpg", "", headers, now + timedelta(minutes=16))
    expect_error(late, "RequestTimeTooSkewed")


def test_doc_presigned_example() -> None:
    query = (
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620"
    )
    now = datetime(2007, 3, 29, 3, 40, 19, tzinfo=UTC)
    req = RequestView("GET", "/photos/puppy.jpg", query, [("host", "johnsmith.s3.amazonaws.com")], now)
    result = authenticate(req, lookup, region="us-east-1", vhost_bucket="johnsmith")
    assert result == AuthResult(AK, "v2", True, None, None)
    late = RequestView("GET", "/photos/puppy.jpg", query, [], now + timedelta(seconds=2))
    err = expect_error(late, "AccessDenied", vhost_bucket="johnsmith")
    assert err.message == "Request has expired"


# --------------------------------------------------------------------------- botocore HmacV1Auth


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(botocore.auth, "formatdate", lambda *a, **k: HTTP_DATE)
    monkeypatch.setattr(botocore.auth, "time", types.SimpleNamespace(time=SIGNED_AT.timestamp))


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


@functools.lru_cache
def client() -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=AK,
        aws_secret_access_key=SECRET,
        config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def capture(operation: str, **params: Any) -> tuple[RequestView, Any]:
    sent: list[Any] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())

    s3 = client()
    s3.meta.events.register("before-send.s3", send)
    try:
        getattr(s3, operation)(**params)
    except Exception:  # noqa: BLE001 - an empty fake response may not parse; the request was captured
        pass
    finally:
        s3.meta.events.unregister("before-send.s3", send)
    request = sent[-1]
    split = urlsplit(request.url)
    headers = [
        (name.lower(), value.decode("utf-8") if isinstance(value, bytes) else str(value))
        for name, value in request.headers.items()
    ]
    headers.append(("host", split.netloc))
    return RequestView(
        request.method, split.path, split.query, headers, SIGNED_AT + timedelta(seconds=1)
    ), request


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
def test_botocore_v2_object_operations(key: str) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("put_object", {"Body": b"data"}),
        ("put_object", {"Body": io.BytesIO(b"x"), "ContentType": "text/plain", "Metadata": {"a": " b  c "}}),
        ("get_object", {}),
        ("get_object", {"VersionId": "v+1/==", "ResponseContentType": "text/x; q=1", "Range": "bytes=1-2"}),
        ("head_object", {"ResponseCacheControl": "no-cache"}),
        ("delete_object", {}),
        ("get_object_acl", {}),
        ("get_object_tagging", {"VersionId": "3"}),
        ("put_object_tagging", {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
        ("create_multipart_upload", {}),
        ("upload_part", {"PartNumber": 4, "UploadId": "up/+=", "Body": b"p"}),
        ("abort_multipart_upload", {"UploadId": "up/+="}),
        ("copy_object", {"CopySource": {"Bucket": "src", "Key": key}}),
    ]
    for operation, params in calls:
        req, request = capture(operation, Bucket="bucket", Key=key, **params)
        assert request.headers["Authorization"].startswith(
            b"AWS " if isinstance(request.headers["Authorization"], bytes) else "AWS "
        )
        result = authenticate(req, lookup, region="us-east-1")
        assert result == AuthResult(AK, "v2", False, None, None), (operation, req)


@pytest.mark.usefixtures("frozen")
def test_botocore_v2_bucket_operations() -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_buckets", {}),
        ("list_objects", {"Bucket": "b", "Prefix": "a b/ü", "Delimiter": "/", "Marker": "m+"}),
        ("list_objects_v2", {"Bucket": "b", "Prefix": "x"}),
        ("list_object_versions", {"Bucket": "b"}),
        ("list_multipart_uploads", {"Bucket": "b"}),
        ("get_bucket_versioning", {"Bucket": "b"}),
        ("get_bucket_location", {"Bucket": "b"}),
        ("get_bucket_policy", {"Bucket": "b"}),
        ("get_bucket_lifecycle_configuration", {"Bucket": "b"}),
        ("get_bucket_cors", {"Bucket": "b"}),
        ("delete_objects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}]}}),
        ("create_bucket", {"Bucket": "b"}),
        ("delete_bucket", {"Bucket": "b"}),
    ]
    for operation, params in calls:
        req, _ = capture(operation, **params)
        assert authenticate(req, lookup, region="us-east-1").version == "v2", operation


@pytest.mark.usefixtures("frozen")
def test_subresource_values_are_signed() -> None:
    req, _ = capture("get_object", Bucket="b", Key="k", VersionId="1")
    changed = RequestView(
        req.method, req.raw_path, req.raw_query.replace("versionId=1", "versionId=2"), req.headers, req.now
    )
    expect_error(changed, "SignatureDoesNotMatch")
    # parameters that are not sub-resources are not part of the V2 signature
    extra = RequestView(req.method, req.raw_path, req.raw_query + "&foo=bar", req.headers, req.now)
    assert authenticate(extra, lookup, region="us-east-1").access_key == AK
    assert {"acl", "uploadId", "versionId", "response-content-type", "tagging", "delete"} <= SUBRESOURCES


# --------------------------------------------------------------------------- botocore HmacV1QueryAuth


def presigned_v2(operation: str = "get_object", expires: int = 3600, **params: Any) -> str:
    params.setdefault("Bucket", "bucket")
    params.setdefault("Key", "key")
    url: str = client().generate_presigned_url(operation, Params=params, ExpiresIn=expires)
    return url


def url_view(
    url: str, method: str = "GET", now: datetime = SIGNED_AT, headers: list[tuple[str, str]] | None = None
) -> RequestView:
    split = urlsplit(url)
    return RequestView(method, split.path, split.query, [("host", split.netloc), *(headers or [])], now)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
def test_botocore_v2_presigned(key: str) -> None:
    for method, operation in (("GET", "get_object"), ("PUT", "put_object"), ("DELETE", "delete_object")):
        url = presigned_v2(operation, Key=key)
        assert "AWSAccessKeyId=" in url
        assert authenticate(url_view(url, method), lookup, region="us-east-1") == AuthResult(
            AK, "v2", True, None, None
        )


@pytest.mark.usefixtures("frozen")
def test_botocore_v2_presigned_with_params_and_headers() -> None:
    url = presigned_v2(VersionId="v 1", ResponseContentType="text/plain", ResponseContentDisposition="inline")
    assert authenticate(url_view(url), lookup, region="us-east-1").presigned
    url = presigned_v2("put_object", ContentType="text/csv", Metadata={"owner": "me"})
    query = parse_qs(urlsplit(url).query)
    assert query["x-amz-meta-owner"] == ["me"]
    assert query["content-type"] == ["text/csv"]
    # the client may or may not repeat those as real headers
    assert authenticate(url_view(url, "PUT"), lookup, region="us-east-1").presigned
    headers = [("content-type", "text/csv"), ("x-amz-meta-owner", "me")]
    assert authenticate(url_view(url, "PUT", headers=headers), lookup, region="us-east-1").presigned
    expect_error(url_view(url, "PUT", headers=[("content-type", "text/html")]), "SignatureDoesNotMatch")


@pytest.mark.usefixtures("frozen")
def test_v2_presigned_expiry() -> None:
    url = presigned_v2(expires=60)
    assert authenticate(url_view(url, now=SIGNED_AT + timedelta(seconds=60)), lookup, region="us-east-1")
    err = expect_error(url_view(url, now=SIGNED_AT + timedelta(seconds=61)), "AccessDenied")
    assert err.message == "Request has expired"
    # V2 URLs carry an absolute expiry: an early clock is fine
    assert authenticate(url_view(url, now=SIGNED_AT - timedelta(days=30)), lookup, region="us-east-1")


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("mutate", "code", "message"),
    [
        (
            lambda u: u.replace("Expires=", "Expired="),
            "AccessDenied",
            "requires the Signature, Expires and AWSAccessKeyId",
        ),
        (
            lambda u: u.replace("Signature=", "Sig="),
            "AccessDenied",
            "requires the Signature, Expires and AWSAccessKeyId",
        ),
        (
            lambda u: u.replace("AWSAccessKeyId=", "AWSAccessKeyId=NOPE"),
            "InvalidAccessKeyId",
            "does not exist",
        ),
        (lambda u: u + "&Expires=0", "AccessDenied", "parameter Expires is repeated"),
        (lambda u: u + "&acl", "SignatureDoesNotMatch", None),
        (lambda u: u.replace("/bucket/key", "/bucket/kez"), "SignatureDoesNotMatch", None),
        (
            lambda u: u.replace("Expires=", "Expires=x"),
            "AccessDenied",
            "Invalid date (should be seconds since epoch)",
        ),
    ],
)
def test_v2_presigned_errors(mutate: Any, code: str, message: str | None) -> None:
    expect_error(url_view(mutate(presigned_v2())), code, message)


# --------------------------------------------------------------------------- header errors


def signed_get(**overrides: str) -> RequestView:
    values = {
        "date": "Tue, 27 Mar 2007 19:36:42 +0000",
        "authorization": f"AWS {AK}:bWq2s1WEIj+Ydj0vQ697zp+IXMU=",
    }
    values.update(overrides)
    headers = [(name, value) for name, value in values.items() if value != "<drop>"]
    return RequestView(
        "GET", "/johnsmith/photos/puppy.jpg", "", headers, datetime(2007, 3, 27, 19, 40, tzinfo=UTC)
    )


def test_v2_path_style_doc_request() -> None:
    assert authenticate(signed_get(), lookup, region="us-east-1").version == "v2"


@pytest.mark.parametrize("value", ["AWS ", "AWS nocolon", "AWS :sig", f"AWS {AK}:", "AWS"])
def test_v2_malformed_header(value: str) -> None:
    err = expect_error(
        signed_get(authorization=value), "InvalidArgument", "AWS authorization header is invalid"
    )
    assert from_auth(err).status == 400


def test_v2_errors() -> None:
    expect_error(
        signed_get(authorization=f"AWS {AK}:AAAAbWq2s1WEIj+Ydj0vQ697zp+IX="), "SignatureDoesNotMatch"
    )
    expect_error(signed_get(authorization="AWS NOPE:bWq2s1WEIj+Ydj0vQ697zp+IXMU="), "InvalidAccessKeyId")
    expect_error(
        signed_get(date="<drop>"), "AccessDenied", "AWS authentication requires a valid Date or x-amz-date"
    )
    expect_error(signed_get(date="not a date"), "AccessDenied", "AWS authentication requires a valid Date")
    expect_error(signed_get(date="Tue, 27 Mar 2007 19:20:00 +0000"), "RequestTimeTooSkewed")
    skewed = signed_get()
    ok = RequestView(skewed.method, skewed.raw_path, "", skewed.headers, skewed.now)
    assert authenticate(ok, lookup, region="us-east-1", max_skew_seconds=300).access_key == AK
    expect_error(ok, "RequestTimeTooSkewed", max_skew_seconds=60)
    extra_amz = signed_get(**{"x-amz-meta-new": "1"})
    expect_error(extra_amz, "SignatureDoesNotMatch")
