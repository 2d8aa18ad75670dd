"""The authorization decision, for every protocol and service that acts on a caller's behalf.

Per query: the caller's principal (an account's root user, an IAM user, or anonymous), the permissions it
needs, its condition keys, and for each permission the resource side — the bucket policy of the bucket it
lives in and the ACL that applies (:func:`nuage.core.access.acls.acl_allows`) — go to
:func:`nuage.core.policy.authorize`, which applies AWS's rules (explicit deny wins; same account: root, or
identity policy, or resource policy; other accounts: both sides must allow).

Fast path: the root user of the account that owns the bucket, on a bucket without a policy, is allowed
everything within that bucket without further reads.

Objects owned by another account than the bucket's (uploaded through a bucket policy or an ACL) are that
account's: for actions on an existing object, the object owner's account is the resource owner (the
bucket owner's under BucketOwnerEnforced). A read of a missing object (or of a delete marker), and any
action on a missing copy source, is decided by ``s3:ListBucket`` on its bucket with ``s3:prefix`` set to
the key, as S3 does: callers who may list learn that it is missing (404), others are denied.

Block Public Access: RestrictPublicBuckets lets a public bucket policy serve only the bucket owner's
account; IgnorePublicAcls is applied where ACLs are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nuage.core.access.acls import BUCKET_DECIDED, acl_allows
from nuage.core.access.config import ENFORCED, PREFERRED, account_name, bucket_policy, ownership, public_block
from nuage.core.access.public import policy_is_public
from nuage.core.access.query import AccessQuery, Conditions, Decision, Need, Owner
from nuage.core.access.services import AccessServices
from nuage.core.identities import Identity
from nuage.core.policy import (
    SERVICE_ARN,
    Policy,
    Principal,
    RequestContext,
    action_level,
    authorize,
    bucket_arn,
    evaluate,
    object_arn,
)
from nuage.core.policy import Decision as Effect
from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.types import BucketName, ObjectKey, VersionId

#: Reads of an object: when it is missing, s3:ListBucket decides between 404 and 403.
READS = frozenset({"s3:getobject", "s3:getobjectversion", "s3:getobjecttagging", "s3:getobjectversiontagging",
                   "s3:getobjectattributes", "s3:getobjectversionattributes", "s3:getobjectacl",
                   "s3:getobjectversionacl", "s3:getobjectretention", "s3:getobjectlegalhold",
                   "s3:getobjecttorrent", "s3:getobjectversiontorrent"})
OWNER_FAST_PATH = "owner fast path: the bucket owner's root user, no bucket policy"


@dataclass(frozen=True, slots=True)
class _Asker:
    """The caller as every permission of one query sees it."""

    caller: Identity | None
    principal: Principal
    policies: list[Policy]
    conditions: Conditions


@dataclass(frozen=True, slots=True)
class _Verdict:
    allowed: bool
    reason: str
    decided_on: ObjectRecord | None = None


async def decide(svc: AccessServices, query: AccessQuery) -> Decision:
    """Whether the caller may do everything ``query`` needs; the first permission refused decides."""
    caller = query.caller
    if query.bucket is None:
        return _decide_own_account(svc, query)
    bucket = await svc.buckets.find(BucketName(query.bucket))
    if bucket is None:
        return Decision(False, "no such bucket", bucket_missing=True)
    expected = query.expected_owner
    if expected is not None and expected not in (bucket.owner, _account_of(caller, bucket)):
        return Decision(False, "the bucket is not owned by the expected bucket owner")
    owner_root = caller is not None and caller.is_root and caller.canonical_id == bucket.owner
    if query.owner_only:
        if owner_root:
            return Decision(True, "the bucket owner's root user")
        return Decision(False, "only the bucket owner's root user may")
    policy = await bucket_policy(svc, bucket.name)
    if owner_root and policy is None and (
            query.local or all(_split(n.resource)[0] == bucket.name for n in query.wanted())):
        return await _allowed(svc, query, bucket, OWNER_FAST_PATH, None)
    principal = caller.principal() if caller is not None else Principal.anonymous()
    asker = _Asker(caller, principal, svc.identities.policies(caller) if caller is not None else [],
                   query.conditions())
    source_version: VersionId | None = None
    for need in query.wanted():
        verdict = await _decide_need(svc, asker, need, bucket, policy)
        if not verdict.allowed:
            return Decision(False, verdict.reason)
        if need.copy_source and verdict.decided_on is not None:
            source_version = verdict.decided_on.version_id
    return await _allowed(svc, query, bucket, "every permission is allowed", source_version)


async def may(svc: AccessServices, caller: Identity, action: str, bucket: BucketName, key: ObjectKey | None,
              conditions: Conditions) -> bool:
    """Whether ``caller`` may run ``action`` on an object, or on the bucket when ``key`` is None, outside an
    S3 request: for services that read or write stored objects on a caller's behalf (SQL jobs)."""
    resource = object_arn(bucket, key) if key is not None else bucket_arn(bucket)
    query = AccessQuery(caller, (Need(action, resource),), bucket, lambda: conditions)
    return (await decide(svc, query)).allowed


def _decide_own_account(svc: AccessServices, query: AccessQuery) -> Decision:
    """The service, and a bucket being created: no resource policy, only the caller's own account."""
    caller = query.caller
    if caller is None:
        return Decision(False, "anonymous callers have no account")
    if caller.is_root:
        return Decision(True, "the account's root user")
    policies = svc.identities.policies(caller)
    needs = query.wanted()
    conditions = query.conditions() if needs else {}
    for need in needs:
        ctx = RequestContext(caller.principal(), need.action, need.resource, conditions)
        if not authorize(policies, None, ctx, same_account=True, is_root=False, acl_allows=False):
            return Decision(False, _denial(policies, None, ctx))
    return Decision(True, "the caller's identity policies allow")


