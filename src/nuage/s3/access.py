"""Who may do what: the S3 side of the policy engine (:mod:`nuage.core.policy`).

Per request: the caller's principal (an account's root user, an IAM user, or anonymous), the
permissions the operation needs (:func:`required_permissions`: action and resource ARN, including a
copy source), the request's condition keys, and for each permission the resource side — the bucket
policy of the bucket it lives in and the canned ACL that applies (``acl_allows``) — go to
:func:`nuage.core.policy.authorize`, which applies AWS's rules (explicit deny wins; same account:
root, or identity policy, or resource policy; other accounts: both sides must allow).

Fast path: the root user of the account that owns the bucket, on a bucket without a policy, is
allowed without further reads (today's owner behaviour).

Objects owned by another account than the bucket's (uploaded through a bucket policy or an ACL) are
that account's: for actions on an existing object, the object owner's account is the resource owner.
A read of a missing object (or of a delete marker) is decided by ``s3:ListBucket`` on the bucket with
``s3:prefix`` set to the key, as S3 does: callers who may list learn that it is missing (404), others
get AccessDenied.

DeleteObjects is authorized key by key once its body has been read (:func:`allowed_on_objects`, called by
its handler): ``s3:DeleteObject``, or ``s3:DeleteObjectVersion`` for an entry with a VersionId, on each
object, exactly as DeleteObject would be. The same function decides ``s3:BypassGovernanceRetention``,
which only requests carrying ``x-amz-bypass-governance-retention: true`` need.

CopyObject and UploadPartCopy: the copy source is parsed once (:func:`nuage.s3.copy_source.copy_source`)
and the version authorized is the version the handler copies.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from nuage.core.acl import grants_of, grants_permission
from nuage.core.identities import Identity
from nuage.core.policy import (
    ACTIONS,
    COPIES,
    MalformedPolicy,
    Permission,
    Policy,
    Principal,
    RequestContext,
    action_level,
    object_arn,
    parse_policy,
    required_permissions,
)
from nuage.core.policy import authorize as decide
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.copy_source import CopySource, copy_source, pin_source_version
from nuage.s3.http import Request
from nuage.s3.operation import Access, Operation
from nuage.storage.meta.records import BucketRecord, ObjectRecord

READ, WRITE, READ_ACP, WRITE_ACP = "READ", "WRITE", "READ_ACP", "WRITE_ACP"
ARN_PREFIX = "arn:aws:s3:::"

#: ACL permission of the bucket that grants an action (bucket-level actions and writes into the bucket).
BUCKET_ACL: dict[str, str] = {
    "s3:listbucket": READ, "s3:listbucketversions": READ, "s3:listbucketmultipartuploads": READ,
    "s3:getbucketlocation": READ,
    "s3:putobject": WRITE, "s3:deleteobject": WRITE, "s3:deleteobjectversion": WRITE,
    "s3:abortmultipartupload": WRITE, "s3:listmultipartuploadparts": WRITE,
    "s3:getbucketacl": READ_ACP, "s3:putbucketacl": WRITE_ACP,
}
#: ACL permission of an existing object that grants an action on it.
OBJECT_ACL: dict[str, str] = {
    "s3:getobject": READ, "s3:getobjectversion": READ, "s3:getobjecttagging": READ,
    "s3:getobjectversiontagging": READ, "s3:getobjectattributes": READ, "s3:getobjectversionattributes": READ,
    "s3:getobjecttorrent": READ, "s3:getobjectversiontorrent": READ,
    "s3:getobjectacl": READ_ACP, "s3:getobjectversionacl": READ_ACP,
    "s3:putobjectacl": WRITE_ACP, "s3:putobjectversionacl": WRITE_ACP,
}
#: Object-level actions decided by the bucket (they create, remove or address uploads, not an object).
BUCKET_DECIDED = frozenset({"s3:putobject", "s3:deleteobject", "s3:deleteobjectversion",
                            "s3:abortmultipartupload", "s3:listmultipartuploadparts",
                            "s3:bypassgovernanceretention"})
#: Reads of an object: when it is missing, s3:ListBucket decides between 404 and 403.
READS = frozenset({"s3:getobject", "s3:getobjectversion", "s3:getobjecttagging", "s3:getobjectversiontagging",
                   "s3:getobjectattributes", "s3:getobjectversionattributes", "s3:getobjectacl",
                   "s3:getobjectversionacl", "s3:getobjectretention", "s3:getobjectlegalhold",
                   "s3:getobjecttorrent", "s3:getobjectversiontorrent"})
#: Writes of new objects that may carry x-amz-acl / x-amz-grant-* headers.
ACL_WRITES = frozenset({"PutObject", "PostObject", "CopyObject", "CreateMultipartUpload"})
LIST_OPERATIONS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})

#: Request headers exposed as ``s3:<header>`` condition keys.
HEADER_KEYS = (
    "x-amz-acl", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
    "x-amz-grant-full-control", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-metadata-directive", "x-amz-storage-class",
    "x-amz-website-redirect-location", "x-amz-content-sha256", "x-amz-object-ownership",
)
LOCK_HEADERS = {"x-amz-object-lock-mode": "s3:object-lock-mode",
                "x-amz-object-lock-retain-until-date": "s3:object-lock-retain-until-date",
                "x-amz-object-lock-legal-hold": "s3:object-lock-legal-hold"}

# -- bucket policies: the stored text comes from the store's config cache (exact, invalidated at commit);
# parsing is the costly part, so parsed policies are memoised by their text.
@functools.lru_cache(maxsize=4096)
def _parsed_policy(text: str) -> Policy | None:
    try:
        return parse_policy(text, kind="bucket")
    except MalformedPolicy:
        return None


async def bucket_policy(svc: Services, bucket: BucketRecord) -> Policy | None:
    text = await svc.buckets.config(bucket.name, "policy")
    return _parsed_policy(text) if text is not None else None


# -- ACLs -------------------------------------------------------------------------------------------
def _grantee_id(caller: Identity | None, resource_owner: str) -> str | None:
    """The canonical id that grants to accounts reach for this caller: an account's root user, or a user
    of another account than the resource owner (its own identity policy must then allow too)."""
    if caller is None:
        return None
    if caller.is_root or caller.canonical_id != resource_owner:
        return caller.canonical_id
    return None


def canned_grants(canned: str, permission: str, *, caller: Identity | None, owner: str,
                  bucket_owner: str | None = None) -> bool:
    """Whether a stored ACL (canned name or grants) grants ``permission`` to the caller."""
    return grants_permission(grants_of(canned, owner, bucket_owner), permission,
                             canonical_id=_grantee_id(caller, owner), authenticated=caller is not None)


async def acl_allows(svc: Services, caller: Identity | None, action: str, bucket: BucketRecord,
                     obj: ObjectRecord | None) -> bool:
    from nuage.s3.handlers.acl import ENFORCED, ownership, public_block

    action = action.lower()
    if obj is None and action == "s3:putobjectacl":
        # The ACL given with the upload of a new object: whoever may write the bucket owns what it
        # writes, so the bucket's WRITE grant decides (as on S3).
        action = "s3:putobject"
    if await ownership(svc, bucket.name) == ENFORCED:
        # ACLs are disabled: the bucket owner owns everything in it
        return caller is not None and caller.is_root and caller.canonical_id == bucket.owner
    if obj is not None and action not in BUCKET_DECIDED:
        if caller is not None and caller.is_root and caller.canonical_id == obj.owner:
            return True   # the object owner has FULL_CONTROL
        permission = OBJECT_ACL.get(action)
        if permission is None:
            return False
        grants, owner = grants_of(obj.extra.get("acl"), obj.owner, bucket.owner), obj.owner
    else:
        permission = BUCKET_ACL.get(action)
        if caller is not None and caller.is_root and caller.canonical_id == bucket.owner:
            return True
        if permission is None:
            return False
        grants, owner = grants_of(await svc.buckets.config(bucket.name, "acl"), bucket.owner), bucket.owner
    # IgnorePublicAcls: grants to AllUsers / AuthenticatedUsers count for nothing
    ignore_public = any(g.is_public for g in grants) and bool(
        (await public_block(svc, bucket.name)).get("IgnorePublicAcls"))
    return grants_permission(grants, permission, canonical_id=_grantee_id(caller, owner),
                             authenticated=caller is not None, ignore_public=ignore_public)


# -- condition keys -------------------------------------------------------------------------------------
def request_conditions(req: Request, operation: str) -> dict[str, list[str]]:
    now = time.time()
    keys: dict[str, list[str]] = {
        "aws:SourceIp": [req.client] if req.client else [],
        "aws:SecureTransport": ["true" if req.scheme == "https" else "false"],
        "aws:CurrentTime": [datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        "aws:EpochTime": [str(int(now))],
    }
    if not keys["aws:SourceIp"]:
        del keys["aws:SourceIp"]
    for header, key in (("user-agent", "aws:UserAgent"), ("referer", "aws:Referer")):
        if header in req.headers:
            keys[key] = [req.headers[header]]
    for header in HEADER_KEYS:
        if header in req.headers:
            keys["s3:" + header] = [req.headers[header]]
    for header, key in LOCK_HEADERS.items():
        if header in req.headers:
            keys[key] = [req.headers[header]]
    if operation in LIST_OPERATIONS:
        keys["s3:prefix"] = [req.query.get("prefix", "")]
        if "delimiter" in req.query:
            keys["s3:delimiter"] = [req.query["delimiter"]]
        if "max-keys" in req.query:
            keys["s3:max-keys"] = [req.query["max-keys"]]
    if "x-amz-tagging" in req.headers:
        tags = parse_qsl(req.headers["x-amz-tagging"], keep_blank_values=True)
        for k, v in tags:
            keys[f"s3:RequestObjectTag/{k}"] = [v]
        keys["s3:RequestObjectTagKeys"] = [k for k, _ in tags]
    if "versionId" in req.query:
        keys["s3:VersionId"] = [req.query["versionId"]]
    if operation in COPIES:
        keys["s3:x-amz-copy-source"] = [copy_source(req).condition_value]
    auth = req.auth
    if auth is not None and auth.version != "anonymous":
        keys["s3:signatureversion"] = ["AWS4-HMAC-SHA256" if auth.version == "v4" else "AWS"]
        keys["s3:authType"] = ["REST-QUERY-STRING" if auth.presigned else "REST-HEADER"]
    return keys


def _with_tags(conditions: Mapping[str, Sequence[str]], obj: ObjectRecord | None) -> Mapping[str, Sequence[str]]:
    if obj is None or not obj.tags:
        return conditions
    out = dict(conditions)
    for k, v in obj.tags.items():
        out[f"s3:ExistingObjectTag/{k}"] = [v]
    return out


def _split(resource: str) -> tuple[str, str | None]:
    path = resource[len(ARN_PREFIX):]
    bucket, sep, key = path.partition("/")
    return bucket, key if sep else None


# -- the decision ---------------------------------------------------------------------------------------
def _identity_allows(svc: Services, caller: Identity, perms: list[Permission], conditions: dict[str, list[str]],
                     principal: Principal) -> bool:
    """Service-level and CreateBucket requests: no resource policy, only the caller's own account."""
    if caller.is_root:
        return True
    policies = svc.identities.policies(caller)
    return all(decide(policies, None, RequestContext(principal, p.action, p.resource, conditions),
                      same_account=True, is_root=False, acl_allows=False) for p in perms)


