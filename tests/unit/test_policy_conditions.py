"""Condition operators (nuage.core.policy.conditions), one row per documented behaviour."""

from __future__ import annotations

import base64

import pytest

from nuage.core.policy.conditions import evaluate_condition, parse_date, parse_operator
from nuage.core.policy.model import Condition, Principal, RequestContext

KeyValues = dict[str, list[str]]


def check(operator: str, key: str, values: list[str], request: KeyValues, *, variables: bool = True,
          principal: Principal | None = None) -> bool:
    parsed = parse_operator(operator)
    assert parsed is not None
    base, qualifier, if_exists = parsed
    cond = Condition(operator=operator, base=base, qualifier=qualifier, if_exists=if_exists, key=key,
                     values=tuple(values))
    ctx = RequestContext(principal or Principal.user("111122223333", "alice"), "s3:GetObject",
                         "arn:aws:s3:::b/k", request)
    return evaluate_condition(cond, ctx, variables=variables)


@pytest.mark.parametrize(("name", "expected"), [
    ("StringEquals", ("StringEquals", None, False)),
    ("stringequals", ("StringEquals", None, False)),
    ("StringLikeIfExists", ("StringLike", None, True)),
    ("ForAnyValue:StringLike", ("StringLike", "ForAnyValue", False)),
    ("ForAllValues:StringEqualsIfExists", ("StringEquals", "ForAllValues", True)),
    ("NotIpAddressIfExists", ("NotIpAddress", None, True)),
    ("Null", ("Null", None, False)),
    ("NullIfExists", None),
    ("ForAnyValue:Null", None),
    ("StringEqual", None),
    ("Foo:StringEquals", None),
    ("IfExists", None),
    ("", None),
])
def test_parse_operator(name: str, expected: tuple[str, str | None, bool] | None) -> None:
    assert parse_operator(name) == expected


K = "s3:x-amz-acl"

