"""POST Object policies: parsing, condition checks, and form signatures (SigV2 and SigV4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from nuage.s3 import errors as e
from nuage.s3.postpolicy import check_policy, decode_policy, exempt, verify_signature
from nuage.sigv4.keys import signing_key

NOW = datetime(2030, 1, 1, tzinfo=UTC)
SECRETS = {"AKID": "secret"}


def encode(doc: Any) -> str:
    return base64.b64encode(json.dumps(doc).encode()).decode()


def policy(*conditions: Any, expiration: str = "2030-01-02T00:00:00.000Z") -> str:
    return encode({"expiration": expiration, "conditions": list(conditions)})


def test_parse_conditions_of_every_kind() -> None:
    p = decode_policy(policy({"bUcKeT": "b"}, ["StArTs-WiTh", "$KeY", "up/"], ["eq", "$acl", "private"],
                             ["content-length-range", 1, "10"]))
    assert p.expiration == datetime(2030, 1, 2, tzinfo=UTC)
    assert [(c.op, c.field, c.value) for c in p.conditions] == [
        ("eq", "bucket", "b"), ("starts-with", "key", "up/"), ("eq", "acl", "private")]
    assert p.length_range == (1, 10)
    assert p.covered() == {"bucket", "key", "acl"}


@pytest.mark.parametrize("doc", [
    "not base64 !",
    base64.b64encode(b"[1, 2]").decode(),
    encode({"conditions": []}),
    encode({"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []}),
    encode({"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []}),
    encode({"expiration": "2030-13-01T00:00:00Z", "conditions": []}),
    encode({"expiration": "2030-01-01", "conditions": []}),
    encode({"expiration": "2030-01-01T00:00:00Z", "conditions": {"bucket": "b"}}),
    policy({}),
    policy({"a": "1", "b": "2"}),
    policy({"a": 1}),
    policy(["content-length-range", 5]),
    policy(["content-length-range", 5, 1]),
    policy(["content-length-range", 0, True]),
    policy(["eq", "key", "x"]),
    policy(["eq", "$key"]),
    policy(["eq", "$key", 5]),
    policy(["like", "$key", "x"]),
    policy("just a string"),
])
def test_malformed_policies_are_invalid_policy_documents(doc: str) -> None:
    with pytest.raises(e.InvalidPolicyDocument):
        decode_policy(doc)


def test_conditions_hold_or_fail_with_the_condition_quoted() -> None:
    p = decode_policy(policy({"bucket": "b"}, ["starts-with", "$key", "up/"], ["starts-with", "$x-amz-meta-a", ""]))
    check_policy(p, {"bucket": "b", "key": "up/1"}, NOW)   # a missing field is empty: "" starts with ""
    with pytest.raises(e.AccessDenied) as info:
        check_policy(p, {"bucket": "b", "key": "down/1"}, NOW)
    assert info.value.message == ('Invalid according to Policy: Policy Condition failed: '
                                  '["starts-with", "$key", "up/"]')


def test_content_type_prefix_applies_to_each_listed_type() -> None:
    p = decode_policy(policy({"bucket": "b"}, ["starts-with", "$content-type", "image/"]))
    check_policy(p, {"bucket": "b", "content-type": "image/png, image/jpeg"}, NOW)
    with pytest.raises(e.AccessDenied):
        check_policy(p, {"bucket": "b", "content-type": "image/png,text/html"}, NOW)


def test_every_field_must_be_covered_except_the_exempt_ones() -> None:
    p = decode_policy(policy({"bucket": "b"}, {"key": "k"}))
    fields = {"bucket": "b", "key": "k", "policy": "p", "signature": "s", "awsaccesskeyid": "a",
              "x-ignore-me": "1", "x-amz-checksum-crc32": "AAAAAA==", "x-amz-signature": "sig"}
    check_policy(p, fields, NOW)
    with pytest.raises(e.AccessDenied) as info:
        check_policy(p, {**fields, "x-amz-meta-a": "1"}, NOW)
    assert info.value.message.endswith("Extra input fields: x-amz-meta-a")
    assert not exempt("x-amz-credential") and exempt("file")


def test_expired_policy() -> None:
    p = decode_policy(policy({"bucket": "b"}, expiration="2029-12-31T23:59:59Z"))
    with pytest.raises(e.AccessDenied) as info:
        check_policy(p, {"bucket": "b"}, NOW)
    assert "Policy expired" in info.value.message


def test_v2_signature() -> None:
    doc = policy({"bucket": "b"})
    sig = base64.b64encode(hmac.new(b"secret", doc.encode(), hashlib.sha1).digest()).decode()
    fields = {"policy": doc, "awsaccesskeyid": "AKID", "signature": sig}
    assert verify_signature(fields, SECRETS.get, "us-east-1") == "AKID"
    with pytest.raises(e.SignatureDoesNotMatch):
        verify_signature({**fields, "signature": sig[::-1]}, SECRETS.get, "us-east-1")
    with pytest.raises(e.InvalidAccessKeyId):
        verify_signature({**fields, "awsaccesskeyid": "NOPE"}, SECRETS.get, "us-east-1")
    with pytest.raises(e.InvalidArgument):
        verify_signature({"policy": doc, "awsaccesskeyid": "AKID"}, SECRETS.get, "us-east-1")
    with pytest.raises(e.InvalidArgument):
        verify_signature({"policy": doc}, SECRETS.get, "us-east-1")


def _v4_fields(doc: str, region: str = "us-east-1") -> dict[str, str]:
    key = signing_key("secret", "20300101", region, "s3")
    sig = hmac.new(key, doc.encode(), hashlib.sha256).hexdigest()
    return {"policy": doc, "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-date": "20300101T000000Z",
            "x-amz-credential": f"AKID/20300101/{region}/s3/aws4_request", "x-amz-signature": sig}


def test_v4_signature() -> None:
    fields = _v4_fields(policy({"bucket": "b"}))
    assert verify_signature(fields, SECRETS.get, "us-east-1") == "AKID"
    with pytest.raises(e.SignatureDoesNotMatch):
        verify_signature({**fields, "x-amz-signature": "0" * 64}, SECRETS.get, "us-east-1")
    with pytest.raises(e.AuthorizationQueryParametersError):
        verify_signature(_v4_fields(policy({"bucket": "b"}), "eu-west-1"), SECRETS.get, "us-east-1")
    with pytest.raises(e.AuthorizationQueryParametersError):
        verify_signature({**fields, "x-amz-credential": "AKID/2030/us-east-1/s3"}, SECRETS.get, "us-east-1")
    with pytest.raises(e.InvalidArgument):
        verify_signature({**fields, "x-amz-algorithm": "AWS4-HMAC-SHA1"}, SECRETS.get, "us-east-1")
    with pytest.raises(e.InvalidArgument):
        verify_signature({**fields, "x-amz-date": "yesterday"}, SECRETS.get, "us-east-1")
    without_date = {k: v for k, v in fields.items() if k != "x-amz-date"}
    with pytest.raises(e.InvalidArgument):
        verify_signature(without_date, SECRETS.get, "us-east-1")