def _permissions(req: Request, operation: str, bucket: str,
                 source: CopySource | None) -> list[tuple[Permission, str | None, bool]]:
    """Each permission the request needs, with the version of the object it applies to and whether it is
    the read of the copy source."""
    acl = "x-amz-acl" in req.headers or any(h.startswith("x-amz-grant-") for h in req.headers)
    tagging = "x-amz-tagging" in req.headers and operation != "PutObjectTagging"
    version = req.query.get("versionId") or None
    perms = required_permissions(operation, bucket, req.key, version_id=version, copy_source=source,
                                 acl=acl, tagging=tagging)
    out: list[tuple[Permission, str | None, bool]] = []
    for perm in perms:
        if source is not None and perm.resource == object_arn(source.bucket, source.key) and \
                perm.action in ("s3:GetObject", "s3:GetObjectVersion"):
            # the read of the copy source: decided on the very version the copy reads
            out.append((perm, source.version_id, True))
        else:
            out.append((perm, version, False))
    return out


async def authorize(svc: Services, req: Request, op: Operation) -> None:
    """Raise AccessDenied unless the requester may run ``op`` on the addressed resource."""
    operation = op.name
    caller = req.identity
    principal = caller.principal() if caller is not None else Principal.anonymous()
    if req.bucket is None or operation == "CreateBucket":
        if caller is None:
            raise e.AccessDenied()
        if operation in ACTIONS and not caller.is_root:
            perms = required_permissions(operation, req.bucket, acl="x-amz-acl" in req.headers)
            if not _identity_allows(svc, caller, perms, request_conditions(req, operation), principal):
                raise e.AccessDenied()
        return
    bucket = await svc.buckets.find(req.bucket)
    if bucket is None:
        if caller is None:
            raise e.NoSuchBucket(BucketName=req.bucket)
        return  # the handler answers NoSuchBucket
    expected = req.headers.get("x-amz-expected-bucket-owner")
    if expected is not None and expected not in (bucket.owner, _account_of(caller, bucket)):
        raise e.AccessDenied()
    owner_root = caller is not None and caller.is_root and caller.canonical_id == bucket.owner
    if op.access is Access.OWNER:   # not implemented: the bucket owner is told so, others are denied
        if owner_root:
            return
        raise e.AccessDenied()
    policy = await bucket_policy(svc, bucket)
    if owner_root and policy is None and operation not in COPIES:   # all within the owner's own bucket
        await _check_acl_headers(svc, req, operation, bucket)
        return
    if operation == "DeleteObjects":
        return   # each key of the body is authorized by the handler (allowed_on_objects)
    source = copy_source(req) if operation in COPIES else None
    needed = _permissions(req, operation, bucket.name, source)
    if owner_root and policy is None and all(_split(p.resource)[0] == bucket.name for p, _, _ in needed):
        await _check_acl_headers(svc, req, operation, bucket)
        return
    conditions = request_conditions(req, operation)
    identity_policies = svc.identities.policies(caller) if caller is not None else []
    for perm, version, is_source in needed:
        # The copy then reads the version that was decided on, not one written meanwhile.
        pin = functools.partial(pin_source_version, req) if is_source else None
        if not await _allowed(svc, caller, principal, identity_policies, perm, version, conditions, bucket,
                              policy, pin):
            raise e.AccessDenied()
    await _check_acl_headers(svc, req, operation, bucket)


