"""Parsing and validation of policy documents (nuage.core.policy.parse)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nuage.core.policy import MalformedPolicy, PolicyTooLarge, parse_policy
from nuage.core.policy.model import PrincipalSpec

B = "bucket"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17", **top: Any) -> str:
    body: dict[str, Any] = {"Statement": list(statements), **top}
    if version is not None:
        body["Version"] = version
    return json.dumps(body)


def stmt(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{B}/*"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def ident(**fields: Any) -> dict[str, Any]:
    return stmt(Principal=None, **fields)


def test_minimal_bucket_policy() -> None:
    p = parse_policy(doc(stmt(Sid="Public")), kind="bucket", bucket=B)
    assert p.kind == "bucket" and p.version == "2012-10-17" and p.variables
    (s,) = p.statements
    assert s.sid == "Public" and s.effect == "Allow"
    assert s.principal == PrincipalSpec(wildcard=True)
    assert s.actions == ("s3:GetObject",) and s.resources == (f"arn:aws:s3:::{B}/*",)


def test_single_statement_object_and_defaults() -> None:
    text = json.dumps({"Statement": stmt(), "Id": "P1"})
    p = parse_policy(text, kind="bucket", bucket=B)
    assert p.version == "2008-10-17" and not p.variables and p.id == "P1" and len(p.statements) == 1
    assert p.text == text


def test_principal_forms() -> None:
    s = stmt(Principal={"AWS": ["111122223333", "arn:aws:iam::444455556666:user/alice",
                                "arn:aws:iam::444455556666:root"],
                        "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
                        "Service": "logging.s3.amazonaws.com"})
    (st,) = parse_policy(doc(s), kind="bucket", bucket=B).statements
    assert st.principal is not None
    assert st.principal.aws == {"arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:user/alice",
                                "arn:aws:iam::444455556666:root"}
    assert st.principal.canonical == {"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}
    assert st.principal.service == {"logging.s3.amazonaws.com"}
    (st,) = parse_policy(doc(stmt(Principal={"AWS": "*"})), kind="bucket", bucket=B).statements
    assert st.principal == PrincipalSpec(wildcard=True)


def test_not_principal() -> None:
    s = stmt(Effect="Deny", Principal=None, NotPrincipal={"AWS": "arn:aws:iam::444455556666:user/bob"})
    (st,) = parse_policy(doc(s), kind="bucket", bucket=B).statements
    assert st.principal is None and st.not_principal is not None


def test_conditions_parsed() -> None:
    s = stmt(Condition={"ForAnyValue:StringLikeIfExists": {"s3:prefix": ["a/*", "b/*"]},
                        "NumericLessThan": {"s3:max-keys": 10}, "Bool": {"aws:SecureTransport": False}})
    (st,) = parse_policy(doc(s), kind="bucket", bucket=B).statements
    c1, c2, c3 = st.conditions
    assert (c1.base, c1.qualifier, c1.if_exists, c1.values) == ("StringLike", "ForAnyValue", True, ("a/*", "b/*"))
    assert (c2.base, c2.values) == ("NumericLessThan", ("10",))
    assert (c3.base, c3.values) == ("Bool", ("false",))


def test_identity_policy() -> None:
    p = parse_policy(doc(ident(Action=["s3:List*", "iam:GetUser"], Resource="*")), kind="identity")
    assert p.kind == "identity" and p.statements[0].principal is None


@pytest.mark.parametrize(("kind", "text", "message"), [
    ("bucket", "{not json", "This policy contains invalid Json"),
    ("bucket", "[]", "This policy contains invalid Json"),
    ("bucket", '{"Statement": [], "Statement": []}', "This policy contains invalid Json"),
    ("bucket", '{"Version": "2012-10-17", "Statement": NaN}', "This policy contains invalid Json"),
    ("identity", "{not json", "Syntax errors in policy."),
    ("bucket", doc(stmt(), version="2020-01-01"), "Invalid Version"),
    ("bucket", json.dumps({"Version": "2012-10-17"}), "Missing required field Statement"),
    ("bucket", doc(), "Could not parse the policy: Statement is empty!"),
    ("bucket", doc(stmt(), Foo=1), "Unknown field Foo"),
    ("bucket", doc(stmt(Bar="x")), "Unknown field Bar"),
    ("bucket", doc(stmt(Effect=None)), "Missing required field Effect"),
    ("bucket", doc(stmt(Effect="allow")), "Invalid effect: allow"),
    ("bucket", doc(stmt(Principal=None)), "Missing required field Principal"),
    ("bucket", doc(stmt(Principal="someone")), "Invalid principal in policy"),
    ("bucket", doc(stmt(Principal={"AWS": "alice"})), "Invalid principal in policy"),
    ("bucket", doc(stmt(Principal={"AWS": []})), "Invalid principal in policy"),
    ("bucket", doc(stmt(Principal={"AWS": "arn:aws:s3:::x"})), "Invalid principal in policy"),
    ("bucket", doc(stmt(Principal={"Foo": "x"})), "Invalid principal in policy"),
    ("bucket", doc(stmt(Principal={})), "Invalid principal in policy"),
    ("bucket", doc(stmt(NotPrincipal={"AWS": "111122223333"})), "Invalid principal in policy"),
    ("identity", doc(stmt()), "Policy document should not specify a principal."),
    ("bucket", doc(stmt(Action=None)), "Missing required field Action"),
    ("bucket", doc(stmt(Action="s3:GetObjekt")), "Policy has invalid action"),
    ("bucket", doc(stmt(Action="iam:CreateUser")), "Policy has invalid action"),
    ("bucket", doc(stmt(Action="GetObject")), "Policy has invalid action"),
    ("bucket", doc(stmt(Action=[])), "Policy has invalid action"),
    ("bucket", doc(stmt(Action=["s3:GetObject", 3])), "Policy has invalid action"),
    ("bucket", doc(stmt(NotAction="s3:PutObject")), "Policy has invalid action"),
    ("identity", doc(ident(Action="GetObject")),
     "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    ("bucket", doc(stmt(Resource=None)), "Missing required field Resource"),
    ("bucket", doc(stmt(Resource="bucket/*")), "Policy has invalid resource"),
    ("bucket", doc(stmt(Resource="arn:aws:s3:::other/*")), "Policy has invalid resource"),
    ("bucket", doc(stmt(Resource="arn:aws:s3:::bucketx/*")), "Policy has invalid resource"),
    ("bucket", doc(stmt(Resource=["arn:aws:s3:::bucket/*", "arn:aws:s3:::other"])), "Policy has invalid resource"),
    ("bucket", doc(stmt(NotResource="arn:aws:s3:::bucket/x")), "Policy has invalid resource"),
    ("identity", doc(ident(Resource="bucket/*")), 'Resource bucket/* must be in ARN format or "*".'),
    ("bucket", doc(stmt(Action="s3:ListBucket")), "Action does not apply to any resource(s) in statement"),
    ("bucket", doc(stmt(Action=["s3:GetObject", "s3:ListBucket"])),
     "Action does not apply to any resource(s) in statement"),
    ("bucket", doc(stmt(Resource="arn:aws:s3:::bucket")), "Action does not apply to any resource(s) in statement"),
    ("bucket", doc(stmt(Action="s3:ListAllMyBuckets", Resource="*")),
     "Action does not apply to any resource(s) in statement"),
    ("bucket", doc(stmt(Condition={"StringEqualz": {"s3:prefix": "a"}})), "Invalid Condition type : StringEqualz"),
    ("bucket", doc(stmt(Condition={"ForSomeValues:StringLike": {"s3:prefix": "a"}})),
     "Invalid Condition type : ForSomeValues:StringLike"),
    ("bucket", doc(stmt(Condition={"NullIfExists": {"s3:prefix": "true"}})), "Invalid Condition type : NullIfExists"),
    ("bucket", doc(stmt(Condition={"StringLike": {"prefix": "a"}})), "Policy has an invalid condition key"),
    ("bucket", doc(stmt(Condition={"StringLike": {"s3:prefix": None}})), "This policy contains invalid Json"),
    ("bucket", doc(stmt(Condition={"StringLike": {"s3:prefix": []}})), "This policy contains invalid Json"),
    ("bucket", doc(stmt(Condition={"StringLike": {"s3:prefix": {"a": 1}}})), "This policy contains invalid Json"),
    ("bucket", doc(stmt(Condition={"StringLike": "x"})), "This policy contains invalid Json"),
    ("bucket", doc(stmt(Condition=["x"])), "This policy contains invalid Json"),
    ("bucket", doc(stmt(Sid="a"), stmt(Sid="a")), "Statement IDs (SID) in a single policy must be unique."),
    ("identity", doc(ident(Sid="has space")),
     "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
])
def test_malformed(kind: str, text: str, message: str) -> None:
    with pytest.raises(MalformedPolicy) as info:
        parse_policy(text, kind="bucket" if kind == "bucket" else "identity", bucket=B)
    assert info.value.message == message


@pytest.mark.parametrize("fields", [
    {"Resource": "arn:aws:s3:::bucket/*"},
    {"Resource": "arn:aws:s3:::bucket/folder/*"},
    {"Resource": "arn:aws:s3:::buck*/*"},
    {"Resource": "arn:aws:s3:::*"},
    {"Resource": "*"},
    {"Resource": "arn:aws:s3:::bucket/${aws:username}/*"},
    {"Action": "s3:*", "Resource": "arn:aws:s3:::bucket"},
    {"Action": "s3:List*", "Resource": "arn:aws:s3:::bucket"},
    {"Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]},
    {"Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]},
    {"Action": "*"},
    {"Action": "S3:getobject"},
    {"Action": "s3:Get?bject"},
    {"NotAction": "s3:DeleteObject", "Action": None},
    {"NotResource": "arn:aws:s3:::bucket/private/*", "Resource": None},
    {"Sid": "any text, even spaces"},
    {"Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]}}},
    {"Condition": {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}},
    {"Condition": {"stringequals": {"S3:X-AMZ-ACL": "public-read"}}},
    {"Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
    {"Condition": {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}}},
    {"Principal": {"AWS": "arn:aws:iam::111122223333:role/reader"}},
    {"Principal": {"Federated": "cognito-identity.amazonaws.com"}},
])
def test_valid_bucket_statements(fields: dict[str, Any]) -> None:
    parse_policy(doc(stmt(**fields)), kind="bucket", bucket=B)


def test_bucket_is_optional_for_validation() -> None:
    parse_policy(doc(stmt(Resource="arn:aws:s3:::anything/*")), kind="bucket", bucket=None)
    with pytest.raises(MalformedPolicy, match="Action does not apply"):
        parse_policy(doc(stmt(Action="s3:ListBucket", Resource="arn:aws:s3:::x/*")), kind="bucket", bucket=None)


def test_identity_allows_any_vendor_and_resource_arn() -> None:
    parse_policy(doc(ident(Action=["ec2:Describe*", "s3:ListBucket"],
                           Resource=["arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:s3:::b"])),
                 kind="identity")


def test_size_limits() -> None:
    big = doc(stmt(Sid="x" * (20 * 1024)))
    with pytest.raises(PolicyTooLarge) as info:
        parse_policy(big, kind="bucket", bucket=B)
    assert isinstance(info.value, MalformedPolicy)
    parse_policy(big, kind="bucket", bucket=B, max_size=64 * 1024)

    text = doc(ident(Resource="*", Action=[f"s3:Get{'x' * 40}{i}" for i in range(40)]))
    with pytest.raises(PolicyTooLarge, match="Maximum policy size of 2048 bytes exceeded"):
        parse_policy(text, kind="identity")
    parse_policy(text, kind="identity", max_size=10240)


def test_identity_size_ignores_whitespace() -> None:
    text = doc(ident(Resource="*", Action="s3:*"))
    padded = text.replace(",", ",\n" + " " * 1000)
    assert len(padded) > 2048
    parse_policy(padded, kind="identity")
