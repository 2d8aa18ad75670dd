"""Bucket policies: Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.

The document is stored as sent (GetBucketPolicy returns it byte for byte) after validation by the
policy engine; enforcement lives in :mod:`nuage.core.access`.

GetBucketPolicyStatus follows "The meaning of public" (S3 User Guide): a bucket is public when its
ACL grants anything to AllUsers or AuthenticatedUsers, or when its policy is public
(:func:`nuage.core.access.policy_is_public`).
"""

from __future__ import annotations

from nuage.core.access import policy_is_public, public_block
from nuage.core.acl import is_public as acl_is_public
from nuage.core.bucket_config import ACL, POLICY
from nuage.core.policy import MalformedPolicy, parse_policy
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import bool_text, render, root, sub

MAX_POLICY_BODY = 20 * 1024


async def put_bucket_policy(svc: Services, req: Request, bucket: BucketName) -> Response:
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
    if policy_is_public(policy) and (await public_block(svc, rec.name)).get("BlockPublicPolicy"):
        raise e.AccessDenied()
    await svc.buckets.set_config(rec.name, POLICY, text)
    return empty(204)


async def get_bucket_policy(svc: Services, req: Request, bucket: BucketName) -> Response:
    text = await svc.buckets.require(bucket, POLICY)
    return Response(200, [("content-type", "application/json")], text.encode("utf-8"))



async def get_bucket_policy_status(svc: Services, req: Request, bucket: BucketName) -> Response:
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
