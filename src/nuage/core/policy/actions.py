"""S3 operations to IAM actions and resources.

Follows "Actions, resources, and condition keys for Amazon S3" (Service Authorization Reference) and the
"Required permissions" paragraph of each S3 API page. ``ACTIONS`` maps an operation name, as the router
names it, to ``(IAM action, resource level)``; the level is ``"service"`` (resource ``arn:aws:s3:::``,
which ``*`` and ``arn:aws:s3:::*`` match), ``"bucket"`` (``arn:aws:s3:::BUCKET``) or ``"object"``
(``arn:aws:s3:::BUCKET/KEY``). :func:`required_permissions` adds what depends on the request: the
``...Version...`` action when a versionId is given, ``s3:GetObject`` on a copy source, one
``s3:DeleteObject`` per key of DeleteObjects, ``s3:PutObjectAcl``/``s3:PutObjectTagging`` when a write
carries ACL or tagging headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

from nuage.core.policy.model import PARTITION

Level = Literal["service", "bucket", "object"]

#: Every S3 IAM action this server knows, with the resource type it applies to (used to validate policies).
S3_ACTIONS: dict[str, Level] = {
    **{f"s3:{a}": "service" for a in (
        "ListAllMyBuckets", "GetAccountPublicAccessBlock", "PutAccountPublicAccessBlock", "ListAccessPoints",
        "CreateJob", "ListJobs", "ListStorageLensConfigurations")},
    **{f"s3:{a}": "bucket" for a in (
        "CreateBucket", "DeleteBucket", "ListBucket", "ListBucketVersions", "ListBucketMultipartUploads",
        "GetBucketLocation", "GetBucketVersioning", "PutBucketVersioning", "GetBucketTagging", "PutBucketTagging",
        "GetBucketAcl", "PutBucketAcl", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy",
        "GetBucketPolicyStatus", "GetBucketCORS", "PutBucketCORS", "GetLifecycleConfiguration",
        "PutLifecycleConfiguration", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite",
        "GetBucketLogging", "PutBucketLogging", "GetBucketNotification", "PutBucketNotification",
        "GetReplicationConfiguration", "PutReplicationConfiguration", "GetEncryptionConfiguration",
        "PutEncryptionConfiguration", "GetBucketObjectLockConfiguration", "PutBucketObjectLockConfiguration",
        "GetBucketPublicAccessBlock", "PutBucketPublicAccessBlock", "GetBucketOwnershipControls",
        "PutBucketOwnershipControls", "DeleteBucketOwnershipControls", "GetAccelerateConfiguration",
        "PutAccelerateConfiguration", "GetBucketRequestPayment", "PutBucketRequestPayment",
        "GetAnalyticsConfiguration", "PutAnalyticsConfiguration", "GetInventoryConfiguration",
        "PutInventoryConfiguration", "GetMetricsConfiguration", "PutMetricsConfiguration",
        "GetIntelligentTieringConfiguration", "PutIntelligentTieringConfiguration")},
    **{f"s3:{a}": "object" for a in (
        "GetObject", "GetObjectVersion", "PutObject", "DeleteObject", "DeleteObjectVersion", "GetObjectAcl",
        "GetObjectVersionAcl", "PutObjectAcl", "PutObjectVersionAcl", "GetObjectTagging", "GetObjectVersionTagging",
        "PutObjectTagging", "PutObjectVersionTagging", "DeleteObjectTagging", "DeleteObjectVersionTagging",
        "GetObjectAttributes", "GetObjectVersionAttributes", "GetObjectTorrent", "GetObjectVersionTorrent",
        "GetObjectRetention", "PutObjectRetention", "GetObjectLegalHold", "PutObjectLegalHold",
        "BypassGovernanceRetention", "AbortMultipartUpload", "ListMultipartUploadParts", "RestoreObject",
        "GetObjectVersionForReplication", "ReplicateObject", "ReplicateDelete", "ReplicateTags",
        "ObjectOwnerOverrideToBucketOwner", "InitiateReplication")},
}

#: Operation name -> (IAM action, resource level).
ACTIONS: dict[str, tuple[str, Level]] = {
    "ListBuckets": ("s3:ListAllMyBuckets", "service"),
    # buckets
    "CreateBucket": ("s3:CreateBucket", "bucket"),
    "DeleteBucket": ("s3:DeleteBucket", "bucket"),
    "HeadBucket": ("s3:ListBucket", "bucket"),
    "ListObjects": ("s3:ListBucket", "bucket"),
    "ListObjectsV2": ("s3:ListBucket", "bucket"),
    "ListObjectVersions": ("s3:ListBucketVersions", "bucket"),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads", "bucket"),
    "GetBucketLocation": ("s3:GetBucketLocation", "bucket"),
    "GetBucketVersioning": ("s3:GetBucketVersioning", "bucket"),
    "PutBucketVersioning": ("s3:PutBucketVersioning", "bucket"),
    "GetBucketTagging": ("s3:GetBucketTagging", "bucket"),
    "PutBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "DeleteBucketTagging": ("s3:PutBucketTagging", "bucket"),
    "GetBucketAcl": ("s3:GetBucketAcl", "bucket"),
    "PutBucketAcl": ("s3:PutBucketAcl", "bucket"),
    "GetBucketPolicy": ("s3:GetBucketPolicy", "bucket"),
    "PutBucketPolicy": ("s3:PutBucketPolicy", "bucket"),
    "DeleteBucketPolicy": ("s3:DeleteBucketPolicy", "bucket"),
    "GetBucketPolicyStatus": ("s3:GetBucketPolicyStatus", "bucket"),
    "GetBucketCors": ("s3:GetBucketCORS", "bucket"),
    "PutBucketCors": ("s3:PutBucketCORS", "bucket"),
    "DeleteBucketCors": ("s3:PutBucketCORS", "bucket"),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration", "bucket"),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration", "bucket"),
    "DeleteBucketLifecycle": ("s3:PutLifecycleConfiguration", "bucket"),
    "GetBucketWebsite": ("s3:GetBucketWebsite", "bucket"),
    "PutBucketWebsite": ("s3:PutBucketWebsite", "bucket"),
    "DeleteBucketWebsite": ("s3:DeleteBucketWebsite", "bucket"),
    "GetBucketLogging": ("s3:GetBucketLogging", "bucket"),
    "PutBucketLogging": ("s3:PutBucketLogging", "bucket"),
    "GetBucketNotificationConfiguration": ("s3:GetBucketNotification", "bucket"),
    "PutBucketNotificationConfiguration": ("s3:PutBucketNotification", "bucket"),
    "GetBucketReplication": ("s3:GetReplicationConfiguration", "bucket"),
    "PutBucketReplication": ("s3:PutReplicationConfiguration", "bucket"),
    "DeleteBucketReplication": ("s3:PutReplicationConfiguration", "bucket"),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration", "bucket"),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "DeleteBucketEncryption": ("s3:PutEncryptionConfiguration", "bucket"),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration", "bucket"),
    "PutObjectLockConfiguration": ("s3:PutBucketObjectLockConfiguration", "bucket"),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock", "bucket"),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "DeletePublicAccessBlock": ("s3:PutBucketPublicAccessBlock", "bucket"),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls", "bucket"),
    "PutBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "DeleteBucketOwnershipControls": ("s3:PutBucketOwnershipControls", "bucket"),
    "GetBucketAccelerateConfiguration": ("s3:GetAccelerateConfiguration", "bucket"),
    "PutBucketAccelerateConfiguration": ("s3:PutAccelerateConfiguration", "bucket"),
    "GetBucketRequestPayment": ("s3:GetBucketRequestPayment", "bucket"),
    "PutBucketRequestPayment": ("s3:PutBucketRequestPayment", "bucket"),
    "GetBucketAnalyticsConfiguration": ("s3:GetAnalyticsConfiguration", "bucket"),
    "ListBucketAnalyticsConfigurations": ("s3:GetAnalyticsConfiguration", "bucket"),
    "PutBucketAnalyticsConfiguration": ("s3:PutAnalyticsConfiguration", "bucket"),
    "DeleteBucketAnalyticsConfiguration": ("s3:PutAnalyticsConfiguration", "bucket"),
    "GetBucketInventoryConfiguration": ("s3:GetInventoryConfiguration", "bucket"),
    "ListBucketInventoryConfigurations": ("s3:GetInventoryConfiguration", "bucket"),
    "PutBucketInventoryConfiguration": ("s3:PutInventoryConfiguration", "bucket"),
    "DeleteBucketInventoryConfiguration": ("s3:PutInventoryConfiguration", "bucket"),
    "GetBucketMetricsConfiguration": ("s3:GetMetricsConfiguration", "bucket"),
    "ListBucketMetricsConfigurations": ("s3:GetMetricsConfiguration", "bucket"),
    "PutBucketMetricsConfiguration": ("s3:PutMetricsConfiguration", "bucket"),
    "DeleteBucketMetricsConfiguration": ("s3:PutMetricsConfiguration", "bucket"),
    "GetBucketIntelligentTieringConfiguration": ("s3:GetIntelligentTieringConfiguration", "bucket"),
    "ListBucketIntelligentTieringConfigurations": ("s3:GetIntelligentTieringConfiguration", "bucket"),
    "PutBucketIntelligentTieringConfiguration": ("s3:PutIntelligentTieringConfiguration", "bucket"),
    "DeleteBucketIntelligentTieringConfiguration": ("s3:PutIntelligentTieringConfiguration", "bucket"),
    # objects
    "GetObject": ("s3:GetObject", "object"),
    "HeadObject": ("s3:GetObject", "object"),
    "SelectObjectContent": ("s3:GetObject", "object"),
    "PutObject": ("s3:PutObject", "object"),
    "PostObject": ("s3:PutObject", "object"),
    "CopyObject": ("s3:PutObject", "object"),
    "DeleteObject": ("s3:DeleteObject", "object"),
    "DeleteObjects": ("s3:DeleteObject", "object"),
    "GetObjectTagging": ("s3:GetObjectTagging", "object"),
    "PutObjectTagging": ("s3:PutObjectTagging", "object"),
    "DeleteObjectTagging": ("s3:DeleteObjectTagging", "object"),
    "GetObjectAcl": ("s3:GetObjectAcl", "object"),
    "PutObjectAcl": ("s3:PutObjectAcl", "object"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "object"),
    "GetObjectTorrent": ("s3:GetObjectTorrent", "object"),
    "GetObjectRetention": ("s3:GetObjectRetention", "object"),
    "PutObjectRetention": ("s3:PutObjectRetention", "object"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", "object"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", "object"),
    "RestoreObject": ("s3:RestoreObject", "object"),
    "CreateMultipartUpload": ("s3:PutObject", "object"),
    "UploadPart": ("s3:PutObject", "object"),
    "UploadPartCopy": ("s3:PutObject", "object"),
    "CompleteMultipartUpload": ("s3:PutObject", "object"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "object"),
    "ListParts": ("s3:ListMultipartUploadParts", "object"),
}

#: The action an object operation needs instead when the request names a version (?versionId=).
VERSIONED: dict[str, str] = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
    "s3:GetObjectTorrent": "s3:GetObjectVersionTorrent",
}

#: Operations that read a copy source (x-amz-copy-source) and so also need s3:GetObject on it.
COPIES = frozenset({"CopyObject", "UploadPartCopy"})
#: What ``x-amz-bypass-governance-retention: true`` needs on the object (DeleteObject of a version,
#: DeleteObjects, PutObjectRetention). Not a required permission: without it the request goes on as if the
#: header were absent, and Object Lock refuses what GOVERNANCE retention protects.
BYPASS_GOVERNANCE = "s3:BypassGovernanceRetention"
#: Writes that need s3:PutObjectAcl / s3:PutObjectTagging too when they carry ACL or tagging headers.
OBJECT_WRITES = frozenset({"PutObject", "PostObject", "CopyObject", "CreateMultipartUpload"})

SERVICE_ARN = f"arn:{PARTITION}:s3:::"


class Permission(NamedTuple):
    action: str
    resource: str


def bucket_arn(bucket: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}/{key}"


def action_level(action: str) -> Level | None:
    """The resource type of an S3 IAM action (case-insensitive), None when unknown."""
    return _LEVELS.get(action.lower())


_LEVELS: dict[str, Level] = {a.lower(): lvl for a, lvl in S3_ACTIONS.items()}


def required_permissions(operation: str, bucket: str | None = None, key: str | None = None, *,
                         version_id: str | None = None,
                         copy_source: tuple[str, str, str | None] | None = None,
                         delete_keys: Sequence[tuple[str, str | None]] = (),
                         acl: bool = False, tagging: bool = False) -> list[Permission]:
    """Every (action, resource) the operation needs; the request is allowed only if each one is.

    ``copy_source`` is ``(bucket, key, version_id)``; ``delete_keys`` is DeleteObjects' list of
    ``(key, version_id)``; ``acl``/``tagging`` say a write carries x-amz-acl/x-amz-grant-* or x-amz-tagging.
    Raises KeyError for an unknown operation and ValueError when the bucket or key it needs is missing.
    """
    action, level = ACTIONS[operation]
    if level == "service":
        return [Permission(action, SERVICE_ARN)]
    if bucket is None:
        raise ValueError(f"{operation} needs a bucket")
    if level == "bucket":
        perms = [Permission(action, bucket_arn(bucket))]
        if operation == "CreateBucket" and acl:
            perms.append(Permission("s3:PutBucketAcl", bucket_arn(bucket)))
        return perms
    if operation == "DeleteObjects":
        return [Permission(VERSIONED[action] if vid is not None else action, object_arn(bucket, k))
                for k, vid in delete_keys]
    if key is None:
        raise ValueError(f"{operation} needs a key")
    resource = object_arn(bucket, key)
    perms = [Permission(VERSIONED.get(action, action) if version_id is not None else action, resource)]
    if operation in COPIES and copy_source is not None:
        src_bucket, src_key, src_version = copy_source
        perms.append(Permission("s3:GetObjectVersion" if src_version is not None else "s3:GetObject",
                                object_arn(src_bucket, src_key)))
    if operation in OBJECT_WRITES:
        if acl:
            perms.append(Permission("s3:PutObjectAcl", resource))
        if tagging:
            perms.append(Permission("s3:PutObjectTagging", resource))
    return perms