async def allowed_on_objects(svc: Services, req: Request,
                             wanted: Sequence[tuple[str, str, str | None]]) -> list[bool]:
    """For each ``(action, key, version_id)`` on the request's bucket, whether the caller may: the decision a
    request for that one object would get (identity policies, bucket policy with its conditions, ACLs;
    an explicit deny wins). ``s3:VersionId`` is the entry's own version. For what only the handler knows:
    the keys of DeleteObjects' body, and permissions that some requests only need (the governance bypass)."""
    if not wanted:
        return []
    caller = req.identity
    bucket = await svc.buckets.find(req.bucket) if req.bucket is not None else None
    if bucket is None:
        return [False] * len(wanted)
    policy = await bucket_policy(svc, bucket)
    if caller is not None and caller.is_root and caller.canonical_id == bucket.owner and policy is None:
        return [True] * len(wanted)
    principal = caller.principal() if caller is not None else Principal.anonymous()
    base = request_conditions(req, req.operation.name if req.operation is not None else "")
    base.pop("s3:VersionId", None)
    identity_policies = svc.identities.policies(caller) if caller is not None else []
    out: list[bool] = []
    for action, key, version in wanted:
        conditions = {**base, "s3:VersionId": [version]} if version is not None else base
        perm = Permission(action, object_arn(bucket.name, key))
        out.append(await _allowed(svc, caller, principal, identity_policies, perm, version, conditions, bucket,
                                  policy))
    return out