async def _allowed(svc: AccessServices, query: AccessQuery, bucket: BucketRecord, reason: str,
                   source_version: VersionId | None) -> Decision:
    if not query.creates_object:
        return Decision(True, reason, source_version=source_version)
    new_owner = await _new_owner(svc, query, bucket)
    return Decision(True, reason, source_version=source_version, new_owner=new_owner)


async def _new_owner(svc: AccessServices, query: AccessQuery, bucket: BucketRecord) -> Owner | None:
    """Object ownership controls: what the caller writes belongs to the bucket owner under
    BucketOwnerEnforced, and under BucketOwnerPreferred when written with bucket-owner-full-control."""
    writer = query.caller.canonical_id if query.caller is not None else ""
    if writer == bucket.owner:
        return None
    mode = await ownership(svc, bucket.name)
    if mode == ENFORCED or (mode == PREFERRED and query.canned_acl == "bucket-owner-full-control"):
        return Owner(bucket.owner, await account_name(svc, bucket.owner) or bucket.owner)
    return None


def _account_of(caller: Identity | None, bucket: BucketRecord) -> str | None:
    if caller is not None and caller.canonical_id == bucket.owner:
        return caller.account_id
    return None


def _split(resource: str) -> tuple[BucketName, ObjectKey | None]:
    path = resource[len(SERVICE_ARN):]
    bucket, sep, key = path.partition("/")
    return BucketName(bucket), ObjectKey(key) if sep else None


async def _decide_need(svc: AccessServices, asker: _Asker, need: Need, target: BucketRecord,
                       target_policy: Policy | None) -> _Verdict:
    """One permission, on the addressed bucket or on another one (a copy source's)."""
    bucket_name, key = _split(need.resource)
    if bucket_name == target.name:
        bucket, policy = target, target_policy
    else:
        other = await svc.buckets.find(bucket_name)
        if other is None:
            return _Verdict(True, "a missing copy source bucket: the operation answers NoSuchBucket")
        bucket, policy = other, await bucket_policy(svc, other.name)
    action = need.action.lower()
    obj: ObjectRecord | None = None
    if key is not None and action not in BUCKET_DECIDED and action_level(action) == "object":
        version = need.version_id
        obj = await svc.objects.find(bucket.name, key, VersionId(version) if version is not None else None)
        if obj is None or obj.delete_marker:
            if action in READS or bucket.name != target.name:
                listing = Need("s3:ListBucket", bucket_arn(bucket.name))
                verdict = await _decide_on(svc, asker, listing, {**asker.conditions, "s3:prefix": [key]}, bucket,
                                           policy, None)
                return _Verdict(verdict.allowed, f"missing object, decided by s3:ListBucket: {verdict.reason}")
            obj = None
    verdict = await _decide_on(svc, asker, need, asker.conditions, bucket, policy, obj)
    return _Verdict(verdict.allowed, verdict.reason, obj)


async def _decide_on(svc: AccessServices, asker: _Asker, need: Need, conditions: Conditions,
                     bucket: BucketRecord, policy: Policy | None, obj: ObjectRecord | None) -> _Verdict:
    """One permission on a known resource: the bucket, or the existing object ``obj`` in it."""
    caller = asker.caller
    resource_owner = obj.owner if obj is not None else bucket.owner
    if obj is not None and await ownership(svc, bucket.name) == ENFORCED:
        resource_owner = bucket.owner
    same_account = caller is not None and caller.canonical_id == resource_owner
    ctx = RequestContext(asker.principal, need.action, need.resource, _with_tags(conditions, obj))
    acl = await acl_allows(svc, caller, need.action, bucket, obj)
    is_root = caller is not None and caller.is_root
    if not authorize(asker.policies, policy, ctx, same_account=same_account, is_root=is_root, acl_allows=acl):
        return _Verdict(False, _denial(asker.policies, policy, ctx))
    if await _restricted(svc, caller, bucket, policy) and not authorize(
            asker.policies, None, ctx, same_account=same_account, is_root=is_root, acl_allows=acl):
        return _Verdict(False, f"{need.action} on {need.resource}: RestrictPublicBuckets keeps the public "
                               "bucket policy to the bucket owner's account")
    return _Verdict(True, "allowed")


async def _restricted(svc: AccessServices, caller: Identity | None, bucket: BucketRecord,
                      policy: Policy | None) -> bool:
    """RestrictPublicBuckets: a public bucket policy serves only the bucket owner's account."""
    if policy is None or (caller is not None and caller.canonical_id == bucket.owner):
        return False
    return bool((await public_block(svc, bucket.name)).get("RestrictPublicBuckets")) and policy_is_public(policy)


def _with_tags(conditions: Conditions, obj: ObjectRecord | None) -> Conditions:
    if obj is None or not obj.tags:
        return conditions
    out: dict[str, Sequence[str]] = dict(conditions)
    for k, v in obj.tags.items():
        out[f"s3:ExistingObjectTag/{k}"] = [v]
    return out


def _denial(identity_policies: Sequence[Policy], policy: Policy | None, ctx: RequestContext) -> str:
    """Why a permission was refused."""
    what = f"{ctx.action} on {ctx.resource}"
    if evaluate(identity_policies, ctx) is Effect.DENY:
        return f"{what}: explicit deny in an identity policy"
    if policy is not None and evaluate([policy], ctx) is Effect.DENY:
        return f"{what}: explicit deny in the bucket policy"
    if ctx.principal.is_anonymous:
        return f"{what}: no bucket policy statement or ACL grant allows anonymous callers"
    return f"{what}: no policy statement or ACL grant allows"
