"""Policy evaluation and the S3 authorization flow, on AWS documentation examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nuage.core.policy import (
    Decision,
    Policy,
    Principal,
    RequestContext,
    authorize,
    evaluate,
    evaluate_detailed,
    parse_policy,
)

OWNER = "111122223333"
OTHER = "444455556666"
ROOT = Principal.root(OWNER, canonical_id="c0ffee")
ALICE = Principal.user(OWNER, "alice", user_id="AIDAALICE")
BOB = Principal.user(OWNER, "bob", user_id="AIDABOB")
CAROL = Principal.user(OTHER, "carol", user_id="AIDACAROL")
OTHER_ROOT = Principal.root(OTHER, canonical_id="beef")
ANON = Principal.anonymous()
BUCKET = "amzn-s3-demo-bucket"
OBJ = f"arn:aws:s3:::{BUCKET}/photos/cat.jpg"
BKT = f"arn:aws:s3:::{BUCKET}"


def bucket_policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}), kind="bucket",
                        bucket=BUCKET)


def identity_policy(*statements: dict[str, Any], version: str = "2012-10-17") -> Policy:
    return parse_policy(json.dumps({"Version": version, "Statement": list(statements)}), kind="identity")


def ctx(principal: Principal, action: str, resource: str, keys: dict[str, list[str]] | None = None
        ) -> RequestContext:
    return RequestContext(principal, action, resource, keys or {})


# --- AWS examples -------------------------------------------------------------------------------

PUBLIC_READ = bucket_policy({"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
                             "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{BKT}/*"})


@pytest.mark.parametrize(("principal", "action", "resource", "expected"), [
    (ANON, "s3:GetObject", OBJ, Decision.ALLOW),
    (CAROL, "s3:GetObject", OBJ, Decision.ALLOW),
    (ANON, "s3:GetObjectVersion", OBJ, Decision.ALLOW),
    (ANON, "s3:PutObject", OBJ, Decision.NEUTRAL),
    (ANON, "s3:ListBucket", BKT, Decision.NEUTRAL),
    (ANON, "s3:GetObject", "arn:aws:s3:::other/x", Decision.NEUTRAL),
])
def test_public_read(principal: Principal, action: str, resource: str, expected: Decision) -> None:
    assert evaluate([PUBLIC_READ], ctx(principal, action, resource)) is expected


IP_RESTRICTED = bucket_policy(
    {"Sid": "IPAllow", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BKT, f"{BKT}/*"],
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:DB8:1234:5678::/64"]}}},
)


@pytest.mark.parametrize(("ip", "expected"), [
    ("192.0.2.10", Decision.NEUTRAL),
    ("2001:db8:1234:5678::9", Decision.NEUTRAL),
    ("203.0.113.1", Decision.DENY),
    ("2001:db8:1234:9999::1", Decision.DENY),
    (None, Decision.DENY),       # key missing: NotIpAddress is true, so the deny applies
])
def test_ip_restriction(ip: str | None, expected: Decision) -> None:
    keys = {"aws:SourceIp": [ip]} if ip else {}
    assert evaluate([IP_RESTRICTED], ctx(ALICE, "s3:GetObject", OBJ, keys)) is expected


DENY_INSECURE = bucket_policy(
    {"Sid": "AllowSSLRequestsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [BKT, f"{BKT}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:GetObject", "Resource": f"{BKT}/*"},
)


@pytest.mark.parametrize(("secure", "expected"), [("true", Decision.ALLOW), ("false", Decision.DENY)])
def test_deny_non_tls(secure: str, expected: Decision) -> None:
    assert evaluate([DENY_INSECURE], ctx(CAROL, "s3:GetObject", OBJ, {"aws:SecureTransport": [secure]})) is expected


# Identity policy: list only your home "folder" (s3:prefix), read/write inside it.
HOME = identity_policy(
    {"Sid": "ListHome", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": BKT,
     "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}}},
    {"Sid": "RWHome", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
     "Resource": f"{BKT}/home/${{aws:username}}/*"},
)


@pytest.mark.parametrize(("principal", "action", "resource", "keys", "expected"), [
    (ALICE, "s3:ListBucket", BKT, {"s3:prefix": ["home/alice/"]}, Decision.ALLOW),
    (ALICE, "s3:ListBucket", BKT, {"s3:prefix": ["home/"]}, Decision.ALLOW),
    (ALICE, "s3:ListBucket", BKT, {"s3:prefix": [""]}, Decision.ALLOW),
    (ALICE, "s3:ListBucket", BKT, {"s3:prefix": ["home/bob/"]}, Decision.NEUTRAL),
    (ALICE, "s3:ListBucket", BKT, {}, Decision.NEUTRAL),
    (BOB, "s3:ListBucket", BKT, {"s3:prefix": ["home/bob/x"]}, Decision.ALLOW),
    (ALICE, "s3:PutObject", f"{BKT}/home/alice/notes.txt", {}, Decision.ALLOW),
    (ALICE, "s3:PutObject", f"{BKT}/home/bob/notes.txt", {}, Decision.NEUTRAL),
    (ROOT, "s3:GetObject", f"{BKT}/home/root/x", {}, Decision.NEUTRAL),      # no aws:username for root
])
def test_prefix_restricted_listing(principal: Principal, action: str, resource: str, keys: dict[str, list[str]],
                                   expected: Decision) -> None:
    assert evaluate([HOME], ctx(principal, action, resource, keys)) is expected


def test_variables_are_literal_under_2008() -> None:
    legacy = identity_policy({"Effect": "Allow", "Action": "s3:GetObject",
                              "Resource": f"{BKT}/home/${{aws:username}}/*"}, version="2008-10-17")
    assert evaluate([legacy], ctx(ALICE, "s3:GetObject", f"{BKT}/home/alice/x")) is Decision.NEUTRAL
    assert evaluate([legacy], ctx(ALICE, "s3:GetObject", f"{BKT}/home/${{aws:username}}/x")) is Decision.ALLOW


CROSS_ACCOUNT = bucket_policy(
    {"Sid": "CrossAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
     "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"{BKT}/*"},
    {"Sid": "ListForCarol", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:user/carol"},
     "Action": "s3:ListBucket", "Resource": BKT},
)
CAROL_CAN_READ = identity_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"})


@pytest.mark.parametrize(("principal", "identity", "action", "resource", "expected"), [
    (CAROL, [CAROL_CAN_READ], "s3:GetObject", OBJ, True),          # both sides allow
    (CAROL, [], "s3:GetObject", OBJ, False),                        # her account did not delegate to her
    (CAROL, [CAROL_CAN_READ], "s3:PutObject", OBJ, False),          # identity side silent
    (OTHER_ROOT, [], "s3:PutObject", OBJ, True),                    # an account root needs no identity policy
    (OTHER_ROOT, [], "s3:DeleteObject", OBJ, False),                # bucket side silent
    (CAROL, [identity_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})], "s3:ListBucket", BKT, True),
    (CAROL, [], "s3:ListBucket", BKT, False),
])
def test_cross_account(principal: Principal, identity: list[Policy], action: str, resource: str,
                       expected: bool) -> None:
    assert authorize(identity, CROSS_ACCOUNT, ctx(principal, action, resource), same_account=False,
                     is_root=principal.is_root, acl_allows=False) is expected


def test_account_principal_is_delegation() -> None:
    result = evaluate_detailed([CROSS_ACCOUNT], ctx(CAROL, "s3:GetObject", OBJ))
    assert result.decision is Decision.ALLOW and result.delegated
    assert result.statement is not None and result.statement.sid == "CrossAccount"
    result = evaluate_detailed([CROSS_ACCOUNT], ctx(CAROL, "s3:ListBucket", BKT))
    assert result.decision is Decision.ALLOW and not result.delegated
    result = evaluate_detailed([CROSS_ACCOUNT], ctx(OTHER_ROOT, "s3:GetObject", OBJ))
    assert not result.delegated


# NotPrincipal with Deny: everyone except Bob (user ARN and his account both listed, as AWS advises).
NOT_PRINCIPAL = bucket_policy(
    {"Effect": "Deny", "NotPrincipal": {"AWS": [f"arn:aws:iam::{OWNER}:user/bob", f"arn:aws:iam::{OWNER}:root"]},
     "Action": "s3:*", "Resource": [BKT, f"{BKT}/*"]},
)
NOT_PRINCIPAL_USER_ONLY = bucket_policy(
    {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{OWNER}:user/bob"},
     "Action": "s3:*", "Resource": [BKT, f"{BKT}/*"]},
)


@pytest.mark.parametrize(("policy", "principal", "expected"), [
    (NOT_PRINCIPAL, BOB, Decision.NEUTRAL),
    (NOT_PRINCIPAL, ROOT, Decision.NEUTRAL),
    (NOT_PRINCIPAL, ALICE, Decision.DENY),
    (NOT_PRINCIPAL, CAROL, Decision.DENY),
    (NOT_PRINCIPAL, ANON, Decision.DENY),
    (NOT_PRINCIPAL_USER_ONLY, BOB, Decision.DENY),    # the account was not listed: Bob is denied too
    (NOT_PRINCIPAL_USER_ONLY, ALICE, Decision.DENY),
])
def test_not_principal_deny(policy: Policy, principal: Principal, expected: Decision) -> None:
    assert evaluate([policy], ctx(principal, "s3:GetObject", OBJ)) is expected


def test_explicit_deny_overrides_allow() -> None:
    allow_all = identity_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    deny_delete = identity_policy({"Effect": "Deny", "Action": "s3:Delete*", "Resource": f"{BKT}/*"})
    assert evaluate([allow_all, deny_delete], ctx(ALICE, "s3:DeleteObject", OBJ)) is Decision.DENY
    assert evaluate([deny_delete, allow_all], ctx(ALICE, "s3:DeleteObject", OBJ)) is Decision.DENY
    assert evaluate([allow_all, deny_delete], ctx(ALICE, "s3:GetObject", OBJ)) is Decision.ALLOW
    assert evaluate([], ctx(ALICE, "s3:GetObject", OBJ)) is Decision.NEUTRAL
    # a bucket-policy deny beats an identity allow in the same account
    deny_bp = bucket_policy({"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/alice"},
                             "Action": "s3:GetObject", "Resource": f"{BKT}/*"})
    assert not authorize([allow_all], deny_bp, ctx(ALICE, "s3:GetObject", OBJ), same_account=True, is_root=False,
                         acl_allows=True)


TAGS = bucket_policy(
    {"Sid": "ReadClassified", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:GetObject",
     "Resource": f"{BKT}/*", "Condition": {"StringEquals": {"s3:ExistingObjectTag/environment": "production"}}},
    {"Sid": "PutOnlyAllowedTags", "Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:PutObject",
     "Resource": f"{BKT}/*",
     "Condition": {"ForAllValues:StringLike": {"s3:RequestObjectTagKeys": ["Owner", "CreationDate"]},
                   "StringEquals": {"s3:RequestObjectTag/Owner": "${aws:username}"}}},
)


@pytest.mark.parametrize(("action", "keys", "expected"), [
    ("s3:GetObject", {"s3:ExistingObjectTag/environment": ["production"]}, Decision.ALLOW),
    ("s3:GetObject", {"s3:ExistingObjectTag/environment": ["staging"]}, Decision.NEUTRAL),
    ("s3:GetObject", {}, Decision.NEUTRAL),
    ("s3:PutObject", {"s3:RequestObjectTagKeys": ["Owner"], "s3:RequestObjectTag/Owner": ["carol"]}, Decision.ALLOW),
    ("s3:PutObject", {"s3:RequestObjectTagKeys": ["Owner", "Secret"], "s3:RequestObjectTag/Owner": ["carol"]},
     Decision.NEUTRAL),
    ("s3:PutObject", {"s3:RequestObjectTagKeys": ["Owner"], "s3:RequestObjectTag/Owner": ["mallory"]},
     Decision.NEUTRAL),
])
def test_tag_conditions(action: str, keys: dict[str, list[str]], expected: Decision) -> None:
    assert evaluate([TAGS], ctx(CAROL, action, OBJ, keys)) is expected


def test_required_acl_on_put() -> None:
    policy = bucket_policy({"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "s3:PutObject",
                            "Resource": f"{BKT}/*",
                            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}})
    assert evaluate([policy], ctx(CAROL, "s3:PutObject", OBJ, {"s3:x-amz-acl": ["bucket-owner-full-control"]})) \
        is Decision.ALLOW
    assert evaluate([policy], ctx(CAROL, "s3:PutObject", OBJ)) is Decision.NEUTRAL


def test_require_encryption_with_null() -> None:
    policy = bucket_policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BKT}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}}},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"{BKT}/*",
         "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}},
    )
    assert evaluate([policy], ctx(ALICE, "s3:PutObject", OBJ)) is Decision.DENY
    assert evaluate([policy], ctx(ALICE, "s3:PutObject", OBJ, {"s3:x-amz-server-side-encryption": ["aws:kms"]})) \
        is Decision.DENY
    assert evaluate([policy], ctx(ALICE, "s3:PutObject", OBJ, {"s3:x-amz-server-side-encryption": ["AES256"]})) \
        is Decision.NEUTRAL


def test_max_keys_and_time_window() -> None:
    policy = identity_policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BKT,
         "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"},
                       "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                       "DateLessThan": {"aws:CurrentTime": "2025-01-01T00:00:00Z"}}})
    ok = {"s3:max-keys": ["5"], "aws:CurrentTime": ["2024-06-01T12:00:00Z"]}
    assert evaluate([policy], ctx(ALICE, "s3:ListBucket", BKT, ok)) is Decision.ALLOW
    assert evaluate([policy], ctx(ALICE, "s3:ListBucket", BKT, {**ok, "s3:max-keys": ["50"]})) is Decision.NEUTRAL
    assert evaluate([policy], ctx(ALICE, "s3:ListBucket", BKT, {**ok, "aws:CurrentTime": ["2025-06-01T00:00:00Z"]})) \
        is Decision.NEUTRAL


def test_not_action_and_not_resource() -> None:
    policy = identity_policy(
        {"Effect": "Allow", "NotAction": "s3:Delete*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": [BKT, f"{BKT}/*"]},
    )
    assert evaluate([policy], ctx(ALICE, "s3:GetObject", OBJ)) is Decision.ALLOW
    assert evaluate([policy], ctx(ALICE, "s3:DeleteObject", OBJ)) is Decision.NEUTRAL
    assert evaluate([policy], ctx(ALICE, "s3:GetObject", "arn:aws:s3:::elsewhere/x")) is Decision.DENY


def test_not_resource_with_unresolved_variable_matches() -> None:
    policy = identity_policy({"Effect": "Deny", "Action": "s3:*", "NotResource": f"{BKT}/${{aws:username}}/*"})
    assert evaluate([policy], ctx(ALICE, "s3:GetObject", f"{BKT}/alice/x")) is Decision.NEUTRAL
    assert evaluate([policy], ctx(ALICE, "s3:GetObject", f"{BKT}/bob/x")) is Decision.DENY
    assert evaluate([policy], ctx(ROOT, "s3:GetObject", f"{BKT}/root/x")) is Decision.DENY


def test_canonical_user_and_service_principals() -> None:
    policy = bucket_policy(
        {"Effect": "Allow", "Principal": {"CanonicalUser": "beef"}, "Action": "s3:GetObject", "Resource": f"{BKT}/*"},
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": f"{BKT}/logs/*"},
    )
    assert evaluate([policy], ctx(OTHER_ROOT, "s3:GetObject", OBJ)) is Decision.ALLOW
    assert evaluate([policy], ctx(ROOT, "s3:GetObject", OBJ)) is Decision.NEUTRAL
    logger = Principal(service="logging.s3.amazonaws.com")
    assert evaluate([policy], ctx(logger, "s3:PutObject", f"{BKT}/logs/1")) is Decision.ALLOW
    assert evaluate([policy], ctx(logger, "s3:PutObject", OBJ)) is Decision.NEUTRAL
    assert evaluate([policy], ctx(ANON, "s3:GetObject", OBJ)) is Decision.NEUTRAL


def test_identity_statements_ignore_principal() -> None:
    policy = identity_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    assert evaluate([policy], ctx(CAROL, "s3:GetObject", OBJ)) is Decision.ALLOW


def test_request_context_accepts_single_strings() -> None:
    r = RequestContext(ALICE, "s3:ListBucket", BKT, {"S3:Prefix": "home/"})
    assert r.values("s3:prefix") == ("home/",)
    assert r.values("s3:delimiter") is None
    assert r.values("AWS:USERNAME") == ("alice",)


# --- authorize ----------------------------------------------------------------------------------

ALLOW_ALICE_GET = identity_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BKT}/*"})
BP_ALICE = bucket_policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:user/alice"},
                          "Action": "s3:GetObject", "Resource": f"{BKT}/*"})
BP_ACCOUNT = bucket_policy({"Effect": "Allow", "Principal": {"AWS": OWNER}, "Action": "s3:GetObject",
                            "Resource": f"{BKT}/*"})
BP_DENY_ALL = bucket_policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BKT, f"{BKT}/*"]})
BP_PUBLIC = PUBLIC_READ

Row = tuple[Principal, list[Policy], Policy | None, str, str, bool, bool, bool]

AUTHORIZE: list[Row] = [
    # principal, identity, bucket policy, action, resource, same_account, acl_allows, expected
    (ROOT, [], None, "s3:GetObject", OBJ, True, False, True),                 # owner root: always
    (ROOT, [], BP_DENY_ALL, "s3:GetObject", OBJ, True, False, False),         # ...except explicit deny
    (ROOT, [], BP_DENY_ALL, "s3:PutBucketPolicy", BKT, True, False, True),    # can always fix the policy
    (ROOT, [], BP_DENY_ALL, "s3:DeleteBucketPolicy", BKT, True, False, True),
    (ROOT, [], BP_DENY_ALL, "s3:GetBucketPolicy", BKT, True, False, True),
    (OTHER_ROOT, [], BP_DENY_ALL, "s3:PutBucketPolicy", BKT, False, False, False),
    (ALICE, [], None, "s3:GetObject", OBJ, True, False, False),               # nothing allows
    (ALICE, [ALLOW_ALICE_GET], None, "s3:GetObject", OBJ, True, False, True),  # identity policy
    (ALICE, [], BP_ALICE, "s3:GetObject", OBJ, True, False, True),            # bucket policy names her
    (ALICE, [], BP_ACCOUNT, "s3:GetObject", OBJ, True, False, False),         # account principal: delegation
    (ALICE, [ALLOW_ALICE_GET], BP_ACCOUNT, "s3:GetObject", OBJ, True, False, True),
    (ALICE, [], BP_PUBLIC, "s3:GetObject", OBJ, True, False, True),           # public: everyone
    (ALICE, [], None, "s3:GetObject", OBJ, True, True, True),                 # ACL grant
    (ALICE, [ALLOW_ALICE_GET], BP_DENY_ALL, "s3:GetObject", OBJ, True, True, False),
    (BOB, [], BP_ALICE, "s3:GetObject", OBJ, True, False, False),
    (ANON, [], None, "s3:GetObject", OBJ, False, False, False),
    (ANON, [], BP_PUBLIC, "s3:GetObject", OBJ, False, False, True),
    (ANON, [], BP_PUBLIC, "s3:PutObject", OBJ, False, False, False),
    (ANON, [], None, "s3:GetObject", OBJ, False, True, True),                 # public-read ACL
    (ANON, [], BP_DENY_ALL, "s3:GetObject", OBJ, False, True, False),
    (ANON, [ALLOW_ALICE_GET], None, "s3:GetObject", OBJ, False, False, False),  # identity policies never count
    (CAROL, [ALLOW_ALICE_GET], None, "s3:GetObject", OBJ, False, False, False),  # no resource-side grant
    (CAROL, [ALLOW_ALICE_GET], None, "s3:GetObject", OBJ, False, True, True),    # ACL grant + own identity
    (CAROL, [], None, "s3:GetObject", OBJ, False, True, False),
    (CAROL, [ALLOW_ALICE_GET], BP_PUBLIC, "s3:GetObject", OBJ, False, False, True),
    (CAROL, [], BP_PUBLIC, "s3:GetObject", OBJ, False, False, False),           # her account must allow too
    (OTHER_ROOT, [], BP_PUBLIC, "s3:GetObject", OBJ, False, False, True),
    (OTHER_ROOT, [], None, "s3:GetObject", OBJ, False, False, False),
    (OTHER_ROOT, [], None, "s3:GetObject", OBJ, False, True, True),
    (CAROL, [identity_policy({"Effect": "Deny", "Action": "*", "Resource": "*"})], BP_PUBLIC, "s3:GetObject", OBJ,
     False, True, False),
]


@pytest.mark.parametrize(("principal", "identity", "bp", "action", "resource", "same", "acl", "expected"), AUTHORIZE)
def test_authorize(principal: Principal, identity: list[Policy], bp: Policy | None, action: str, resource: str,
                   same: bool, acl: bool, expected: bool) -> None:
    assert authorize(identity, bp, ctx(principal, action, resource), same_account=same, is_root=principal.is_root,
                     acl_allows=acl) is expected