async def _check_acl_headers(svc: Services, req: Request, operation: str, bucket: BucketRecord) -> None:
    """ACL headers on object writes: disabled by ownership controls, public ones blocked, grantees checked."""
    if operation in ACL_WRITES:
        from nuage.s3.handlers.acl import ENFORCED, account_name, check_write_acl, ownership

        await check_write_acl(svc, req, bucket)
        mode = await ownership(svc, bucket.name)
        if req.owner_id != bucket.owner and (mode == ENFORCED or (
                mode == "BucketOwnerPreferred" and req.headers.get("x-amz-acl") == "bucket-owner-full-control")):
            # Object ownership controls: the new object (or upload) belongs to the bucket owner; the
            # write handlers record ``req.owner_id`` as the owner of what they create.
            req.owner_id, req.owner_name = bucket.owner, await account_name(svc, bucket.owner) or bucket.owner


def _account_of(caller: Identity | None, bucket: BucketRecord) -> str | None:
    if caller is not None and caller.canonical_id == bucket.owner:
        return caller.account_id
    return None


async def _allowed(svc: Services, caller: Identity | None, principal: Principal,
                   identity_policies: list[Policy], perm: Permission, version: str | None,
                   conditions: dict[str, list[str]], target: BucketRecord, target_policy: Policy | None,
                   decided_on: Callable[[ObjectRecord], None] | None = None) -> bool:
    """Whether ``perm`` is allowed; ``version`` is the version of the object it applies to (the resource
    owner, its tags and ACL come from that version). ``decided_on`` is told the object version the decision
    was made on, when there is one."""
    bucket_name, key = _split(perm.resource)
    if bucket_name == target.name:
        bucket, policy = target, target_policy
    else:
        other = await svc.buckets.find(bucket_name)
        if other is None:
            return True   # a missing copy source bucket: the handler answers NoSuchBucket
        bucket, policy = other, await bucket_policy(svc, other)
    action = perm.action.lower()
    obj: ObjectRecord | None = None
    if key is not None and action not in BUCKET_DECIDED and action_level(action) == "object":
        obj = await svc.objects.find(bucket.name, key, version)
        if obj is None or obj.delete_marker:
            if action in READS or bucket is not target:
                listing = Permission("s3:ListBucket", ARN_PREFIX + bucket.name)
                ctx_conditions = {**conditions, "s3:prefix": [key]}
                return await _decide(svc, caller, principal, identity_policies, listing, ctx_conditions, bucket,
                                     policy, None)
            obj = None
        if obj is not None and decided_on is not None:
            decided_on(obj)
    return await _decide(svc, caller, principal, identity_policies, perm, conditions, bucket, policy, obj)


