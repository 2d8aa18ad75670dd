"""Bucket CORS: configuration round trip and validation, browser preflight (OPTIONS, no
authentication) and the CORS headers of actual requests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer


def _rule(methods: list[str], origins: list[str], **extra: Any) -> dict[str, Any]:
    return {"AllowedMethods": methods, "AllowedOrigins": origins, **extra}


def test_cors_round_trip_and_delete(s3: Any, bucket: str) -> None:
    assert_error(s3.get_bucket_cors, "NoSuchCORSConfiguration", 404, Bucket=bucket)
    rules = [
        _rule(["GET", "HEAD"], ["https://a.example", "*.b.example"], ID="r1", AllowedHeaders=["x-amz-*"],
              ExposeHeaders=["ETag", "x-amz-meta-a"], MaxAgeSeconds=600),
        _rule(["PUT"], ["*"]),
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got == rules
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.get_bucket_cors, "NoSuchCORSConfiguration", 404, Bucket=bucket)
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_cors_on_missing_bucket(s3: Any) -> None:
    assert_error(s3.get_bucket_cors, "NoSuchBucket", 404, Bucket="no-such-bucket-cors")
    assert_error(s3.put_bucket_cors, "NoSuchBucket", 404, Bucket="no-such-bucket-cors",
                 CORSConfiguration={"CORSRules": [_rule(["GET"], ["*"])]})


@pytest.mark.parametrize(("rule", "code"), [
    (_rule(["PATCH"], ["*"]), "InvalidRequest"),
    (_rule(["GET"], ["*.a.*"]), "InvalidRequest"),
    (_rule(["GET"], ["*"], AllowedHeaders=["x-*-*"]), "InvalidRequest"),
])
def test_cors_validation(s3: Any, bucket: str, rule: dict[str, Any], code: str) -> None:
    assert_error(s3.put_bucket_cors, code, 400, Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})


@pytest.mark.parametrize("body", [
    b"<CORSConfiguration></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
    b"<MaxAgeSeconds>soon</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    b"<Other/>",
])
def test_cors_malformed(server: NuageServer, bucket: str, body: bytes) -> None:
    reply = rawhttp.request(server, "PUT", f"/{bucket}?cors", body=body)
    assert (reply.status, reply.code) == (400, "MalformedXML")


def _options(server: NuageServer, path: str, headers: dict[str, str]) -> rawhttp.Reply:
    return rawhttp.request(server, "OPTIONS", path, headers=headers, signed=False)


def test_preflight(server: NuageServer, s3: Any, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "some/key")
    # no Origin, or no requested method: 400 whatever the configuration
    assert _options(server, path, {}).status == 400
    assert _options(server, path, {"Origin": "https://a.example"}).status == 400
    # no configuration yet
    reply = _options(server, path, {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"})
    assert (reply.status, reply.code) == (403, "AccessForbidden")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        _rule(["GET", "HEAD"], ["https://*.example"], AllowedHeaders=["x-amz-*", "Content-Type"],
              ExposeHeaders=["ETag"], MaxAgeSeconds=300),
        _rule(["PUT"], ["*"]),
    ]})
    reply = _options(server, path, {"Origin": "https://a.example", "Access-Control-Request-Method": "GET",
                                    "Access-Control-Request-Headers": "X-Amz-Date, content-type"})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == "https://a.example"
    assert reply.header("access-control-allow-methods") == "GET, HEAD"
    assert reply.header("access-control-allow-headers") == "X-Amz-Date, content-type"
    assert reply.header("access-control-expose-headers") == "ETag"
    assert reply.header("access-control-max-age") == "300"
    assert "Origin" in (reply.header("vary") or "")
    # a header that no rule allows, a method no rule allows for the origin
    reply = _options(server, path, {"Origin": "https://a.example", "Access-Control-Request-Method": "GET",
                                    "Access-Control-Request-Headers": "x-custom"})
    assert (reply.status, reply.code) == (403, "AccessForbidden")
    assert reply.xml().findtext("Message", "").startswith("CORSResponse: This CORS request is not allowed")
    reply = _options(server, path, {"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"})
    assert reply.status == 403
    # the wildcard rule answers "*"
    reply = _options(server, f"/{bucket}", {"Origin": "http://other", "Access-Control-Request-Method": "PUT"})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == "*"
    assert reply.header("access-control-allow-methods") == "PUT"


def test_preflight_missing_bucket(server: NuageServer) -> None:
    reply = _options(server, "/no-such-bucket-preflight/k", {"Origin": "http://a",
                                                               "Access-Control-Request-Method": "GET"})
    assert (reply.status, reply.code) == (404, "NoSuchBucket")


def test_actual_request_headers(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        _rule(["GET"], ["http://*.get"], ExposeHeaders=["x-amz-meta-a"]),
        _rule(["PUT"], ["http://*.put"]),
    ]})
    path = rawhttp.key_path(bucket, "k")
    reply = rawhttp.request(server, "GET", path, headers={"Origin": "http://a.get"})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == "http://a.get"
    assert reply.header("access-control-allow-methods") == "GET"
    assert reply.header("access-control-expose-headers") == "x-amz-meta-a"
    assert "Origin" in (reply.header("vary") or "")
    # an origin that no rule admits for this method: no CORS headers
    reply = rawhttp.request(server, "GET", path, headers={"Origin": "http://a.put"})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") is None
    # errors carry them too
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "missing"), headers={"Origin": "http://a.get"})
    assert reply.status == 404
    assert reply.header("access-control-allow-origin") == "http://a.get"
    # without Origin, nothing
    reply = rawhttp.request(server, "GET", path)
    assert reply.header("access-control-allow-origin") is None
    reply = rawhttp.request(server, "PUT", path, headers={"Origin": "http://x.put"}, body=b"new")
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == "http://x.put"


def test_presigned_url_preflight(server: NuageServer, s3: Any, bucket: str) -> None:
    """A preflight to a presigned URL ignores the signature in its query."""
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=600)
    path = rawhttp.path_of(url)
    assert _options(server, path, {}).status == 400
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [_rule(["GET"], ["example"])]})
    reply = _options(server, path, {"Origin": "example", "Access-Control-Request-Method": "GET"})
    assert reply.status == 200
    assert reply.header("access-control-allow-origin") == "example"
