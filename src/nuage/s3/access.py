"""Who may do what, until issue 3 brings IAM and bucket policies: owners do everything with what
they own; canned ACLs open buckets and objects to others, as on S3.

The table says, per operation, which resource's ACL decides and which permission it needs.
"""

from __future__ import annotations

from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.http import Request

READ, WRITE, OWNER = "READ", "WRITE", "OWNER"

# operation -> (resource whose ACL decides: "bucket" or "object", permission)
RULES: dict[str, tuple[str, str]] = {
    "HeadBucket": ("bucket", READ),
    "ListObjects": ("bucket", READ),
    "ListObjectsV2": ("bucket", READ),
    "ListObjectVersions": ("bucket", READ),
    "ListMultipartUploads": ("bucket", READ),
    "GetBucketLocation": ("bucket", READ),
    "GetObject": ("object", READ),
    "HeadObject": ("object", READ),
    "GetObjectTagging": ("object", READ),
    "GetObjectAttributes": ("object", READ),
    "PutObject": ("bucket", WRITE),
    "CopyObject": ("bucket", WRITE),
    "DeleteObject": ("bucket", WRITE),
    "DeleteObjects": ("bucket", WRITE),
    "CreateMultipartUpload": ("bucket", WRITE),
    "UploadPart": ("bucket", WRITE),
    "UploadPartCopy": ("bucket", WRITE),
    "CompleteMultipartUpload": ("bucket", WRITE),
    "AbortMultipartUpload": ("bucket", WRITE),
    "ListParts": ("bucket", WRITE),
}


def grants(canned: str, permission: str, authenticated: bool) -> bool:
    if permission == READ:
        return canned in ("public-read", "public-read-write") or (canned == "authenticated-read" and authenticated)
    if permission == WRITE:
        return canned == "public-read-write"
    return False


async def _check_copy_source(svc: Services, req: Request, authenticated: bool) -> None:
    from nuage.s3.handlers.copy import copy_source

    src_bucket, src_key, src_version = copy_source(req)
    bucket = await svc.buckets.find(src_bucket)
    if bucket is None or bucket.owner == req.owner_id:
        return
    obj = await svc.objects.find(src_bucket, src_key, src_version)
    if obj is None or obj.delete_marker:
        if grants(await svc.buckets.config(src_bucket, "acl") or "private", READ, authenticated):
            return
        raise e.AccessDenied()
    if obj.owner != req.owner_id and not grants(obj.extra.get("acl", "private"), READ, authenticated):
        raise e.AccessDenied()


async def authorize(svc: Services, req: Request, operation: str) -> None:
    """Raise AccessDenied unless the requester may run ``operation`` on the addressed resource."""
    authenticated = bool(req.owner_id)
    if req.bucket is None or operation == "CreateBucket":
        if not authenticated:
            raise e.AccessDenied()
        return
    bucket = await svc.buckets.find(req.bucket)
    if bucket is None:
        if not authenticated:
            raise e.NoSuchBucket(BucketName=req.bucket)
        return  # the handler answers NoSuchBucket
    expected = req.headers.get("x-amz-expected-bucket-owner")
    if expected is not None and expected != bucket.owner:
        raise e.AccessDenied()
    if operation in ("CopyObject", "UploadPartCopy"):
        await _check_copy_source(svc, req, authenticated)
    if bucket.owner == req.owner_id:
        return
    rule = RULES.get(operation)
    if rule is None:
        raise e.AccessDenied()
    scope, permission = rule
    if scope == "bucket":
        canned = await svc.buckets.config(bucket.name, "acl") or "private"
        if grants(canned, permission, authenticated):
            return
        raise e.AccessDenied()
    assert req.key is not None
    version = req.query.get("versionId") or None
    obj = await svc.objects.find(bucket.name, req.key, version)
    if obj is None or obj.delete_marker:
        canned = await svc.buckets.config(bucket.name, "acl") or "private"
        if grants(canned, READ, authenticated):
            return  # a reader of the bucket learns that the key is missing
        raise e.AccessDenied()
    if obj.owner == req.owner_id:
        return
    canned = obj.extra.get("acl", "private")
    if grants(canned, permission, authenticated):
        return
    raise e.AccessDenied()
