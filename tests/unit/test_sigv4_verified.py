"""The memo of verified SigV4 requests: a repeated GET is answered from it, but never past its expiry or
skew window, never for a changed or deleted key, never for a changed request, and never for failures."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

import pytest
from tests.unit.sigv4_data import AK, SECRET

from nuage.s3.errors import from_auth
from nuage.sigv4 import AuthError, RequestView, authenticate, presign_v4
from nuage.sigv4.auth import VERIFIED
from nuage.sigv4.sign import sign_headers
from nuage.sigv4.verified import VerifiedRequests

SIGNED_AT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
HOST = "127.0.0.1:9000"


@pytest.fixture(autouse=True)
def empty_memo() -> Iterator[None]:
    VERIFIED.clear()
    yield
    VERIFIED.clear()


class Keys:
    """A secret lookup whose answers the test changes, counting its calls."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {AK: SECRET}
        self.calls = 0

    def __call__(self, access_key: str) -> str | None:
        self.calls += 1
        return self.secrets.get(access_key)


def presigned(method: str = "GET", path: str = "/bucket/key", expires: int = 60,
              now: datetime = SIGNED_AT + timedelta(seconds=1)) -> RequestView:
    url = presign_v4(method, f"http://{HOST}{path}", AK, SECRET, "us-east-1", expires, SIGNED_AT)
    split = urlsplit(url)
    return RequestView(method, split.path, split.query, [("host", HOST)], now)


def header_signed(now: datetime, method: str = "GET") -> RequestView:
    headers = sign_headers(method, HOST, "/bucket/key", "", [], access_key=AK, secret=SECRET,
                           region="us-east-1", service="s3", payload_hash="UNSIGNED-PAYLOAD", now=SIGNED_AT)
    return RequestView(method, "/bucket/key", "", headers, now)


def auth(req: RequestView, keys: Keys) -> str | None:
    return authenticate(req, keys, region="us-east-1").access_key


def error_code(req: RequestView, keys: Keys) -> str:
    with pytest.raises(AuthError) as info:
        authenticate(req, keys, region="us-east-1")
    return from_auth(info.value).code


def test_a_repeated_presigned_get_is_answered_from_the_memo() -> None:
    keys = Keys()
    req = presigned()
    assert auth(req, keys) == AK
    assert len(VERIFIED) == 1
    first = authenticate(req, keys, region="us-east-1")
    again = authenticate(req, keys, region="us-east-1")
    assert again is first   # the same result object: not verified again


def test_the_memo_never_outlives_the_url() -> None:
    keys = Keys()
    assert auth(presigned(expires=60), keys) == AK
    late = presigned(expires=60, now=SIGNED_AT + timedelta(seconds=61))
    assert error_code(late, keys) == "AccessDenied"
    on_the_second = presigned(expires=60, now=SIGNED_AT + timedelta(seconds=60))
    assert auth(on_the_second, keys) == AK


def test_a_url_from_the_future_is_refused_even_when_memoised() -> None:
    keys = Keys()
    assert auth(presigned(), keys) == AK
    early = presigned(now=SIGNED_AT - timedelta(seconds=901))
    assert error_code(early, keys) == "AccessDenied"


def test_a_changed_secret_or_a_deleted_key_is_not_served_from_the_memo() -> None:
    keys = Keys()
    req = presigned()
    assert auth(req, keys) == AK
    keys.secrets[AK] = "another secret"
    assert error_code(req, keys) == "SignatureDoesNotMatch"
    keys.secrets.clear()
    assert error_code(req, keys) == "InvalidAccessKeyId"
    keys.secrets[AK] = SECRET   # the old secret back: valid again
    assert auth(req, keys) == AK


def test_header_signed_requests_keep_their_skew_window() -> None:
    keys = Keys()
    assert auth(header_signed(SIGNED_AT + timedelta(seconds=5)), keys) == AK
    assert auth(header_signed(SIGNED_AT + timedelta(seconds=900)), keys) == AK
    assert error_code(header_signed(SIGNED_AT + timedelta(seconds=901)), keys) == "RequestTimeTooSkewed"
    assert error_code(header_signed(SIGNED_AT - timedelta(seconds=901)), keys) == "RequestTimeTooSkewed"


def test_any_change_to_the_request_is_verified_afresh() -> None:
    keys = Keys()
    req = presigned()
    assert auth(req, keys) == AK
    other_path = RequestView("GET", req.raw_path + "x", req.raw_query, req.headers, req.now)
    assert error_code(other_path, keys) == "SignatureDoesNotMatch"
    other_host = RequestView("GET", req.raw_path, req.raw_query, [("host", "example.com")], req.now)
    assert error_code(other_host, keys) == "SignatureDoesNotMatch"
    unsigned_header = RequestView("GET", req.raw_path, req.raw_query, [*req.headers, ("x-amz-meta-a", "b")],
                                  req.now)
    assert error_code(unsigned_header, keys) == "AccessDenied"
    as_head = RequestView("HEAD", req.raw_path, req.raw_query, req.headers, req.now)
    assert error_code(as_head, keys) == "SignatureDoesNotMatch"


