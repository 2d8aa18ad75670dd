"""Request to operation: a plain table, first match wins, tested as a table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Target(Enum):
    SERVICE = "service"
    BUCKET = "bucket"
    OBJECT = "object"


@dataclass(frozen=True)
class Route:
    method: str
    target: Target
    operation: str
    query: str | None = None        # a query parameter that must be present
    header: str | None = None       # a header that must be present


S, B, OBJ = Target.SERVICE, Target.BUCKET, Target.OBJECT

# Bucket sub-resources not implemented yet: they answer NotImplemented (501).
LATER_BUCKET = ("logging", "notification",
                "accelerate", "requestPayment", "analytics", "inventory", "metrics", "intelligent-tiering")
LATER_OBJECT = ("restore", "torrent")
SELECT_ONLY_POST = ("select",)   # SelectObjectContent is a POST; other methods on ?select are not implemented

ROUTES: tuple[Route, ...] = (
    Route("GET", S, "ListBuckets"),
    # bucket
    Route("GET", B, "GetBucketVersioning", "versioning"),
    Route("GET", B, "GetBucketLocation", "location"),
    Route("GET", B, "GetBucketTagging", "tagging"),
    Route("GET", B, "GetBucketAcl", "acl"),
    Route("GET", B, "GetBucketPolicy", "policy"),
    Route("GET", B, "GetBucketPolicyStatus", "policyStatus"),
    Route("GET", B, "ListObjectVersions", "versions"),
    Route("GET", B, "ListMultipartUploads", "uploads"),
    Route("GET", B, "GetBucketEncryption", "encryption"),
    Route("GET", B, "GetObjectLockConfiguration", "object-lock"),
    Route("GET", B, "GetBucketLifecycleConfiguration", "lifecycle"),
    Route("GET", B, "GetBucketCors", "cors"),
    Route("GET", B, "GetBucketWebsite", "website"),
    Route("GET", B, "GetBucketReplication", "replication"),
    Route("GET", B, "GetPublicAccessBlock", "publicAccessBlock"),
    Route("GET", B, "GetBucketOwnershipControls", "ownershipControls"),
    *(Route("GET", B, "NotImplemented", q) for q in LATER_BUCKET),
    Route("GET", B, "ListObjectsV2", "list-type"),
    Route("GET", B, "ListObjects"),
    Route("HEAD", B, "HeadBucket"),
    Route("PUT", B, "PutBucketVersioning", "versioning"),
    Route("PUT", B, "PutBucketTagging", "tagging"),
    Route("PUT", B, "PutBucketAcl", "acl"),
    Route("PUT", B, "PutBucketPolicy", "policy"),
    Route("PUT", B, "NotImplemented", "policyStatus"),
    Route("PUT", B, "PutBucketEncryption", "encryption"),
    Route("PUT", B, "PutObjectLockConfiguration", "object-lock"),
    Route("PUT", B, "PutBucketLifecycleConfiguration", "lifecycle"),
    Route("PUT", B, "PutBucketCors", "cors"),
    Route("PUT", B, "PutBucketWebsite", "website"),
    Route("PUT", B, "PutBucketReplication", "replication"),
    Route("PUT", B, "PutPublicAccessBlock", "publicAccessBlock"),
    Route("PUT", B, "PutBucketOwnershipControls", "ownershipControls"),
    *(Route("PUT", B, "NotImplemented", q) for q in LATER_BUCKET),
    Route("PUT", B, "CreateBucket"),
    Route("DELETE", B, "DeleteBucketTagging", "tagging"),
    Route("DELETE", B, "DeleteBucketPolicy", "policy"),
    Route("DELETE", B, "NotImplemented", "policyStatus"),
    Route("DELETE", B, "DeleteBucketEncryption", "encryption"),
    Route("DELETE", B, "DeleteBucketLifecycle", "lifecycle"),
    Route("DELETE", B, "DeleteBucketCors", "cors"),
    Route("DELETE", B, "DeleteBucketWebsite", "website"),
    Route("DELETE", B, "DeleteBucketReplication", "replication"),
    Route("DELETE", B, "DeletePublicAccessBlock", "publicAccessBlock"),
    Route("DELETE", B, "DeleteBucketOwnershipControls", "ownershipControls"),
    Route("DELETE", B, "NotImplemented", "object-lock"),  # no such operation: never DeleteBucket
    *(Route("DELETE", B, "NotImplemented", q) for q in LATER_BUCKET),
    Route("DELETE", B, "DeleteBucket"),
    Route("POST", B, "DeleteObjects", "delete"),
    Route("OPTIONS", B, "PreflightRequest"),    # CORS preflight: answered without authentication
    Route("POST", B, "PostObject"),  # browser upload: authenticated by its form
    # object
    Route("GET", OBJ, "GetObjectTagging", "tagging"),
    Route("GET", OBJ, "GetObjectAcl", "acl"),
    Route("GET", OBJ, "ListParts", "uploadId"),
    Route("GET", OBJ, "GetObjectAttributes", "attributes"),
    Route("GET", OBJ, "GetObjectRetention", "retention"),
    Route("GET", OBJ, "GetObjectLegalHold", "legal-hold"),
    *(Route("GET", OBJ, "NotImplemented", q) for q in LATER_OBJECT + SELECT_ONLY_POST),
    Route("GET", OBJ, "GetObject"),
    Route("HEAD", OBJ, "HeadObject"),
    Route("PUT", OBJ, "PutObjectTagging", "tagging"),
    Route("PUT", OBJ, "PutObjectAcl", "acl"),
    Route("PUT", OBJ, "PutObjectRetention", "retention"),
    Route("PUT", OBJ, "PutObjectLegalHold", "legal-hold"),
    Route("PUT", OBJ, "UploadPartCopy", "uploadId", "x-amz-copy-source"),
    Route("PUT", OBJ, "UploadPart", "uploadId"),
    *(Route("PUT", OBJ, "NotImplemented", q) for q in LATER_OBJECT + SELECT_ONLY_POST),
    Route("PUT", OBJ, "CopyObject", None, "x-amz-copy-source"),
    Route("PUT", OBJ, "PutObject"),
    Route("DELETE", OBJ, "DeleteObjectTagging", "tagging"),
    Route("DELETE", OBJ, "AbortMultipartUpload", "uploadId"),
    Route("DELETE", OBJ, "DeleteObject"),
    Route("POST", OBJ, "CreateMultipartUpload", "uploads"),
    Route("POST", OBJ, "CompleteMultipartUpload", "uploadId"),
    Route("POST", OBJ, "SelectObjectContent", "select"),
    *(Route("POST", OBJ, "NotImplemented", q) for q in LATER_OBJECT),
    Route("OPTIONS", OBJ, "PreflightRequest"),
)


def _by_method_and_target(routes: tuple[Route, ...]) -> dict[tuple[str, Target], tuple[Route, ...]]:
    """The table split by (method, target), each part keeping the table's order (first match wins)."""
    parts: dict[tuple[str, Target], list[Route]] = {}
    for r in routes:
        parts.setdefault((r.method, r.target), []).append(r)
    return {k: tuple(v) for k, v in parts.items()}


_PARTS = _by_method_and_target(ROUTES)


def route(method: str, target: Target, query: dict[str, str], headers: dict[str, str]) -> str | None:
    """The operation name, or None when no route matches (the caller answers MethodNotAllowed)."""
    if method == "HEAD" and target is Target.SERVICE:
        return None
    for r in _PARTS.get((method, target), ()):
        if r.query is not None and r.query not in query:
            continue
        if r.header is not None and r.header not in headers:
            continue
        return r.operation
    return None
