"""Authentication: SigV4 header and presigned (expiry enforced), SigV2 header and presigned, bad keys,
bad signatures, skewed clocks, anonymous requests."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from botocore import UNSIGNED

from tests.api.helpers import assert_error
from tests.support import rawhttp, sigv4
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes, dict[str, str]]:
    # urllib would add Content-Type: application/x-www-form-urlencoded to a body, which SigV2 signs
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ""} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), {k.lower(): v for k, v in exc.headers.items()}


def code_of(body: bytes) -> str | None:
    root = ET.fromstring(body)
    return root.findtext("Code")


# -- SigV4 -------------------------------------------------------------------------------------------
@pytest.fixture
def s3v4(server: NuageServer) -> Any:
    return server.client(signature_version="s3v4")


def test_presigned_get(s3v4: Any, bucket: str) -> None:
    s3v4.put_object(Bucket=bucket, Key="p q/ü.txt", Body=b"presigned")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p q/ü.txt"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    status, body, _ = fetch(url)
    assert (status, body) == (200, b"presigned")


def test_presigned_get_with_response_overrides(s3v4: Any, bucket: str) -> None:
    s3v4.put_object(Bucket=bucket, Key="o", Body=b"x")
    url = s3v4.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "o", "ResponseContentDisposition": 'attachment; filename="x.bin"'}, ExpiresIn=60)
    status, _, headers = fetch(url)
    assert status == 200
    assert headers["content-disposition"] == 'attachment; filename="x.bin"'


def test_presigned_put(s3v4: Any, bucket: str) -> None:
    url = s3v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    status, _, _ = fetch(url, "PUT", b"uploaded")
    assert status == 200
    assert s3v4.get_object(Bucket=bucket, Key="up")["Body"].read() == b"uploaded"


def test_presigned_expired(s3v4: Any, bucket: str) -> None:
    s3v4.put_object(Bucket=bucket, Key="e", Body=b"x")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (403, "AccessDenied")


@pytest.mark.parametrize("signature", ["s3v4", "s3"])   # "s3": SigV2, boto3's default for presigned URLs
def test_a_repeated_presigned_url_follows_the_key_and_the_object(server: NuageServer, s3: Any, bucket: str,
                                                                    signature: str) -> None:
    """The same URL again (a hot object's link) answers from memory only while nothing it depends on
    changed: the object's new bytes, a key made inactive or deleted, the URL's expiry."""
    iam = server.client("iam")
    user = f"u-{bucket[-12:]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"],
                           signature_version=signature)
    s3.put_object(Bucket=bucket, Key="hot", Body=b"first")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "hot"}, ExpiresIn=30)
    for _ in range(3):
        assert fetch(url)[:2] == (200, b"first")
    s3.put_object(Bucket=bucket, Key="hot", Body=b"second")
    assert fetch(url)[:2] == (200, b"second")
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (403, "InvalidAccessKeyId")
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Active")
    assert fetch(url)[:2] == (200, b"second")
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (403, "InvalidAccessKeyId")
    fresh = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client(access_key=fresh["AccessKeyId"], secret_key=fresh["SecretAccessKey"],
                           signature_version=signature)
    # X-Amz-Date is whole seconds: a 1 s URL may have well under a second left when it is first used (the
    # PostgreSQL run of a busy machine saw it expire there); 3 s leave room, and it has expired 4 s later
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "hot"}, ExpiresIn=3)
    assert fetch(url)[:2] == (200, b"second")
    time.sleep(4.1)
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (403, "AccessDenied")


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_presigned_tampered_signature(s3v4: Any, bucket: str) -> None:
    s3v4.put_object(Bucket=bucket, Key="t", Body=b"x")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "t"}, ExpiresIn=60)
    sig = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    bad = _with_query(url, **{"X-Amz-Signature": ("0" if sig[0] != "0" else "1") + sig[1:]})
    status, body, _ = fetch(bad)
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


def test_presigned_extended_expiry_is_a_different_signature(s3v4: Any, bucket: str) -> None:
    s3v4.put_object(Bucket=bucket, Key="t", Body=b"x")
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "t"}, ExpiresIn=60)
    status, body, _ = fetch(_with_query(url, **{"X-Amz-Expires": "3600"}))
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


def test_presigned_expiry_over_a_week(s3v4: Any, bucket: str) -> None:
    url = s3v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "t"}, ExpiresIn=604801)
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (400, "AuthorizationQueryParametersError")


def test_wrong_secret_v4(server: NuageServer, bucket: str) -> None:
    bad = server.client(secret_key="wrong-secret-wrong-secret-wrong-secret-00")
    assert_error(bad.list_objects_v2, "SignatureDoesNotMatch", 403, Bucket=bucket)
    assert_error(bad.put_object, "SignatureDoesNotMatch", 403, Bucket=bucket, Key="k", Body=b"x")


def test_unknown_access_key(server: NuageServer, bucket: str) -> None:
    bad = server.client(access_key="AKIDNOTKNOWNHERE0000")
    assert_error(bad.list_objects_v2, "InvalidAccessKeyId", 403, Bucket=bucket)
    assert_error(bad.list_buckets, "InvalidAccessKeyId", 403)


def test_wrong_region_in_scope(server: NuageServer, bucket: str) -> None:
    # Raw request: botocore itself would follow the <Region> of the error and retry, as it does on AWS.
    path = f"/{bucket}?list-type=2"
    headers, *_ = sigv4.sign_headers("GET", path, {"host": f"127.0.0.1:{server.port}"}, sigv4.EMPTY_SHA256,
                                     access_key=ACCESS_KEY, secret_key=SECRET_KEY, region="eu-west-1",
                                     now=datetime.now(UTC))
    headers.pop("host")
    reply = rawhttp.request(server, "GET", path, headers=headers, signed=False)
    assert (reply.status, reply.code) == (400, "AuthorizationHeaderMalformed")
    assert b"<Region>" + server.region.encode() + b"</Region>" in reply.body


def test_request_time_too_skewed(server: NuageServer, bucket: str) -> None:
    path = f"/{bucket}?list-type=2"
    headers, *_ = sigv4.sign_headers("GET", path, {"host": f"127.0.0.1:{server.port}"}, sigv4.EMPTY_SHA256,
                                     access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=server.region,
                                     now=datetime.now(UTC) - timedelta(hours=1))
    headers.pop("host")
    reply = rawhttp.request(server, "GET", path, headers=headers, signed=False)
    assert (reply.status, reply.code) == (403, "RequestTimeTooSkewed")


def test_signed_header_tampered(server: NuageServer, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "k")
    headers = rawhttp.sign(server, "PUT", path, body=b"x", headers={"x-amz-meta-a": "1"})
    headers["x-amz-meta-a"] = "2"
    reply = rawhttp.request(server, "PUT", path, headers=headers, body=b"x", signed=False)
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")


def test_malformed_authorization_header(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "GET", f"/{bucket}", signed=False, headers={
        "Authorization": "AWS4-HMAC-SHA256 garbage", "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
        "x-amz-content-sha256": sigv4.EMPTY_SHA256})
    assert reply.status in (400, 403)
    assert reply.code in ("AuthorizationHeaderMalformed", "InvalidArgument", "AccessDenied",
                          "SignatureDoesNotMatch")


# -- SigV2 -------------------------------------------------------------------------------------------
@pytest.fixture
def s3v2(server: NuageServer) -> Any:
    return server.client(signature_version="s3")


def test_sigv2_header(s3v2: Any, bucket: str) -> None:
    s3v2.put_object(Bucket=bucket, Key="v2/key ü", Body=b"two", Metadata={"m": "v"})
    got = s3v2.get_object(Bucket=bucket, Key="v2/key ü")
    assert got["Body"].read() == b"two"
    assert got["Metadata"] == {"m": "v"}
    assert [o["Key"] for o in s3v2.list_objects(Bucket=bucket, Prefix="v2/")["Contents"]] == ["v2/key ü"]
    s3v2.delete_object(Bucket=bucket, Key="v2/key ü")


def test_sigv2_subresources(s3v2: Any, bucket: str) -> None:
    s3v2.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3v2.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    uid = s3v2.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e = s3v2.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
    s3v2.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                   MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})


def test_sigv2_wrong_secret(server: NuageServer, bucket: str) -> None:
    bad = server.client(signature_version="s3", secret_key="wrong-secret-wrong-secret-wrong-secret-00")
    assert_error(bad.list_objects, "SignatureDoesNotMatch", 403, Bucket=bucket)


def test_sigv2_unknown_key(server: NuageServer, bucket: str) -> None:
    bad = server.client(signature_version="s3", access_key="AKIDNOTKNOWNHERE0000")
    assert_error(bad.list_objects, "InvalidAccessKeyId", 403, Bucket=bucket)


def test_sigv2_presigned(s3v2: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pv2", Body=b"old-style")
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pv2"}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url
    status, body, _ = fetch(url)
    assert (status, body) == (200, b"old-style")


def test_sigv2_presigned_expired(s3v2: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pv2", Body=b"x")
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pv2"}, ExpiresIn=1)
    time.sleep(2.1)
    status, body, _ = fetch(url)
    assert (status, code_of(body)) == (403, "AccessDenied")


def test_sigv2_presigned_put_and_overrides(s3v2: Any, s3: Any, bucket: str) -> None:
    url = s3v2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up2"}, ExpiresIn=300)
    status, body, _ = fetch(url, "PUT", b"v2 upload")
    assert status == 200, body
    url = s3v2.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "up2", "ResponseContentType": "text/x-v2"}, ExpiresIn=60)
    status, body, headers = fetch(url)
    assert (status, body, headers["content-type"]) == (200, b"v2 upload", "text/x-v2")


def test_sigv2_presigned_tampered(s3v2: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pv2", Body=b"x")
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pv2"}, ExpiresIn=60)
    expires = dict(parse_qsl(urlsplit(url).query))["Expires"]
    status, body, _ = fetch(_with_query(url, Expires=str(int(expires) + 100)))
    assert (status, code_of(body)) == (403, "SignatureDoesNotMatch")


# -- anonymous ---------------------------------------------------------------------------------------
def test_anonymous_rejected(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    anon = server.client(signature_version=UNSIGNED)
    assert_error(anon.get_object, "AccessDenied", 403, Bucket=bucket, Key="k")
    assert_error(anon.list_objects_v2, "AccessDenied", 403, Bucket=bucket)
    assert_error(anon.put_object, "AccessDenied", 403, Bucket=bucket, Key="k2", Body=b"x")
    assert_error(anon.list_buckets, "AccessDenied", 403)
    assert_error(s3.head_object, "404", 404, Bucket=bucket, Key="k2")


def test_anonymous_plain_http(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    status, body, headers = fetch(f"{server.endpoint}/{bucket}/k")
    assert (status, code_of(body)) == (403, "AccessDenied")
    assert headers.get("x-amz-request-id")
