"""sign_headers: what Nuage's own clients send is what botocore would sign, and authenticate() accepts it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from nuage.s3.errors import from_auth
from nuage.sigv4 import AuthError, RequestView, authenticate
from nuage.sigv4.sign import sign_headers

NOW = datetime(2026, 11, 26, 12, 30, 5, tzinfo=UTC)
KEY, SECRET = "AKIDSIGNTEST00000000", "sign-test-secret-0000000000000000000000"
CASES = [
    ("GET", "/bucket/a%20key/with%2Bplus", "versionId=3%2F4&list-type=2", [("x-amz-meta-note", "  two  spaces ")]),
    ("PUT", "/b/k", "", [("content-type", "text/plain"), ("x-amz-meta-a", "1"), ("X-Amz-Meta-B", "2")]),
    ("POST", "/", "", [("content-type", "application/x-www-form-urlencoded; charset=utf-8")]),
]


@pytest.mark.parametrize(("method", "path", "query", "headers"), CASES)
def test_botocore_computes_the_same_signature(method: str, path: str, query: str, headers: list[tuple[str, str]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    payload = hashlib.sha256(b"").hexdigest()   # what botocore signs for an empty body over http
    ours = dict(sign_headers(method, "example.test:9000", path, query, headers, access_key=KEY, secret=SECRET,
                             region="us-west-1", service="s3", payload_hash=payload, now=NOW))
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    url = f"http://example.test:9000{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    botocore.auth.S3SigV4Auth(Credentials(KEY, SECRET), "s3", "us-west-1").add_auth(request)
    theirs = request.headers["Authorization"]
    assert request.headers["X-Amz-Date"] == ours["x-amz-date"]
    assert ours["authorization"] == theirs


def test_authenticate_accepts_it_and_refuses_a_change() -> None:
    signed = sign_headers("PUT", "h:1", "/b/k", "tagging=", [("x-amz-meta-a", "1")], access_key=KEY, secret=SECRET,
                          region="us-east-1", service="s3", payload_hash="UNSIGNED-PAYLOAD", now=NOW)
    result = authenticate(RequestView("PUT", "/b/k", "tagging=", signed, NOW), {KEY: SECRET}.get,
                          region="us-east-1")
    assert result.access_key == KEY
    tampered = [(n, "2" if n == "x-amz-meta-a" else v) for n, v in signed]
    with pytest.raises(AuthError) as exc:
        authenticate(RequestView("PUT", "/b/k", "tagging=", tampered, NOW), {KEY: SECRET}.get, region="us-east-1")
    assert from_auth(exc.value).code == "SignatureDoesNotMatch"