CASES: list[tuple[str, str, list[str], KeyValues, bool]] = [
    # String
    ("StringEquals", K, ["public-read"], {K: ["public-read"]}, True),
    ("StringEquals", K, ["public-read"], {K: ["Public-Read"]}, False),
    ("StringEquals", K, ["private", "public-read"], {K: ["public-read"]}, True),      # OR over values
    ("StringEquals", K, ["public-read"], {}, False),                                   # missing key
    ("StringEquals", K, ["public-*"], {K: ["public-read"]}, False),                    # no wildcards
    ("StringEquals", K, ["public-*"], {K: ["public-*"]}, True),
    ("StringEquals", "S3:X-AMZ-ACL", ["private"], {K: ["private"]}, True),             # key names ignore case
    ("StringEquals", K, ["private"], {"S3:X-Amz-Acl": ["private"]}, True),
    ("StringNotEquals", K, ["public-read"], {K: ["private"]}, True),
    ("StringNotEquals", K, ["public-read"], {K: ["public-read"]}, False),
    ("StringNotEquals", K, ["a", "b"], {K: ["a"]}, False),                            # NOR over values
    ("StringNotEquals", K, ["a", "b"], {K: ["c"]}, True),
    ("StringNotEquals", K, ["public-read"], {}, True),                                  # missing key: true
    ("StringEqualsIgnoreCase", K, ["PUBLIC-READ"], {K: ["public-read"]}, True),
    ("StringNotEqualsIgnoreCase", K, ["PUBLIC-READ"], {K: ["public-read"]}, False),
    ("StringNotEqualsIgnoreCase", K, ["PUBLIC-READ"], {}, True),
    ("StringLike", "s3:prefix", ["home/*"], {"s3:prefix": ["home/alice/"]}, True),
    ("StringLike", "s3:prefix", ["home/*"], {"s3:prefix": ["Home/alice/"]}, False),
    ("StringLike", "s3:prefix", ["home/?"], {"s3:prefix": ["home/a"]}, True),
    ("StringLike", "s3:prefix", ["", "home/*"], {"s3:prefix": [""]}, True),
    ("StringNotLike", "s3:prefix", ["secret/*"], {"s3:prefix": ["home/"]}, True),
    ("StringNotLike", "s3:prefix", ["secret/*"], {"s3:prefix": ["secret/x"]}, False),
    ("StringNotLike", "s3:prefix", ["secret/*"], {}, True),
    # IfExists
    ("StringEqualsIfExists", K, ["private"], {}, True),
    ("StringEqualsIfExists", K, ["private"], {K: ["public-read"]}, False),
    ("StringEqualsIfExists", K, ["private"], {K: ["private"]}, True),
    ("StringNotEqualsIfExists", K, ["private"], {}, True),
    ("StringNotEqualsIfExists", K, ["private"], {K: ["private"]}, False),
    ("NumericLessThanIfExists", "s3:max-keys", ["10"], {}, True),
    # Numeric
    ("NumericEquals", "s3:max-keys", ["10"], {"s3:max-keys": ["10"]}, True),
    ("NumericEquals", "s3:max-keys", ["10"], {"s3:max-keys": ["10.0"]}, True),
    ("NumericNotEquals", "s3:max-keys", ["10"], {"s3:max-keys": ["11"]}, True),
    ("NumericNotEquals", "s3:max-keys", ["10"], {}, True),
    ("NumericLessThan", "s3:max-keys", ["10"], {"s3:max-keys": ["9"]}, True),
    ("NumericLessThan", "s3:max-keys", ["10"], {"s3:max-keys": ["10"]}, False),
    ("NumericLessThanEquals", "s3:max-keys", ["10"], {"s3:max-keys": ["10"]}, True),
    ("NumericGreaterThan", "s3:max-keys", ["10"], {"s3:max-keys": ["100"]}, True),
    ("NumericGreaterThan", "s3:max-keys", ["10"], {"s3:max-keys": ["9"]}, False),
    ("NumericGreaterThanEquals", "s3:max-keys", ["10"], {"s3:max-keys": ["10"]}, True),
    ("NumericLessThan", "s3:max-keys", ["10"], {"s3:max-keys": ["abc"]}, False),        # not a number
    ("NumericLessThan", "s3:max-keys", ["ten"], {"s3:max-keys": ["1"]}, False),
    ("NumericLessThan", "s3:max-keys", ["10"], {}, False),
    # Date
    ("DateGreaterThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], {"aws:CurrentTime": ["2024-06-01T00:00:00Z"]},
     True),
    ("DateGreaterThan", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], {"aws:CurrentTime": ["2023-06-01T00:00:00Z"]},
     False),
    ("DateLessThan", "aws:CurrentTime", ["2024-01-01"], {"aws:CurrentTime": ["2023-12-31T23:59:59Z"]}, True),
    ("DateLessThanEquals", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], {"aws:CurrentTime": ["2024-01-01"]}, True),
    ("DateGreaterThanEquals", "aws:CurrentTime", ["2024-01-01T00:00:00+01:00"],
     {"aws:CurrentTime": ["2023-12-31T23:00:00Z"]}, True),
    ("DateEquals", "aws:EpochTime", ["1704067200"], {"aws:EpochTime": ["1704067200"]}, True),
    ("DateEquals", "aws:CurrentTime", ["1704067200"], {"aws:CurrentTime": ["2024-01-01T00:00:00Z"]}, True),
    ("DateNotEquals", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], {"aws:CurrentTime": ["2024-01-02T00:00:00Z"]},
     True),
    ("DateNotEquals", "aws:CurrentTime", ["2024-01-01T00:00:00Z"], {}, True),
    ("DateLessThan", "aws:CurrentTime", ["not a date"], {"aws:CurrentTime": ["2024-01-01T00:00:00Z"]}, False),
    # Bool
    ("Bool", "aws:SecureTransport", ["true"], {"aws:SecureTransport": ["true"]}, True),
    ("Bool", "aws:SecureTransport", ["false"], {"aws:SecureTransport": ["true"]}, False),
    ("Bool", "aws:SecureTransport", ["TRUE"], {"aws:SecureTransport": ["True"]}, True),
    ("Bool", "aws:SecureTransport", ["false"], {}, False),
    ("BoolIfExists", "aws:SecureTransport", ["false"], {}, True),
    ("Bool", "aws:SecureTransport", ["yes"], {"aws:SecureTransport": ["yes"]}, False),
    # Binary
    ("BinaryEquals", "k:bin", [base64.b64encode(b"\x00\x01").decode()],
     {"k:bin": [base64.b64encode(b"\x00\x01").decode()]}, True),
    ("BinaryEquals", "k:bin", [base64.b64encode(b"\x00\x01").decode()],
     {"k:bin": [base64.b64encode(b"\x00\x02").decode()]}, False),
    # IP
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24"], {"aws:SourceIp": ["192.0.2.17"]}, True),
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24"], {"aws:SourceIp": ["198.51.100.1"]}, False),
    ("IpAddress", "aws:SourceIp", ["192.0.2.5"], {"aws:SourceIp": ["192.0.2.5"]}, True),
    ("IpAddress", "aws:SourceIp", ["192.0.2.5/24"], {"aws:SourceIp": ["192.0.2.9"]}, True),         # host bits
    ("IpAddress", "aws:SourceIp", ["2001:db8::/32"], {"aws:SourceIp": ["2001:db8:1::7"]}, True),
    ("IpAddress", "aws:SourceIp", ["2001:db8::/32"], {"aws:SourceIp": ["192.0.2.1"]}, False),
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24"], {"aws:SourceIp": ["::ffff:192.0.2.1"]}, True),
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24", "2001:db8::/32"], {"aws:SourceIp": ["2001:db8::1"]}, True),
    ("IpAddress", "aws:SourceIp", ["garbage"], {"aws:SourceIp": ["192.0.2.1"]}, False),
    ("IpAddress", "aws:SourceIp", ["192.0.2.0/24"], {}, False),
    ("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24"], {"aws:SourceIp": ["198.51.100.1"]}, True),
    ("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24"], {"aws:SourceIp": ["192.0.2.1"]}, False),
    ("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24", "203.0.113.0/24"], {"aws:SourceIp": ["203.0.113.9"]}, False),
    ("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24"], {}, True),
    # ARN
    ("ArnEquals", "aws:SourceArn", ["arn:aws:s3:::b"], {"aws:SourceArn": ["arn:aws:s3:::b"]}, True),
    ("ArnLike", "aws:SourceArn", ["arn:aws:iam::*:user/*"],
     {"aws:SourceArn": ["arn:aws:iam::111122223333:user/x"]}, True),
    ("ArnEquals", "aws:SourceArn", ["arn:aws:iam::*:user/*"],
     {"aws:SourceArn": ["arn:aws:iam::111122223333:user/x"]}, True),
    ("ArnLike", "aws:SourceArn", ["arn:aws:iam::1111*:user/*"],
     {"aws:SourceArn": ["arn:aws:iam::222222223333:user/x"]}, False),
    ("ArnLike", "aws:SourceArn", ["*"], {"aws:SourceArn": ["not-an-arn"]}, False),
    ("ArnNotLike", "aws:SourceArn", ["arn:aws:s3:::b"], {"aws:SourceArn": ["arn:aws:s3:::c"]}, True),
    ("ArnNotEquals", "aws:SourceArn", ["arn:aws:s3:::b"], {"aws:SourceArn": ["arn:aws:s3:::b"]}, False),
    ("ArnNotLike", "aws:SourceArn", ["arn:aws:s3:::b"], {}, True),
    # Null
    ("Null", "s3:x-amz-server-side-encryption", ["true"], {}, True),
    ("Null", "s3:x-amz-server-side-encryption", ["true"], {"s3:x-amz-server-side-encryption": ["AES256"]}, False),
    ("Null", "s3:x-amz-server-side-encryption", ["false"], {"s3:x-amz-server-side-encryption": ["AES256"]}, True),
    ("Null", "s3:x-amz-server-side-encryption", ["false"], {}, False),
    ("Null", "s3:x-amz-server-side-encryption", ["true"], {"s3:x-amz-server-side-encryption": []}, True),
    # set operators
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"], {"s3:RequestObjectTagKeys": ["a"]}, True),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"],
     {"s3:RequestObjectTagKeys": ["a", "b"]}, True),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a", "b"],
     {"s3:RequestObjectTagKeys": ["a", "c"]}, False),
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a"], {}, True),                  # missing: true
    ("ForAllValues:StringEquals", "s3:RequestObjectTagKeys", ["a"], {"s3:RequestObjectTagKeys": []}, True),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a"], {"s3:RequestObjectTagKeys": ["c", "a"]}, True),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a"], {"s3:RequestObjectTagKeys": ["c"]}, False),
    ("ForAnyValue:StringEquals", "s3:RequestObjectTagKeys", ["a"], {}, False),                  # missing: false
    ("ForAnyValue:StringEqualsIfExists", "s3:RequestObjectTagKeys", ["a"], {}, True),
    ("ForAllValues:StringLike", "s3:RequestObjectTagKeys", ["Created*"],
     {"s3:RequestObjectTagKeys": ["CreatedBy", "CreatedAt"]}, True),
    ("ForAllValues:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"],
     {"s3:RequestObjectTagKeys": ["a", "b"]}, True),
    ("ForAllValues:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"],
     {"s3:RequestObjectTagKeys": ["a", "secret"]}, False),
    ("ForAllValues:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"], {}, True),
    ("ForAnyValue:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"],
     {"s3:RequestObjectTagKeys": ["secret", "b"]}, True),
    ("ForAnyValue:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"],
     {"s3:RequestObjectTagKeys": ["secret"]}, False),
    ("ForAnyValue:StringNotEquals", "s3:RequestObjectTagKeys", ["secret"], {}, False),
    # several request values without a qualifier: any value matches
    ("StringEquals", "k:multi", ["x"], {"k:multi": ["y", "x"]}, True),
    ("StringNotEquals", "k:multi", ["x"], {"k:multi": ["y", "x"]}, False),
    # tags: the part after "/" keeps its case
    ("StringEquals", "s3:ExistingObjectTag/Project", ["blue"], {"s3:existingobjecttag/Project": ["blue"]}, True),
    ("StringEquals", "S3:EXISTINGOBJECTTAG/Project", ["blue"], {"s3:ExistingObjectTag/Project": ["blue"]}, True),
    ("StringEquals", "s3:ExistingObjectTag/project", ["blue"], {"s3:ExistingObjectTag/Project": ["blue"]}, False),
    # policy variables in values
    ("StringLike", "s3:prefix", ["home/${aws:username}/*"], {"s3:prefix": ["home/alice/docs"]}, True),
    ("StringLike", "s3:prefix", ["home/${aws:username}/*"], {"s3:prefix": ["home/bob/docs"]}, False),
    ("StringEquals", "s3:prefix", ["${aws:username}"], {"s3:prefix": ["alice"]}, True),
    ("StringEquals", "s3:prefix", ["${aws:PrincipalAccount}"], {"s3:prefix": ["111122223333"]}, True),
    ("StringEquals", "s3:prefix", ["${aws:userid}"], {"s3:prefix": ["${aws:userid}"]}, False),    # unresolved
    ("StringNotEquals", "s3:prefix", ["${aws:PrincipalTag/x}"], {"s3:prefix": ["a"]}, True),       # unresolved
    ("StringEquals", "s3:prefix", ["${aws:PrincipalTag/x, 'dflt'}"], {"s3:prefix": ["dflt"]}, True),
    ("StringEquals", "s3:prefix", ["${*}"], {"s3:prefix": ["*"]}, True),
    ("StringLike", "s3:prefix", ["a${*}"], {"s3:prefix": ["abc"]}, False),
    ("StringLike", "s3:prefix", ["a${*}"], {"s3:prefix": ["a*"]}, True),
    ("StringLike", "s3:prefix", ["${$}{x}"], {"s3:prefix": ["${x}"]}, True),
    ("ArnLike", "aws:SourceArn", ["arn:aws:iam::${aws:PrincipalAccount}:user/*"],
     {"aws:SourceArn": ["arn:aws:iam::111122223333:user/x"]}, True),
    ("NumericEquals", "s3:max-keys", ["${aws:username}"], {"s3:max-keys": ["1"]}, False),  # no variables in numbers
]