async def _decide(svc: Services, caller: Identity | None, principal: Principal, identity_policies: list[Policy],
                  perm: Permission, conditions: Mapping[str, Sequence[str]], bucket: BucketRecord,
                  policy: Policy | None, obj: ObjectRecord | None) -> bool:
    from nuage.s3.handlers.acl import ENFORCED, ownership, public_block

    resource_owner = obj.owner if obj is not None else bucket.owner
    if obj is not None and await ownership(svc, bucket.name) == ENFORCED:
        resource_owner = bucket.owner
    same_account = caller is not None and caller.canonical_id == resource_owner
    ctx = RequestContext(principal, perm.action, perm.resource, _with_tags(conditions, obj))
    acl = await acl_allows(svc, caller, perm.action, bucket, obj)
    is_root = caller is not None and caller.is_root
    allowed = decide(identity_policies, policy, ctx, same_account=same_account, is_root=is_root, acl_allows=acl)
    if allowed and policy is not None and not (caller is not None and caller.canonical_id == bucket.owner):
        # RestrictPublicBuckets: a public policy serves only the bucket owner's account
        from nuage.s3.handlers.policy import policy_is_public

        if (await public_block(svc, bucket.name)).get("RestrictPublicBuckets") and policy_is_public(policy):
            allowed = decide(identity_policies, None, ctx, same_account=same_account, is_root=is_root,
                             acl_allows=acl)
    return allowed


async def identity_may(svc: Services, caller: Identity, action: str, bucket_name: str, key: str | None,
                       conditions: Mapping[str, Sequence[str]]) -> bool:
    """Whether ``caller`` may run ``action`` (s3:GetObject, s3:PutObject, s3:ListBucket) on an object, or on
    the bucket when ``key`` is None, outside an S3 request: the same decision (identity policies, bucket
    policy, ACLs, object ownership) for services that read stored objects on a caller's behalf (SQL jobs)."""
    bucket = await svc.buckets.find(bucket_name)
    if bucket is None:
        return False
    policy = await bucket_policy(svc, bucket)
    if caller.is_root and caller.canonical_id == bucket.owner and policy is None:
        return True
    resource = ARN_PREFIX + bucket_name + (f"/{key}" if key is not None else "")
    obj: ObjectRecord | None = None
    if key is not None and action.lower() not in BUCKET_DECIDED:
        obj = await svc.objects.find(bucket_name, key, None)
        if obj is not None and obj.delete_marker:
            obj = None
    return await _decide(svc, caller, caller.principal(), svc.identities.policies(caller),
                         Permission(action, resource), dict(conditions), bucket, policy, obj)
