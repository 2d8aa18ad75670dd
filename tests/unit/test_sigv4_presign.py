"""SigV4 presigned URLs: boto3-generated URLs, presign_v4 round trips, expiry and query errors."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import botocore.auth
import botocore.crt.auth
import pytest
from botocore.config import Config
from tests.unit.sigv4_data import AK, ENDPOINT, SECRET, TRICKY_KEYS, lookup

from nuage.s3.errors import from_auth
from nuage.sigv4 import AuthError, AuthResult, RequestView, authenticate, presign_v4

FIXED = datetime(2024, 12, 31, 23, 59, 59)  # naive UTC, as botocore's clock returns it
SIGNED_AT = FIXED.replace(tzinfo=UTC)
DOC_URL = (
    "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)
KEYS = [*TRICKY_KEYS, "!*'()$@:;,", '[]{}|^`"<>\\']



def url_view(
    url: str,
    method: str = "GET",
    now: datetime = SIGNED_AT + timedelta(seconds=5),
    headers: list[tuple[str, str]] | None = None,
) -> RequestView:
    split = urlsplit(url)
    return RequestView(method, split.path, split.query, [("host", split.netloc), *(headers or [])], now)


def expect_error(req: RequestView, code: str, message: str | None = None, **kwargs: Any) -> AuthError:
    kwargs.setdefault("region", "us-east-1")
    with pytest.raises(AuthError) as info:
        authenticate(req, lookup, **kwargs)
    assert from_auth(info.value).code == code, info.value
    if message is not None:
        assert message in info.value.message, info.value.message
    return info.value


def _fixed_clock(remove_tzinfo: bool = True) -> datetime:
    return FIXED if remove_tzinfo else SIGNED_AT


@pytest.fixture(params=["crt", "python"])
def frozen(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Freeze botocore's clock; run once with the CRT signers and once with the pure-Python ones."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", _fixed_clock)
    monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", _fixed_clock)
    if request.param == "python":
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4", botocore.auth.S3SigV4Auth)
        monkeypatch.setitem(botocore.auth.AUTH_TYPE_MAPS, "s3v4-query", botocore.auth.S3SigV4QueryAuth)


@functools.lru_cache
def client(region: str = "us-east-1") -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=region,
        aws_access_key_id=AK,
        aws_secret_access_key=SECRET,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def presigned(method: str = "get_object", expires: int = 3600, **params: Any) -> str:
    params.setdefault("Bucket", "bucket")
    params.setdefault("Key", "key")
    if params["Key"] is None:
        del params["Key"]
    url: str = client().generate_presigned_url(method, Params=params, ExpiresIn=expires)
    return url


def replace_param(url: str, name: str, value: str | None) -> str:
    split = urlsplit(url)
    pieces = [p for p in split.query.split("&") if p.split("=", 1)[0] != name]
    if value is not None:
        pieces.append(f"{name}={value}")
    return split._replace(query="&".join(pieces)).geturl()


# --------------------------------------------------------------------------- AWS documentation vector


def test_doc_presigned_get() -> None:
    req = url_view(DOC_URL, now=datetime(2013, 5, 24, 12, tzinfo=UTC))
    assert authenticate(req, lookup, region="us-east-1") == AuthResult(
        AK, "v4", True, "UNSIGNED-PAYLOAD", None
    )


def test_presign_v4_reproduces_doc_vector() -> None:
    url = presign_v4(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        AK,
        SECRET,
        "us-east-1",
        86400,
        datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert url == DOC_URL


# --------------------------------------------------------------------------- boto3 generate_presigned_url


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", KEYS)
def test_boto3_presigned_get_and_put(key: str) -> None:
    for method, operation in (("GET", "get_object"), ("PUT", "put_object"), ("HEAD", "head_object")):
        url = presigned(operation, Key=key)
        result = authenticate(url_view(url, method), lookup, region="us-east-1")
        assert result == AuthResult(AK, "v4", True, "UNSIGNED-PAYLOAD", None)


@pytest.mark.usefixtures("frozen")
def test_boto3_presigned_with_query_params() -> None:
    urls = [
        (
            "GET",
            presigned(
                Key="a b/ü",
                VersionId="v+1/==",
                ResponseContentType="text/plain; charset=utf-8",
                ResponseContentDisposition='attachment; filename="a b.txt"',
            ),
        ),
        ("PUT", presigned("upload_part", Key="big file", PartNumber=2, UploadId="abc/def+ghi==")),
        ("GET", presigned("list_objects_v2", Key=None, Prefix="a b/+", Delimiter="/")),
        ("DELETE", presigned("abort_multipart_upload", Key="k", UploadId="u=1")),
    ]
    for method, url in urls:
        assert authenticate(url_view(url, method), lookup, region="us-east-1").presigned, url


@pytest.mark.usefixtures("frozen")
def test_boto3_presigned_put_with_signed_headers() -> None:
    url = presigned("put_object", Key="k", ContentType="text/plain", Metadata={"owner": "me"})
    signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "content-type" in signed
    assert "x-amz-meta-owner" in signed
    headers = [("content-type", "text/plain"), ("x-amz-meta-owner", "me")]
    assert authenticate(url_view(url, "PUT", headers=headers), lookup, region="us-east-1").presigned
    # Different or missing signed header values break the signature.
    other = [("content-type", "text/html"), ("x-amz-meta-owner", "me")]
    expect_error(url_view(url, "PUT", headers=other), "SignatureDoesNotMatch")
    expect_error(url_view(url, "PUT", headers=headers[:1]), "SignatureDoesNotMatch")


@pytest.mark.usefixtures("frozen")
def test_boto3_presigned_other_region() -> None:
    url: str = client("ap-south-1").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert authenticate(url_view(url), lookup, region="ap-south-1").access_key == AK
    err = expect_error(url_view(url), "AuthorizationQueryParametersError", "the region 'ap-south-1' is wrong")
    assert err.details["Region"] == "us-east-1"


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("expires", "age", "ok"),
    [
        (3600, timedelta(seconds=3600), True),
        (3600, timedelta(seconds=3601), False),
        (1, timedelta(seconds=1), True),
        (1, timedelta(seconds=2), False),
        (604800, timedelta(days=7), True),
        (604800, timedelta(days=7, seconds=1), False),
        (60, timedelta(seconds=-60), True),  # client clock slightly ahead
        (60, timedelta(seconds=-900), True),
        (60, timedelta(seconds=-901), False),  # too far in the future
    ],
)
def test_presigned_expiry(expires: int, age: timedelta, ok: bool) -> None:
    req = url_view(presigned(expires=expires), now=SIGNED_AT + age)
    if ok:
        assert authenticate(req, lookup, region="us-east-1").access_key == AK
    elif age > timedelta(0):
        err = expect_error(req, "AccessDenied")
        assert err.message == "Request has expired"
        assert from_auth(err).status == 403
    else:
        expect_error(req, "AccessDenied", "Request is not valid yet")


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("604801", "X-Amz-Expires must be less than a week (in seconds) that is; 604800"),
        ("abc", "X-Amz-Expires should be a number"),
        ("", "X-Amz-Expires should be a number"),
        ("-5", "X-Amz-Expires must be non-negative"),
        ("1.5", "X-Amz-Expires should be a number"),
    ],
)
def test_presigned_bad_expires(value: str, message: str) -> None:
    url = replace_param(presigned(), "X-Amz-Expires", value)
    err = expect_error(url_view(url), "AuthorizationQueryParametersError", message)
    assert from_auth(err).status == 400


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Request has expired"),
    ],
)
def test_presigned_expires_out_of_range_is_access_denied(value: str, message: str) -> None:
    url = replace_param(presigned(), "X-Amz-Expires", value)
    err = expect_error(url_view(url), "AccessDenied", message)
    assert from_auth(err).status == 403


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    "name",
    [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Expires",
    ],
)
def test_presigned_missing_parameter(name: str) -> None:
    url = replace_param(presigned(), name, None)
    expect_error(url_view(url), "AuthorizationQueryParametersError", "requires the X-Amz-Algorithm")


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA512", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'),
        ("X-Amz-Date", "2024-12-31T23:59:59Z", "X-Amz-Date must be in the ISO8601 Long Format"),
        ("X-Amz-Date", "20241231T235959", "X-Amz-Date must be in the ISO8601 Long Format"),
        ("X-Amz-Credential", f"{AK}%2F20241231%2Fus-east-1%2Fs3", "Credential is mal-formed"),
        (
            "X-Amz-Credential",
            f"{AK}%2F20241231%2Fus-west-2%2Fs3%2Faws4_request",
            "the region 'us-west-2' is wrong",
        ),
        ("X-Amz-Credential", f"{AK}%2F20241231%2Fus-east-1%2Fsqs%2Faws4_request", 'incorrect service "sqs"'),
        ("X-Amz-Credential", f"{AK}%2F20241230%2Fus-east-1%2Fs3%2Faws4_request", "Invalid credential date"),
    ],
)
def test_presigned_malformed_parameters(name: str, value: str, message: str) -> None:
    url = replace_param(presigned(), name, value)
    err = expect_error(url_view(url), "AuthorizationQueryParametersError", message)
    assert message.startswith("X-Amz") or err.message.startswith(
        "Error parsing the X-Amz-Credential parameter"
    )


@pytest.mark.usefixtures("frozen")
def test_presigned_unsigned_amz_header_is_rejected() -> None:
    url = presigned()
    headers = [("x-amz-meta-extra", "1"), ("x-amz-acl", "public-read"), ("content-type", "fine")]
    err = expect_error(url_view(url, headers=headers), "AccessDenied")
    assert err.message == "There were headers present in the request which were not signed"
    assert err.details["HeadersNotSigned"] == "x-amz-meta-extra, x-amz-acl"
    # Non-amz headers such as content-type or user-agent are not required to be signed.
    assert authenticate(url_view(url, headers=[("user-agent", "curl")]), lookup, region="us-east-1").presigned


def test_presigned_host_must_be_signed() -> None:
    url = presign_v4("GET", f"{ENDPOINT}/b/k", AK, SECRET, "us-east-1", 60, SIGNED_AT)
    url = replace_param(url, "X-Amz-SignedHeaders", "x-amz-date")
    err = expect_error(url_view(url), "AccessDenied", "headers present in the request which were not signed")
    assert err.details["HeadersNotSigned"] == "host"


@pytest.mark.usefixtures("frozen")
def test_presigned_tampering() -> None:
    url = presigned(Key="a b")
    split = urlsplit(url)
    expect_error(url_view(split._replace(path="/bucket/a%20c").geturl()), "SignatureDoesNotMatch")
    expect_error(url_view(url + "&versionId=1"), "SignatureDoesNotMatch")
    expect_error(url_view(url, method="DELETE"), "SignatureDoesNotMatch")
    expect_error(url_view(url.replace("127.0.0.1", "localhost")), "SignatureDoesNotMatch")
    expect_error(url_view(replace_param(url, "X-Amz-Signature", "0" * 64)), "SignatureDoesNotMatch")
    expect_error(url_view(replace_param(url, "X-Amz-Expires", "3599")), "SignatureDoesNotMatch")


@pytest.mark.usefixtures("frozen")
def test_presigned_repeated_parameter() -> None:
    url = presigned()
    expect_error(url_view(url + "&X-Amz-Expires=604800"), "AuthorizationQueryParametersError", "repeated")


@pytest.mark.usefixtures("frozen")
def test_presigned_unknown_key() -> None:
    url = presigned().replace(AK, "AKIDUNKNOWN")
    err = expect_error(url_view(url), "InvalidAccessKeyId", "does not exist in our records")
    assert err.details["AWSAccessKeyId"] == "AKIDUNKNOWN"


@pytest.mark.usefixtures("frozen")
def test_presigned_v4_and_v2_parameters_together() -> None:
    url = presigned() + "&AWSAccessKeyId=x"
    expect_error(url_view(url), "InvalidArgument", "Only one auth mechanism allowed")


def test_presigned_payload_hash_parameter() -> None:
    digest = "a" * 64
    url = presign_v4(
        "PUT", f"{ENDPOINT}/b/k?X-Amz-Content-Sha256={digest}", AK, SECRET, "us-east-1", 60, SIGNED_AT
    )
    # presign_v4 signs UNSIGNED-PAYLOAD, so an explicit hash parameter changes the canonical request
    expect_error(url_view(url, "PUT"), "SignatureDoesNotMatch")
    streaming = replace_param(url, "X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    expect_error(url_view(streaming, "PUT"), "InvalidArgument")
    bogus = replace_param(url, "X-Amz-Content-Sha256", "xyz")
    expect_error(url_view(bogus, "PUT"), "InvalidArgument", "x-amz-content-sha256 must be")


# --------------------------------------------------------------------------- presign_v4


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_presign_v4_round_trip(key: str, method: str) -> None:
    url = presign_v4(method, f"{ENDPOINT}/bucket/{key}", AK, SECRET, "us-east-1", 300, SIGNED_AT)
    assert "#" not in url
    result = authenticate(url_view(url, method), lookup, region="us-east-1")
    assert result == AuthResult(AK, "v4", True, "UNSIGNED-PAYLOAD", None)


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize("key", ["k", "a b", "ü+%=&~", "dir//sub/"])
def test_presign_v4_matches_botocore_signature(key: str) -> None:
    ours = presign_v4(
        "GET", f"{ENDPOINT}/bucket/{quote(key, safe='/~')}", AK, SECRET, "us-east-1", 3600, SIGNED_AT
    )
    theirs = presigned(Key=key)
    signature = parse_qs(urlsplit(theirs).query)["X-Amz-Signature"][0]
    assert parse_qs(urlsplit(ours).query)["X-Amz-Signature"][0] == signature
    assert urlsplit(ours).path == urlsplit(theirs).path


def test_presign_v4_keeps_existing_query_parameters() -> None:
    url = presign_v4(
        "GET",
        f"{ENDPOINT}/b/k?versionId=a b+c&response-content-type=text/plain&acl",
        AK,
        SECRET,
        "eu-west-1",
        60,
        SIGNED_AT,
    )
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert query["versionId"] == ["a b+c"]
    assert query["acl"] == [""]
    assert authenticate(url_view(url), lookup, region="eu-west-1").presigned


def test_presign_v4_expiry_and_validation() -> None:
    url = presign_v4("GET", f"{ENDPOINT}/b/k", AK, SECRET, "us-east-1", 10, SIGNED_AT)
    assert authenticate(url_view(url, now=SIGNED_AT + timedelta(seconds=10)), lookup, region="us-east-1")
    expect_error(url_view(url, now=SIGNED_AT + timedelta(seconds=11)), "AccessDenied", "Request has expired")
    for bad in (0, 604801, -1):
        with pytest.raises(ValueError, match="expires"):
            presign_v4("GET", f"{ENDPOINT}/b/k", AK, SECRET, "us-east-1", bad, SIGNED_AT)
    with pytest.raises(ValueError, match="absolute"):
        presign_v4("GET", "/b/k", AK, SECRET, "us-east-1", 60, SIGNED_AT)


def test_presign_v4_other_service() -> None:
    url = presign_v4("GET", f"{ENDPOINT}/", AK, SECRET, "us-east-1", 60, SIGNED_AT, service="sts")
    expect_error(url_view(url), "AuthorizationQueryParametersError", 'incorrect service "sts"')
    services = frozenset({"s3", "sts"})
    assert authenticate(url_view(url), lookup, region="us-east-1", services=services).access_key == AK
