"""SigV4 Authorization-header authentication: AWS vectors, botocore-signed requests, error codes."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.auth
import botocore.crt.auth
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from tests.unit.sigv4_data import AK, CANONICAL_EXTRA_KEYS, ENDPOINT, SECRET, TRICKY_KEYS

from nuage.s3.errors import from_auth
from nuage.sigv4 import (
    AuthError,
    AuthResult,
    ChunkSigningContext,
    RequestView,
    Trailers,
    authenticate,
    decode_aws_chunked,
)

EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
DOC_NOW = datetime(2013, 5, 24, 0, 0, 30, tzinfo=UTC)
FIXED = datetime(2024, 2, 29, 23, 59, 50)  # naive UTC, as botocore's clock returns it
FIXED_NOW = FIXED.replace(tzinfo=UTC) + timedelta(seconds=3)

KEYS = [*TRICKY_KEYS, *CANONICAL_EXTRA_KEYS, "..", "./x/../y"]


def lookup(access_key: str) -> str | None:
    return {AK: SECRET, "AKOTHER": "other-secret"}.get(access_key)


def view(
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    now: datetime = DOC_NOW,
) -> RequestView:
    return RequestView(method, path, query, headers, now)


def auth_header(
    signature: str, signed: str, credential: str = f"{AK}/20130524/us-east-1/s3/aws4_request"
) -> str:
    return f"AWS4-HMAC-SHA256 Credential={credential},SignedHeaders={signed},Signature={signature}"


def doc_get(**overrides: str) -> list[tuple[str, str]]:
    """The AWS documentation 'GET Object' example (signature f0e8bd...)."""
    values = {
        "host": "examplebucket.s3.amazonaws.com",
        "range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY,
        "x-amz-date": "20130524T000000Z",
        "authorization": auth_header(
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            "host;range;x-amz-content-sha256;x-amz-date",
        ),
    }
    values.update(overrides)
    return [(name, value) for name, value in values.items() if value != "<drop>"]


def expect_error(req: RequestView, code: str, message: str | None = None, **kwargs: Any) -> AuthError:
    kwargs.setdefault("region", "us-east-1")
    with pytest.raises(AuthError) as info:
        authenticate(req, lookup, **kwargs)
    assert from_auth(info.value).code == code, info.value
    if message is not None:
        assert message in info.value.message
    return info.value


# --------------------------------------------------------------------------- AWS documentation vectors


def test_doc_get_object_with_range() -> None:
    result = authenticate(view("GET", "/test.txt", "", doc_get()), lookup, region="us-east-1")
    assert result == AuthResult(AK, "v4", False, EMPTY, None)


def test_doc_put_object_with_date_and_escaped_key() -> None:
    body_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    headers = [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", body_hash),
        (
            "authorization",
            auth_header(
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
            ),
        ),
    ]
    result = authenticate(view("PUT", "/test%24file.text", "", headers), lookup, region="us-east-1")
    assert result.payload_hash == body_hash
    # '$' left unencoded by the client canonicalises to the same %24.
    assert (
        authenticate(view("PUT", "/test$file.text", "", headers), lookup, region="us-east-1").access_key == AK
    )


@pytest.mark.parametrize(
    ("query", "signature"),
    [
        ("lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
        ("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
        ("prefix=J&max-keys=2", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
    ],
)
def test_doc_bucket_requests_with_query(query: str, signature: str) -> None:
    headers = [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY),
        ("authorization", auth_header(signature, "host;x-amz-content-sha256;x-amz-date")),
    ]
    assert authenticate(view("GET", "/", query, headers), lookup, region="us-east-1").access_key == AK


def test_doc_streaming_put_returns_chunk_context() -> None:
    headers = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        (
            "authorization",
            auth_header(
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                "x-amz-decoded-content-length;x-amz-storage-class",
            ),
        ),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
    ]
    result = authenticate(
        view("PUT", "/examplebucket/chunkObject.txt", "", headers), lookup, region="us-east-1"
    )
    assert result.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    ctx = result.chunk_context
    assert isinstance(ctx, ChunkSigningContext)
    assert ctx.amz_date == "20130524T000000Z"
    assert ctx.scope == "20130524/us-east-1/s3/aws4_request"
    assert ctx.seed_signature == "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    assert len(ctx.signing_key) == 32


# --------------------------------------------------------------------------- botocore-signed requests


class _Raw:
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b""


class Capture:
    """A boto3 S3 client whose requests are captured instead of sent."""

    def __init__(self, endpoint: str = ENDPOINT, region: str = "us-east-1", **config: Any) -> None:
        self.requests: list[Any] = []
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=AK,
            aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
        )
        self.client.meta.events.register("before-send.s3", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        return AWSResponse(request.url, 200, {}, _Raw())

    def call(self, operation: str, **params: Any) -> Any:
        try:
            getattr(self.client, operation)(**params)
        except Exception as exc:  # an empty fake response may not parse; the request was captured
            if not self.requests:
                raise AssertionError(f"{operation} sent nothing") from exc
        return self.requests[-1]


def to_view(request: Any, now: datetime = FIXED_NOW) -> tuple[RequestView, bytes]:
    split = urlsplit(request.url)
    headers = [
        (name.lower(), value.decode("utf-8") if isinstance(value, bytes) else str(value))
        for name, value in request.headers.items()
    ]
    if not any(name == "host" for name, _ in headers):  # added on the wire by the HTTP client
        headers.append(("host", split.netloc))
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    return RequestView(request.method, split.path, split.query, headers, now), body or b""


def _fixed_clock(remove_tzinfo: bool = True) -> datetime:
    return FIXED if remove_tzinfo else FIXED.replace(tzinfo=UTC)


@pytest.fixture(params=["crt", "python"])
def frozen(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeze botocore's clock; run once with the CRT signers and once with the pure-Python ones."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", _fixed_clock)
    monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", _fixed_clock)
    if request.param == "python":
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "v4", botocore.auth.SigV4Auth)
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "v4-query", botocore.auth.SigV4QueryAuth)
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4", botocore.auth.S3SigV4Auth)
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4-query", botocore.auth.S3SigV4QueryAuth)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
def test_botocore_object_operations(key: str) -> None:
    cap = Capture()
    requests = [
        cap.call("put_object", Bucket="bucket", Key=key, Body=b"some data"),
        cap.call("get_object", Bucket="bucket", Key=key),
        cap.call("head_object", Bucket="bucket", Key=key),
        cap.call("delete_object", Bucket="bucket", Key=key, VersionId="v+1/=="),
        cap.call(
            "get_object",
            Bucket="bucket",
            Key=key,
            Range="bytes=0-10",
            ResponseContentType="text/plain; charset=utf-8",
            ResponseContentDisposition=f'attachment; filename="{key}"',
        ),
        cap.call(
            "put_object",
            Bucket="bucket",
            Key=key,
            Body=io.BytesIO(b"stream"),
            ContentType="text/x  y",
            Metadata={"note": "  spaced   value  ", "ü": "x"},
            CacheControl="max-age=1,  public",
        ),
        cap.call("copy_object", Bucket="bucket", Key=key, CopySource={"Bucket": "src", "Key": key}),
        cap.call(
            "put_object_tagging", Bucket="bucket", Key=key, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
        ),
    ]
    for request in requests:
        req, _ = to_view(request)
        result = authenticate(req, lookup, region="us-east-1")
        assert result.access_key == AK
        assert result.version == "v4"
        assert not result.presigned


@pytest.mark.usefixtures("frozen")
def test_botocore_bucket_operations() -> None:
    cap = Capture()
    requests = [
        cap.call("list_buckets"),
        cap.call("create_bucket", Bucket="bucket"),
        cap.call(
            "list_objects_v2",
            Bucket="bucket",
            Prefix="a b/ü+%=&",
            Delimiter="/",
            StartAfter="x~y*z",
            MaxKeys=7,
        ),
        cap.call("list_objects", Bucket="bucket", Prefix="p", Marker="m m", EncodingType="url"),
        cap.call("list_object_versions", Bucket="bucket", Prefix="+"),
        cap.call("create_multipart_upload", Bucket="bucket", Key="big file"),
        cap.call(
            "upload_part", Bucket="bucket", Key="big file", PartNumber=3, UploadId="abc/def+ghi==", Body=b"x"
        ),
        cap.call(
            "delete_objects",
            Bucket="bucket",
            Delete={"Objects": [{"Key": "a b"}, {"Key": "c&d"}]},
        ),
        cap.call("get_bucket_location", Bucket="bucket"),
        cap.call("put_bucket_versioning", Bucket="bucket", VersioningConfiguration={"Status": "Enabled"}),
        cap.call("delete_bucket", Bucket="bucket"),
    ]
    for request in requests:
        req, _ = to_view(request)
        assert authenticate(req, lookup, region="us-east-1").access_key == AK, request.url


@pytest.mark.usefixtures("frozen")
def test_botocore_https_put_uses_unsigned_trailer() -> None:
    cap = Capture(endpoint="https://127.0.0.1:9000")
    req, body = to_view(cap.call("put_object", Bucket="b", Key="k y", Body=b"hello"))
    result = authenticate(req, lookup, region="us-east-1")
    assert result.payload_hash == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert result.chunk_context is None
    assert body.startswith(b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:")

    payload = bytes(range(256)) * 5000  # > 1 MiB: botocore sends several chunks
    req, body = to_view(cap.call("put_object", Bucket="b", Key="big", Body=io.BytesIO(payload)))
    result = authenticate(req, lookup, region="us-east-1")
    assert result.payload_hash is not None
    trailers = Trailers()

    async def decode() -> bytes:
        async def pieces() -> AsyncIterator[bytes]:
            for i in range(0, len(body), 1000):
                yield body[i : i + 1000]

        out = bytearray()
        async for data in decode_aws_chunked(
            pieces(), mode=result.payload_hash or "", ctx=None, trailers=trailers
        ):
            out += data
        return bytes(out)

    assert asyncio.run(decode()) == payload
    expected_crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    assert trailers.values == {"x-amz-checksum-crc32": expected_crc}
    assert dict(req.headers)["x-amz-decoded-content-length"] == str(len(payload))


@pytest.mark.usefixtures("frozen")
def test_botocore_other_region() -> None:
    cap = Capture(region="eu-west-3")
    req, _ = to_view(cap.call("get_object", Bucket="b", Key="k"))
    assert authenticate(req, lookup, region="eu-west-3").access_key == AK
    err = expect_error(
        req, "AuthorizationHeaderMalformed", "the region 'eu-west-3' is wrong; expecting 'us-east-1'"
    )
    assert err.details["Region"] == "us-east-1"
    # us-east-1 requests are only accepted when the server region is us-east-1
    cap = Capture(region="us-east-1")
    req, _ = to_view(cap.call("get_object", Bucket="b", Key="k"))
    expect_error(req, "AuthorizationHeaderMalformed", "expecting 'eu-west-3'", region="eu-west-3")


def _sign_request(
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    service: str = "s3",
    region: str = "us-east-1",
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, headers=headers or {}, data=body)
    signer_cls = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer_cls(Credentials(AK, SECRET), service, region).add_auth(request)
    return request


@pytest.mark.usefixtures("frozen")
def test_header_values_are_trimmed_and_collapsed() -> None:
    request = _sign_request(
        "PUT",
        f"{ENDPOINT}/b/k",
        {"X-Amz-Meta-A": "  lots   of\t spaces  ", "Content-Type": " text/plain ", "X-Amz-Meta-B": "x"},
        b"body",
    )
    req, _ = to_view(request)
    assert authenticate(req, lookup, region="us-east-1").payload_hash is not None
    # A proxy that re-spaces a header value does not break the signature...
    respaced = [(n, "lots of spaces" if n == "x-amz-meta-a" else v) for n, v in req.headers]
    assert authenticate(
        RequestView(req.method, req.raw_path, "", respaced, req.now), lookup, region="us-east-1"
    )
    # ...but changing a signed value does.
    changed = [(n, "other" if n == "x-amz-meta-b" else v) for n, v in req.headers]
    expect_error(RequestView(req.method, req.raw_path, "", changed, req.now), "SignatureDoesNotMatch")


@pytest.mark.usefixtures("frozen")
def test_repeated_headers_are_joined_with_commas() -> None:
    request = _sign_request("GET", f"{ENDPOINT}/b/k")
    request.headers.add_header("X-Amz-Meta-Rep", "one")
    request.headers.add_header("X-Amz-Meta-Rep", " two ")
    del request.headers["Authorization"]
    botocore.auth.S3SigV4Auth(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(request)
    req, _ = to_view(request)
    assert [v for n, v in req.headers if n == "x-amz-meta-rep"] == ["one", " two "]
    assert authenticate(req, lookup, region="us-east-1").access_key == AK
    swapped = [(n, v) for n, v in req.headers if n != "x-amz-meta-rep"] + [
        ("x-amz-meta-rep", " two "),
        ("x-amz-meta-rep", "one"),
    ]
    expect_error(RequestView("GET", req.raw_path, "", swapped, req.now), "SignatureDoesNotMatch")


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    "params",
    [
        {"prefix": "a b", "delimiter": "/"},
        {"prefix": "ü+%&=~*", "list-type": "2"},
        {"marker": "", "uploads": ""},
        {"response-content-disposition": 'attachment; filename="a b.txt"'},
    ],
)
def test_query_params_signed_by_botocore(params: dict[str, str]) -> None:
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/b", params=params)
    botocore.auth.S3SigV4Auth(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    req, _ = to_view(prepared)
    assert authenticate(req, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_path_left_unencoded_by_client_is_canonicalised() -> None:
    request = _sign_request("GET", f"{ENDPOINT}/b/a%3Db%2Bc%40d%21e%24f%27%28%29%2A%2C%3B%3A")
    req, _ = to_view(request)
    assert req.raw_path == "/b/a%3Db%2Bc%40d%21e%24f%27%28%29%2A%2C%3B%3A"
    raw = RequestView("GET", "/b/a=b+c@d!e$f'()*,;:", "", req.headers, req.now)
    assert authenticate(raw, lookup, region="us-east-1").access_key == AK
    lower = RequestView("GET", "/b/a%3db%2bc%40d%21e%24f%27%28%29%2a%2c%3b%3a", "", req.headers, req.now)
    assert authenticate(lower, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_query_left_unencoded_by_client_is_canonicalised() -> None:
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/b", params={"prefix": "a/b:c@d", "x": "ü"})
    botocore.auth.S3SigV4Auth(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(request)
    req, _ = to_view(request.prepare())
    raw = RequestView("GET", "/b", "x=%c3%bc&prefix=a/b:c@d", req.headers, req.now)
    assert authenticate(raw, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_client_signing_the_raw_path_verbatim_is_accepted() -> None:
    # Some clients sign the path exactly as they send it, e.g. with an escaped unreserved char.
    request = _sign_request("GET", f"{ENDPOINT}/b/%41")
    req, _ = to_view(request)
    assert authenticate(req, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_plus_in_query_signed_as_space_is_accepted() -> None:
    request = AWSRequest(method="GET", url=f"{ENDPOINT}/b", params={"prefix": "a b"})
    botocore.auth.S3SigV4Auth(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(request)
    req, _ = to_view(request.prepare())
    plus = RequestView("GET", "/b", "prefix=a+b", req.headers, req.now)
    assert authenticate(plus, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_date_header_instead_of_x_amz_date() -> None:
    request = _sign_request("GET", f"{ENDPOINT}/b/k", {"Date": "whatever"})
    req, _ = to_view(request)
    names = [name for name, _ in req.headers]
    assert "date" in names
    assert "x-amz-date" not in names
    assert authenticate(req, lookup, region="us-east-1").access_key == AK


@pytest.mark.usefixtures("frozen")
def test_other_services_and_body_hash() -> None:
    request = _sign_request(
        "POST",
        "http://127.0.0.1:9000/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"Action=ListUsers&Version=2010-05-08",
        service="iam",
        region="us-east-1",
    )
    req, body = to_view(request)
    services = frozenset({"s3", "iam", "sts"})
    expect_error(req, "AuthorizationHeaderMalformed", 'incorrect service "iam"', region="eu-west-1")
    # IAM requests carry no x-amz-content-sha256: the caller must hash the body.
    expect_error(req, "InvalidRequest", "x-amz-content-sha256", region="eu-west-1", services=services)
    digest = hashlib.sha256(body).hexdigest()
    result = authenticate(req, lookup, region="eu-west-1", services=services, body_sha256=digest)
    assert result.payload_hash == digest
    wrong = hashlib.sha256(b"other").hexdigest()
    expect_error(req, "SignatureDoesNotMatch", region="eu-west-1", services=services, body_sha256=wrong)

    sts = _sign_request("POST", "http://127.0.0.1:9000/", {}, b"Action=GetCallerIdentity", "sts", "eu-west-1")
    req, body = to_view(sts)
    result = authenticate(
        req, lookup, region="eu-west-1", services=services, body_sha256=hashlib.sha256(body).hexdigest()
    )
    assert result.access_key == AK


# --------------------------------------------------------------------------- error codes


def test_anonymous() -> None:
    req = view("GET", "/bucket/key", "versionId=1", [("host", "h")])
    assert authenticate(req, lookup, region="us-east-1") == AuthResult(None, "anonymous", False, None, None)


def test_bad_signature() -> None:
    bad = auth_header("0" * 64, "host;range;x-amz-content-sha256;x-amz-date")
    err = expect_error(view("GET", "/test.txt", "", doc_get(authorization=bad)), "SignatureDoesNotMatch")
    assert from_auth(err).status == 403
    assert err.details["StringToSign"].startswith("AWS4-HMAC-SHA256\n20130524T000000Z\n")
    assert "CanonicalRequest" in err.details


@pytest.mark.parametrize(
    "req",
    [
        view("GET", "/test.txt2", "", doc_get()),
        view("GET", "/test.txt", "x=1", doc_get()),
        view("PUT", "/test.txt", "", doc_get()),
        view("GET", "/test.txt", "", doc_get(range="bytes=0-10")),
        view("GET", "/test.txt", "", doc_get(range="<drop>")),
        view("GET", "/test.txt", "", doc_get(host="evil.example.com")),
    ],
)
def test_tampered_requests(req: RequestView) -> None:
    expect_error(req, "SignatureDoesNotMatch")


def test_non_ascii_signature_does_not_crash() -> None:
    bad = auth_header("é" * 64, "host;range;x-amz-content-sha256;x-amz-date")
    expect_error(view("GET", "/test.txt", "", doc_get(authorization=bad)), "SignatureDoesNotMatch")


def test_unknown_access_key() -> None:
    header = auth_header(
        "f" * 64, "host;range;x-amz-content-sha256;x-amz-date", "NOPE/20130524/us-east-1/s3/aws4_request"
    )
    err = expect_error(view("GET", "/test.txt", "", doc_get(authorization=header)), "InvalidAccessKeyId")
    assert from_auth(err).status == 403


def test_other_users_secret_does_not_match() -> None:
    header = doc_get()[-1][1].replace(AK, "AKOTHER")
    expect_error(view("GET", "/test.txt", "", doc_get(authorization=header)), "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
            "three components",
        ),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc", "three components"),
        ("AWS4-HMAC-SHA256 ", "three components"),
        (
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, garbage, Signature=x",
            '"garbage"',
        ),
        (auth_header("a" * 64, "host", "AK/20130524/us-east-1/s3"), "Credential is mal-formed"),
        (auth_header("a" * 64, "host", "AK/2013052/us-east-1/s3/aws4_request"), "Credential is mal-formed"),
        (auth_header("a" * 64, "host", "/20130524/us-east-1/s3/aws4_request"), "Credential is mal-formed"),
        # an empty region is accepted for the global IAM service only
        (auth_header("a" * 64, "host", "AK/20130524//s3/aws4_request"), "Credential is mal-formed"),
        (
            auth_header("a" * 64, "host", "AK/20130524/us-east-1/s3/aws5_request"),
            'incorrect terminal "aws5_request"',
        ),
        (auth_header("a" * 64, "host", "AK/20130524/us-east-1/ec2/aws4_request"), 'incorrect service "ec2"'),
        (
            auth_header("a" * 64, "host", "AK/20130524/eu-west-1/s3/aws4_request"),
            "the region 'eu-west-1' is wrong",
        ),
        (auth_header("a" * 64, "host", "AK/20130523/us-east-1/s3/aws4_request"), "Invalid credential date"),
    ],
)
def test_malformed_authorization_header(authorization: str, message: str) -> None:
    err = expect_error(
        view("GET", "/test.txt", "", doc_get(authorization=authorization)),
        "AuthorizationHeaderMalformed",
        message,
    )
    assert from_auth(err).status == 400


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer abc",
        "AWS4-ECDSA-P256-SHA256 Credential=x, SignedHeaders=host, Signature=y",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_unsupported_authorization_type(authorization: str) -> None:
    expect_error(view("GET", "/k", "", [("authorization", authorization)]), "InvalidArgument", "Unsupported")


def test_empty_authorization_is_access_denied() -> None:
    expect_error(view("GET", "/k", "", [("authorization", "")]), "AccessDenied", "Access Denied")


def test_two_authorization_headers() -> None:
    headers = [*doc_get(), ("authorization", "AWS a:b")]
    expect_error(view("GET", "/test.txt", "", headers), "InvalidArgument", "Only one auth mechanism")


@pytest.mark.parametrize(
    "query",
    [
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Signature=abc",
        "X-Amz-Credential=abc",
        "AWSAccessKeyId=AK&Signature=x&Expires=1",
        "Signature=x",
    ],
)
def test_header_and_query_auth_together(query: str) -> None:
    err = expect_error(
        view("GET", "/test.txt", query, doc_get()), "InvalidArgument", "Only one auth mechanism"
    )
    assert err.details["ArgumentName"] == "Authorization"


def test_missing_date() -> None:
    req = view("GET", "/test.txt", "", doc_get(**{"x-amz-date": "<drop>"}))
    expect_error(req, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")


@pytest.mark.parametrize(
    "value", ["2013-05-24T00:00:00Z", "20130524T000000", "yesterday", "20131324T000000Z"]
)
def test_invalid_date(value: str) -> None:
    req = view("GET", "/test.txt", "", doc_get(**{"x-amz-date": value}))
    expect_error(req, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")


@pytest.mark.parametrize(
    ("delta", "max_skew", "ok"),
    [
        (timedelta(minutes=14, seconds=59), 900, True),
        (timedelta(minutes=-14, seconds=-59), 900, True),
        (timedelta(minutes=15, seconds=1), 900, False),
        (timedelta(minutes=-15, seconds=-1), 900, False),
        (timedelta(hours=5), 900, False),
        (timedelta(minutes=2), 60, False),
        (timedelta(hours=5), 6 * 3600, True),
    ],
)
def test_clock_skew(delta: timedelta, max_skew: int, ok: bool) -> None:
    req = view("GET", "/test.txt", "", doc_get(), now=datetime(2013, 5, 24, tzinfo=UTC) + delta)
    if ok:
        assert authenticate(req, lookup, region="us-east-1", max_skew_seconds=max_skew).access_key == AK
    else:
        err = expect_error(req, "RequestTimeTooSkewed", "too large", max_skew_seconds=max_skew)
        assert from_auth(err).status == 403
        assert err.details["RequestTime"] == "20130524T000000Z"


def test_naive_now_is_taken_as_utc() -> None:
    req = view("GET", "/test.txt", "", doc_get(), now=datetime(2013, 5, 24, 0, 1))
    assert authenticate(req, lookup, region="us-east-1").access_key == AK


def test_missing_content_sha256() -> None:
    req = view("GET", "/test.txt", "", doc_get(**{"x-amz-content-sha256": "<drop>"}))
    err = expect_error(
        req, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
    )
    assert from_auth(err).status == 400


@pytest.mark.parametrize(
    "value",
    ["abc", EMPTY.upper(), EMPTY + "0", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "unsigned-payload", ""],
)
def test_invalid_content_sha256(value: str) -> None:
    req = view("GET", "/test.txt", "", doc_get(**{"x-amz-content-sha256": value}))
    expect_error(req, "InvalidArgument", "x-amz-content-sha256 must be UNSIGNED-PAYLOAD")


@pytest.mark.parametrize(
    "mode",
    [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    ],
)
def test_streaming_requires_decoded_content_length(mode: str) -> None:
    req = view("PUT", "/test.txt", "", doc_get(**{"x-amz-content-sha256": mode}))
    err = expect_error(req, "MissingSecurityHeader", "missing a required header")
    assert err.details["MissingHeaderName"] == "x-amz-decoded-content-length"


def test_host_must_be_signed() -> None:
    header = auth_header("a" * 64, "range;x-amz-content-sha256;x-amz-date")
    err = expect_error(view("GET", "/test.txt", "", doc_get(authorization=header)), "AccessDenied")
    assert err.message == "There were headers present in the request which were not signed"
    assert err.details["HeadersNotSigned"] == "host"


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ([("x-amz-acl", "public-read")], "x-amz-acl"),
        ([("x-amz-copy-source", "/other/secret"), ("x-amz-meta-a", "b")], "x-amz-copy-source, x-amz-meta-a"),
        ([("x-amz-security-token", "t")], "x-amz-security-token"),
    ],
)
def test_unsigned_amz_headers_are_refused(extra: list[tuple[str, str]], names: str) -> None:
    """The AWS example request, valid as signed, with x-amz-* headers added that its signature does not
    cover: S3 answers AccessDenied and names them."""
    err = expect_error(view("GET", "/test.txt", "", [*doc_get(), *extra]), "AccessDenied")
    assert err.message == "There were headers present in the request which were not signed"
    assert err.details["HeadersNotSigned"] == names


def test_headers_other_than_amz_may_go_unsigned() -> None:
    extra = [("user-agent", "x"), ("x-amzn-trace-id", "Root=1"), ("expect", "100-continue"),
             ("amz-sdk-invocation-id", "i")]
    assert authenticate(view("GET", "/test.txt", "", [*doc_get(), *extra]), lookup, region="us-east-1").access_key == AK


class _ContentHashUnsigned(botocore.auth.S3SigV4Auth):
    """A signer that leaves x-amz-content-sha256 out of SignedHeaders (S3 accepts that: the value is
    signed anyway as the canonical request's payload hash)."""

    def headers_to_sign(self, request: Any) -> Any:
        headers = super().headers_to_sign(request)
        del headers["x-amz-content-sha256"]
        return headers


@pytest.mark.usefixtures("frozen")
def test_unsigned_content_sha256_is_accepted_and_still_bound() -> None:
    req = AWSRequest(method="PUT", url=f"{ENDPOINT}/bucket/key", data=b"data", headers={"x-amz-acl": "private"})
    _ContentHashUnsigned(Credentials(AK, SECRET), "s3", "us-east-1").add_auth(req)
    assert "x-amz-content-sha256" not in req.headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
    request_view, _ = to_view(req.prepare())
    result = authenticate(request_view, lookup, region="us-east-1")
    assert result.access_key == AK and result.payload_hash == hashlib.sha256(b"data").hexdigest()
    swapped = [(n, "UNSIGNED-PAYLOAD" if n == "x-amz-content-sha256" else v) for n, v in request_view.headers]
    expect_error(RequestView("PUT", request_view.raw_path, "", swapped, request_view.now), "SignatureDoesNotMatch")
