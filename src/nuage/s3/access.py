"""Who may do what, asked from an S3 request: the decision itself is :func:`nuage.core.access.decide`; this
module only builds its :class:`~nuage.core.access.AccessQuery` from the request and the router's row, and
turns a refusal into AccessDenied.

The query: the caller (``req.identity``), the permissions the row needs for this request
(:func:`nuage.core.policy.required_permissions`: action and resource ARN, the ``...Version...`` action for
a ``versionId``, the read of a copy source, ``s3:PutObjectAcl``/``s3:PutObjectTagging`` for writes that
carry ACL or tagging headers), the request's condition keys (:func:`request_conditions`), and
x-amz-expected-bucket-owner. The service and CreateBucket are decided by the caller's own account alone.

DeleteObjects is authorized key by key once its body has been read (:func:`allowed_on_objects`, called by
its handler): ``s3:DeleteObject``, or ``s3:DeleteObjectVersion`` for an entry with a VersionId, on each
object, exactly as DeleteObject would be. The same function decides ``s3:BypassGovernanceRetention``,
which only requests carrying ``x-amz-bypass-governance-retention: true`` need.

CopyObject and UploadPartCopy: the copy source is parsed once (:func:`nuage.s3.copy_source.copy_source`)
and the copy then reads the version the decision was made on (``req.copy_version``).

What an allowed write of a new object brings along is applied here, after the decision: its ACL headers
are checked (:func:`nuage.s3.acl_headers.check_write_acl`), and under object ownership controls what it
writes is recorded as the bucket owner's (``req.owner_id``, which the write handlers record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import parse_qsl

from nuage.core.access import AccessQuery, Conditions, Need, base_conditions, decide
from nuage.core.policy import object_arn, required_permissions
from nuage.s3 import errors as e
from nuage.s3.acl_headers import check_write_acl
from nuage.s3.context import Services
from nuage.s3.copy_source import copy_source
from nuage.s3.http import Request
from nuage.s3.operation import Access, Operation

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


def request_conditions(req: Request, op: Operation | None) -> dict[str, list[str]]:
    """The condition keys of an S3 request (``op``: its row, for the keys of listings and copies)."""
    keys = base_conditions(secure=req.scheme == "https", source_ip=req.client or None)
    for header, key in (("user-agent", "aws:UserAgent"), ("referer", "aws:Referer")):
        if header in req.headers:
            keys[key] = [req.headers[header]]
    for header in HEADER_KEYS:
        if header in req.headers:
            keys["s3:" + header] = [req.headers[header]]
    for header, key in LOCK_HEADERS.items():
        if header in req.headers:
            keys[key] = [req.headers[header]]
    if op is not None and op.lists:
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
    if op is not None and op.copies:
        keys["s3:x-amz-copy-source"] = [copy_source(req).condition_value]
    auth = req.auth
    if auth is not None and auth.version != "anonymous":
        keys["s3:signatureversion"] = ["AWS4-HMAC-SHA256" if auth.version == "v4" else "AWS"]
        keys["s3:authType"] = ["REST-QUERY-STRING" if auth.presigned else "REST-HEADER"]
    return keys


def _needs(req: Request, op: Operation, bucket: str) -> tuple[Need, ...]:
    """Each permission the request needs, with the version of the object it applies to; the read of the copy
    source is marked, and decided on the very version the copy reads."""
    # ACL and tagging headers add permissions to writes of new objects only
    acl = op.creates_object and ("x-amz-acl" in req.headers or any(h.startswith("x-amz-grant-") for h in req.headers))
    version = req.query.get("versionId") or None
    source = copy_source(req) if op.copies else None
    perms = required_permissions(op, bucket, req.key, version_id=version, copy_source=source, acl=acl,
                                 tagging=op.creates_object and "x-amz-tagging" in req.headers)
    if source is None:
        return tuple([Need(p.action, p.resource, version) for p in perms])
    source_arn = object_arn(source.bucket, source.key)
    return tuple([Need(p.action, p.resource, source.version_id, True)
                  if p.resource == source_arn and p.action in ("s3:GetObject", "s3:GetObjectVersion")
                  else Need(p.action, p.resource, version) for p in perms])


def _query(req: Request, op: Operation) -> AccessQuery:
    def conditions() -> Conditions:
        return request_conditions(req, op)

    if req.bucket is None or op.action == "s3:CreateBucket":
        # no resource policy yet: the caller's own account decides
        perms = required_permissions(op, req.bucket, acl="x-amz-acl" in req.headers)
        return AccessQuery(req.identity, tuple(Need(p.action, p.resource) for p in perms), None, conditions)
    expected = req.headers.get("x-amz-expected-bucket-owner")
    if op.access is Access.OWNER:
        return AccessQuery(req.identity, (), req.bucket, expected_owner=expected, owner_only=True)
    # DeleteObjects: each key of the body is authorized by the handler (allowed_on_objects)
    bucket = req.bucket

    def needs() -> tuple[Need, ...]:
        return () if op.per_key else _needs(req, op, bucket)

    return AccessQuery(req.identity, needs, bucket, conditions, expected_owner=expected,
                       creates_object=op.creates_object, canned_acl=req.headers.get("x-amz-acl"),
                       local=not op.copies)


async def authorize(svc: Services, req: Request, op: Operation) -> None:
    """Raise AccessDenied unless the requester may run ``op`` on the addressed resource."""
    decision = await decide(svc, _query(req, op))
    if decision.bucket_missing and req.bucket is not None:
        if req.identity is None:
            raise e.NoSuchBucket(BucketName=req.bucket)
        return  # the handler answers NoSuchBucket
    if not decision.allowed:
        raise e.AccessDenied()
    if decision.source_version is not None:
        req.copy_version = decision.source_version
    if op.creates_object and req.bucket is not None:
        await check_write_acl(svc, req, req.bucket)
        if decision.new_owner is not None:
            req.owner_id, req.owner_name = decision.new_owner


async def allowed_on_objects(svc: Services, req: Request,
                             wanted: Sequence[tuple[str, str, str | None]]) -> list[bool]:
    """For each ``(action, key, version_id)`` on the request's bucket, whether the caller may: the decision a
    request for that one object would get (identity policies, bucket policy with its conditions, ACLs;
    an explicit deny wins). ``s3:VersionId`` is the entry's own version. For what only the handler knows:
    the keys of DeleteObjects' body, and permissions that some requests only need (the governance bypass)."""
    bucket = req.bucket
    if bucket is None:
        return [False] * len(wanted)
    shared: list[dict[str, list[str]]] = []

    def conditions(version: str | None) -> Callable[[], Conditions]:
        def build() -> Conditions:
            if not shared:   # built once, when a policy is first consulted
                base = request_conditions(req, req.operation)
                base.pop("s3:VersionId", None)
                shared.append(base)
            return {**shared[0], "s3:VersionId": [version]} if version is not None else shared[0]
        return build

    out: list[bool] = []
    for action, key, version in wanted:
        query = AccessQuery(req.identity, (Need(action, object_arn(bucket, key), version),), bucket,
                            conditions(version))
        out.append((await decide(svc, query)).allowed)
    return out
