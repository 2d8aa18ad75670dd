"""Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.

The document is stored as sent (GetBucketPolicy returns it byte for byte) after validation by the
policy engine; enforcement lives in :mod:`nuage.s3.access`.

GetBucketPolicyStatus follows "The meaning of public" (S3 User Guide): a bucket is public when its
ACL grants anything to AllUsers or AuthenticatedUsers, or when its policy allows something to a
wildcard principal (``*``, ``{"AWS": "*"}``, or through ``NotPrincipal``) without pinning the caller to
fixed values with a condition on one of the keys AWS accepts for that (``aws:SourceIp`` with a narrow
enough range, ``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceAccount``,
``aws:SourceOwner``, ``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalOrgID``, ``s3:DataAccessPointArn``, ``s3:DataAccessPointAccount``).
"""

from __future__ import annotations

import ipaddress

from nuage.core.acl import is_public as acl_is_public
from nuage.core.bucket_config import ACL, POLICY
from nuage.core.policy import MalformedPolicy, Policy, parse_policy
from nuage.core.policy.model import Condition
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.xml import bool_text, render, root, sub

MAX_POLICY_BODY = 20 * 1024

#: Condition keys that restrict a wildcard principal to fixed callers when given fixed values.
FIXING_KEYS = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner", "aws:userid",
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount", "aws:sourceip",
})
#: Operators that pin a key to the listed values (negations and wildcards do not).
FIXING_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike", "IpAddress"})
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
#: The widest IPv4 prefix that still counts as a fixed range (AWS: /8 and wider are public).
MIN_FIXED_PREFIX_V4 = 9
MIN_FIXED_PREFIX_V6 = 33


def _fixed(cond: Condition) -> bool:
    if cond.if_exists or cond.qualifier == "ForAllValues" or cond.base not in FIXING_OPERATORS:
        return False
    key = cond.key.lower()
    if key not in FIXING_KEYS:
        return False
    if any("*" in v or "?" in v for v in cond.values) and cond.base != "IpAddress":
        return False
    if key == "aws:sourceip":
        if cond.base != "IpAddress":
            return False
        for value in cond.values:
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                return False
            if net.prefixlen < (MIN_FIXED_PREFIX_V4 if net.version == 4 else MIN_FIXED_PREFIX_V6):
                return False
    return True


def policy_is_public(policy: Policy) -> bool:
    for stmt in policy.statements:
        if stmt.effect != "Allow":
            continue
        wildcard = (stmt.principal is not None and stmt.principal.wildcard) or stmt.not_principal is not None
        if not wildcard:
            continue
        if not any(_fixed(c) for c in stmt.conditions):
            return True
    return False


async def put_bucket_policy(svc: Services, req: Request, bucket: str) -> Response:
    rec = await svc.buckets.get(bucket)
    try:
        raw = await req.read_body(MAX_POLICY_BODY)
    except ValueError:
        raise e.MalformedPolicy("Policies must be valid JSON and the first byte must be '{'") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise e.MalformedPolicy("Policies must be valid JSON and the first byte must be '{'") from None
    try:
        policy = parse_policy(text, kind="bucket", bucket=rec.name)
    except MalformedPolicy as exc:
        raise e.MalformedPolicy(exc.message) from exc
    if any(s.effect == "Allow" and s.not_principal is not None for s in policy.statements):
        # S3 refuses NotPrincipal with Allow in bucket policies (it would grant to nearly everyone)
        raise e.MalformedPolicy("Invalid principal in policy")
    from nuage.s3.handlers.acl import public_block

    if policy_is_public(policy) and (await public_block(svc, rec.name)).get("BlockPublicPolicy"):
        raise e.AccessDenied()
    await svc.buckets.set_config(rec.name, POLICY, text)
    return empty(204)


async def get_bucket_policy(svc: Services, req: Request, bucket: str) -> Response:
    text = await svc.buckets.require(bucket, POLICY)
    return Response(200, [("content-type", "application/json")], text.encode("utf-8"))



async def get_bucket_policy_status(svc: Services, req: Request, bucket: str) -> Response:
    await svc.buckets.get(bucket)
    acl = await svc.buckets.config(bucket, ACL)
    public = acl_is_public(acl)
    if not public:
        text = await svc.buckets.config(bucket, POLICY)
        if text is not None:
            try:
                public = policy_is_public(parse_policy(text, kind="bucket", bucket=bucket))
            except MalformedPolicy:
                public = False
    doc = root("PolicyStatus")
    sub(doc, "IsPublic", bool_text(public))
    return xml_response(render(doc))


delete_bucket_policy = config_deleter(POLICY)