@pytest.mark.parametrize(("operator", "key", "values", "request_keys", "expected"), CASES)
def test_operator(operator: str, key: str, values: list[str], request_keys: KeyValues, expected: bool) -> None:
    assert check(operator, key, values, request_keys) is expected


def test_variables_need_version_2012() -> None:
    assert not check("StringEquals", "s3:prefix", ["${aws:username}"], {"s3:prefix": ["alice"]}, variables=False)
    assert check("StringEquals", "s3:prefix", ["${aws:username}"], {"s3:prefix": ["${aws:username}"]},
                 variables=False)


def test_principal_keys_are_derived() -> None:
    root = Principal.root("111122223333")
    assert check("StringEquals", "aws:userid", ["111122223333"], {}, principal=root)
    assert check("Null", "aws:username", ["true"], {}, principal=root)
    assert check("StringEquals", "aws:PrincipalType", ["Anonymous"], {}, principal=Principal.anonymous())
    user = Principal.user("111122223333", "alice", user_id="AIDA1")
    assert check("StringEquals", "aws:userid", ["AIDA1"], {}, principal=user)
    assert check("StringEquals", "aws:PrincipalArn", ["arn:aws:iam::111122223333:user/alice"], {}, principal=user)
    # explicit keys override derived ones
    assert check("StringEquals", "aws:username", ["bob"], {"aws:username": ["bob"]}, principal=user)


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-01T00:00:00Z", 1704067200.0),
    ("2024-01-01", 1704067200.0),
    ("2024-01-01T01:00:00+01:00", 1704067200.0),
    ("1704067200", 1704067200.0),
    ("1704067200.5", 1704067200.5),
    ("nope", None),
])
def test_parse_date(text: str, expected: float | None) -> None:
    assert parse_date(text) == expected