def test_a_header_signed_get_in_the_memo_does_not_let_unsigned_headers_through() -> None:
    keys = Keys()
    req = header_signed(SIGNED_AT + timedelta(seconds=1))
    assert auth(req, keys) == AK
    assert auth(req, keys) == AK and len(VERIFIED) == 1
    for extra in (("x-amz-acl", "public-read"), ("x-amz-request-payer", "requester")):
        added = RequestView("GET", req.raw_path, req.raw_query, [*req.headers, extra], req.now)
        assert error_code(added, keys) == "AccessDenied"
    assert len(VERIFIED) == 1


def test_failures_and_writes_are_not_kept() -> None:
    keys = Keys()
    bad = presigned()
    tampered = RequestView("GET", bad.raw_path, bad.raw_query.replace("X-Amz-Signature=", "X-Amz-Signature=0"),
                           bad.headers, bad.now)
    assert error_code(tampered, keys) == "SignatureDoesNotMatch"
    assert len(VERIFIED) == 0
    assert auth(presigned("PUT"), keys) == AK
    assert len(VERIFIED) == 0


def test_sdk_requests_that_never_repeat_are_not_kept() -> None:
    """AWS SDKs sign a new amz-sdk-invocation-id into every request: keeping those only costs."""
    keys = Keys()
    headers = sign_headers("GET", HOST, "/bucket/key", "", [("amz-sdk-invocation-id", "a-b-c")], access_key=AK,
                           secret=SECRET, region="us-east-1", service="s3", payload_hash="UNSIGNED-PAYLOAD",
                           now=SIGNED_AT)
    assert auth(RequestView("GET", "/bucket/key", "", headers, SIGNED_AT), keys) == AK
    assert len(VERIFIED) == 0


def test_the_memo_is_bounded() -> None:
    memo = VerifiedRequests(max_entries=3)
    keys = Keys()
    result = authenticate(presigned(), keys, region="us-east-1")
    for i in range(5):
        memo.put(("k", i), 10, SECRET, SIGNED_AT, SIGNED_AT, result)
    assert len(memo) == 3
    assert memo.get(("k", 0), SIGNED_AT, keys) is None   # the oldest went first
    assert memo.get(("k", 4), SIGNED_AT, keys) is result
    memo.put(("big",), 100_000, SECRET, SIGNED_AT, SIGNED_AT, result)   # too large to keep
    assert memo.get(("big",), SIGNED_AT, keys) is None


def _v2_signature(string_to_sign: str) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


def v2_presigned(now: datetime, expires: datetime) -> RequestView:
    """What boto3's generate_presigned_url makes by default: SigV2 query authentication."""
    stamp = str(int(expires.timestamp()))
    signature = _v2_signature(f"GET\n\n\n{stamp}\n/bucket/key")
    query = f"AWSAccessKeyId={AK}&Signature={quote(signature, safe='')}&Expires={stamp}"
    return RequestView("GET", "/bucket/key", query, [("host", HOST)], now)


def v2_header_signed(now: datetime) -> RequestView:
    date = format_datetime(SIGNED_AT, usegmt=True)
    signature = _v2_signature(f"GET\n\n\n{date}\n/bucket/key")
    return RequestView("GET", "/bucket/key", "", [("host", HOST), ("date", date),
                                                   ("authorization", f"AWS {AK}:{signature}")], now)


def test_sigv2_presigned_urls_are_kept_until_they_expire() -> None:
    keys = Keys()
    expires = SIGNED_AT + timedelta(seconds=60)
    first = authenticate(v2_presigned(SIGNED_AT, expires), keys, region="us-east-1")
    assert first.access_key == AK and first.version == "v2" and len(VERIFIED) == 1
    assert authenticate(v2_presigned(SIGNED_AT + timedelta(seconds=60), expires), keys,
                        region="us-east-1") is first
    assert error_code(v2_presigned(SIGNED_AT + timedelta(seconds=61), expires), keys) == "AccessDenied"
    keys.secrets[AK] = "another secret"
    assert error_code(v2_presigned(SIGNED_AT, expires), keys) == "SignatureDoesNotMatch"


def test_sigv2_header_signed_requests_keep_their_skew_window() -> None:
    keys = Keys()
    assert auth(v2_header_signed(SIGNED_AT + timedelta(seconds=1)), keys) == AK
    assert len(VERIFIED) == 1
    assert auth(v2_header_signed(SIGNED_AT + timedelta(seconds=900)), keys) == AK
    assert error_code(v2_header_signed(SIGNED_AT + timedelta(seconds=901)), keys) == "RequestTimeTooSkewed"
