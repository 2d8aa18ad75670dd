"""Browser uploads (POST Object): the policy document, its conditions, and the form's signature.

A policy is base64 JSON ``{"expiration": "...Z", "conditions": [...]}``. Conditions are exact
matches (``{"field": "value"}`` or ``["eq", "$field", "value"]``), prefixes
(``["starts-with", "$field", "prefix"]``) and ``["content-length-range", min, max]``. Every form
field must be covered by a condition, except the ones S3 exempts. The form is signed either with
SigV4 (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature: HMAC-SHA256 of the base64
policy under the derived signing key) or with SigV2 (AWSAccessKeyId, signature: HMAC-SHA1 of it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuage.s3 import errors as e
from nuage.sigv4.dates import parse_amz_date
from nuage.sigv4.keys import hmac_sha256_hex, signatures_equal, signing_key

V4_ALGORITHM = "AWS4-HMAC-SHA256"
EQ, STARTS_WITH, LENGTH_RANGE = "eq", "starts-with", "content-length-range"
# Fields that need no condition (field names are compared in lower case).
EXEMPT = frozenset({"awsaccesskeyid", "signature", "file", "policy", "x-amz-signature"})
EXEMPT_PREFIXES = ("x-ignore-", "x-amz-checksum-")
_EXPIRATION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$")


@dataclass(frozen=True)
class Condition:
    op: str                 # EQ or STARTS_WITH
    field: str              # lower case, without the "$"
    value: str
    text: str               # the condition as S3 quotes it in errors

    def holds(self, actual: str) -> bool:
        if self.op == EQ:
            return actual == self.value
        if self.field == "content-type":
            # a list of types: each of them must match
            return all(part.strip().startswith(self.value) for part in actual.split(","))
        return actual.startswith(self.value)


@dataclass(frozen=True)
class PostPolicy:
    expiration: datetime
    conditions: tuple[Condition, ...]
    length_range: tuple[int, int] | None

    def covered(self) -> frozenset[str]:
        return frozenset(c.field for c in self.conditions)


def _invalid(reason: str) -> e.S3Error:
    return e.InvalidPolicyDocument(f"Invalid Policy: {reason}")


def _quote(parts: list[Any]) -> str:
    return json.dumps(parts, ensure_ascii=False)


def _expiration(value: Any) -> datetime:
    m = _EXPIRATION.match(value) if isinstance(value, str) else None
    if m is None:
        raise _invalid(f"Invalid 'expiration' value: '{value}'")
    try:
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise _invalid(f"Invalid 'expiration' value: '{value}'") from exc


def _field(name: Any, raw: Any) -> str:
    if not isinstance(name, str) or not name.startswith("$") or len(name) < 2:
        raise _invalid(f"Invalid Condition: {_quote(raw)}")
    return name[1:].lower()


def _length(value: Any, raw: Any) -> int:
    if isinstance(value, bool):
        raise _invalid(f"Invalid content-length-range Condition: {_quote(raw)}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise _invalid(f"Invalid content-length-range Condition: {_quote(raw)}")
    if number < 0:
        raise _invalid(f"Invalid content-length-range Condition: {_quote(raw)}")
    return number


def _condition(raw: Any) -> Condition | tuple[int, int]:
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise _invalid("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
        name, value = next(iter(raw.items()))
        if not isinstance(value, str):
            raise _invalid(f"Invalid Simple-Condition: value must be a string: {_quote([name, value])}")
        field = str(name).lower().removeprefix("$")
        return Condition(EQ, field, value, _quote([EQ, f"${field}", value]))
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise _invalid(f"Invalid Condition: {_quote(raw) if isinstance(raw, list) else raw!r}")
    op = raw[0].lower()
    if op == LENGTH_RANGE:
        if len(raw) != 3:
            raise _invalid(f"Invalid content-length-range Condition: {_quote(raw)}")
        low, high = _length(raw[1], raw), _length(raw[2], raw)
        if low > high:
            raise _invalid(f"Invalid content-length-range Condition: {_quote(raw)}")
        return low, high
    if op not in (EQ, STARTS_WITH):
        raise _invalid(f"Invalid Condition: unknown operation '{raw[0]}'")
    if len(raw) != 3:
        raise _invalid(f"Invalid Condition: {op} requires exactly two arguments: {_quote(raw)}")
    field = _field(raw[1], raw)
    if not isinstance(raw[2], str):
        raise _invalid(f"Invalid Condition: value must be a string: {_quote(raw)}")
    return Condition(op, field, raw[2], _quote([op, f"${field}", raw[2]]))


def decode_policy(encoded: str) -> PostPolicy:
    """The policy of a form (its base64 text); InvalidPolicyDocument when it is malformed."""
    try:
        doc = json.loads(base64.b64decode(encoded.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise _invalid("Invalid JSON.") from exc
    if not isinstance(doc, dict):
        raise _invalid("Invalid JSON.")
    if "expiration" not in doc:
        raise _invalid("Policy missing expiration.")
    expiration = _expiration(doc["expiration"])
    raw_conditions = doc.get("conditions")
    if raw_conditions is None:
        raise _invalid("Policy missing conditions.")
    if not isinstance(raw_conditions, list):
        raise _invalid("Invalid 'conditions' value: must be a list.")
    conditions: list[Condition] = []
    length_range: tuple[int, int] | None = None
    for raw in raw_conditions:
        parsed = _condition(raw)
        if isinstance(parsed, Condition):
            conditions.append(parsed)
        else:
            length_range = parsed
    return PostPolicy(expiration, tuple(conditions), length_range)


def exempt(field: str) -> bool:
    return field in EXEMPT or field.startswith(EXEMPT_PREFIXES)


def check_policy(policy: PostPolicy, fields: Mapping[str, str], now: datetime) -> None:
    """AccessDenied unless the form (lower-case names; key with ${filename} resolved; the bucket
    addressed as field "bucket") satisfies every condition and every field is covered."""
    if now >= policy.expiration:
        raise e.AccessDenied("Invalid according to Policy: Policy expired.")
    for cond in policy.conditions:
        if not cond.holds(fields.get(cond.field, "")):
            raise e.AccessDenied(f"Invalid according to Policy: Policy Condition failed: {cond.text}")
    covered = policy.covered()
    extra = [name for name in fields if name not in covered and not exempt(name)]
    if extra:
        raise e.AccessDenied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")


def _missing(name: str) -> e.S3Error:
    return e.InvalidArgument(f"Bucket POST must contain a field named '{name}'.  If it is specified, please check "
                             "the order of the fields.", ArgumentName=name, ArgumentValue="")


def _mismatch(access_key: str, policy: str, provided: str) -> e.S3Error:
    return e.SignatureDoesNotMatch(AWSAccessKeyId=access_key, StringToSign=policy, SignatureProvided=provided)


def _secret(lookup_secret: Callable[[str], str | None], access_key: str) -> str:
    secret = lookup_secret(access_key)
    if secret is None:
        raise e.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    return secret


def _verify_v4(fields: Mapping[str, str], policy: str, lookup_secret: Callable[[str], str | None],
               region: str) -> str:
    algorithm = fields["x-amz-algorithm"]
    if algorithm != V4_ALGORITHM:
        raise e.InvalidArgument("Only AWS4-HMAC-SHA256 is supported as x-amz-algorithm",
                                ArgumentName="x-amz-algorithm", ArgumentValue=algorithm)
    for name in ("x-amz-credential", "x-amz-date", "x-amz-signature"):
        if not fields.get(name):
            raise _missing(name)
    credential = fields["x-amz-credential"]
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or not parts[0] or len(parts[1]) != 8 or not parts[1].isdigit() or parts[4] != "aws4_request":
        raise e.AuthorizationQueryParametersError(
            'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting '
            '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
    access_key, date, cred_region, service, _ = parts
    if service != "s3":
        raise e.AuthorizationQueryParametersError(
            f'Error parsing the X-Amz-Credential parameter; incorrect service "{service}". This endpoint belongs '
            'to "s3".')
    if cred_region != region:
        raise e.AuthorizationQueryParametersError(
            f"Error parsing the X-Amz-Credential parameter; the region '{cred_region}' is wrong; expecting "
            f"'{region}'", Region=region)
    if parse_amz_date(fields["x-amz-date"]) is None:
        raise e.InvalidArgument("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
                                ArgumentName="x-amz-date", ArgumentValue=fields["x-amz-date"])
    secret = _secret(lookup_secret, access_key)
    provided = fields["x-amz-signature"]
    expected = hmac_sha256_hex(signing_key(secret, date, cred_region, service), policy)
    if not signatures_equal(expected, provided.lower()):
        raise _mismatch(access_key, policy, provided)
    return access_key


def _verify_v2(fields: Mapping[str, str], policy: str, lookup_secret: Callable[[str], str | None]) -> str:
    access_key = fields["awsaccesskeyid"]
    provided = fields.get("signature")
    if not provided:
        raise _missing("Signature")
    secret = _secret(lookup_secret, access_key)
    digest = hmac.new(secret.encode("utf-8"), policy.encode("utf-8"), hashlib.sha1).digest()
    if not signatures_equal(base64.b64encode(digest).decode("ascii"), provided.strip()):
        raise _mismatch(access_key, policy, provided)
    return access_key


def verify_signature(fields: Mapping[str, str], lookup_secret: Callable[[str], str | None], region: str) -> str:
    """The access key that signed the form's policy (fields with lower-case names and a policy)."""
    policy = fields["policy"]
    if "x-amz-algorithm" in fields:
        return _verify_v4(fields, policy, lookup_secret, region)
    if "awsaccesskeyid" in fields:
        return _verify_v2(fields, policy, lookup_secret)
    if "x-amz-credential" in fields or "x-amz-signature" in fields:
        raise _missing("x-amz-algorithm")
    raise _missing("AWSAccessKeyId")


def is_signed(fields: Mapping[str, str]) -> bool:
    """Whether a form carries signing fields (then it needs a policy)."""
    return any(name in fields for name in ("awsaccesskeyid", "signature", "x-amz-signature", "x-amz-credential",
                                            "x-amz-algorithm"))
