"""S3 operations to IAM actions and resources.

Follows "Actions, resources, and condition keys for Amazon S3" (Service Authorization Reference) and the
"Required permissions" paragraph of each S3 API page. Each operation names its IAM action and resource
level (:class:`ActionFacts`; the S3 operation table's rows); the level is ``"service"`` (resource
``arn:aws:s3:::``, which ``*`` and ``arn:aws:s3:::*`` match), ``"bucket"`` (``arn:aws:s3:::BUCKET``) or
``"object"`` (``arn:aws:s3:::BUCKET/KEY``). :func:`required_permissions` adds what depends on the request: the
``...Version...`` action when a versionId is given, ``s3:GetObject`` on a copy source, one
``s3:DeleteObject`` per key of DeleteObjects, ``s3:PutObjectAcl``/``s3:PutObjectTagging`` when a write
carries ACL or tagging headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple, Protocol

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

#: What ``x-amz-bypass-governance-retention: true`` needs on the object (DeleteObject of a version,
#: DeleteObjects, PutObjectRetention). Not a required permission: without it the request goes on as if the
#: header were absent, and Object Lock refuses what GOVERNANCE retention protects.
BYPASS_GOVERNANCE = "s3:BypassGovernanceRetention"

SERVICE_ARN = f"arn:{PARTITION}:s3:::"


class Permission(NamedTuple):
    action: str
    resource: str


class ActionFacts(Protocol):
    """What authorization needs to know of an operation (an S3 operation row has these): its IAM action and
    resource level, whether it reads a copy source, whether it writes a new object or upload (which may
    carry ACL and tagging headers), and whether it is authorized key by key (DeleteObjects)."""

    @property
    def action(self) -> str: ...
    @property
    def resource(self) -> Level: ...
    @property
    def copies(self) -> bool: ...
    @property
    def creates_object(self) -> bool: ...
    @property
    def per_key(self) -> bool: ...


def bucket_arn(bucket: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:{PARTITION}:s3:::{bucket}/{key}"


def action_level(action: str) -> Level | None:
    """The resource type of an S3 IAM action (case-insensitive), None when unknown."""
    return _LEVELS.get(action.lower())


_LEVELS: dict[str, Level] = {a.lower(): lvl for a, lvl in S3_ACTIONS.items()}


def required_permissions(op: ActionFacts, bucket: str | None = None, key: str | None = None, *,
                         version_id: str | None = None,
                         copy_source: tuple[str, str, str | None] | None = None,
                         delete_keys: Sequence[tuple[str, str | None]] = (),
                         acl: bool = False, tagging: bool = False) -> list[Permission]:
    """Every (action, resource) the operation needs; the request is allowed only if each one is.

    ``copy_source`` is ``(bucket, key, version_id)``; ``delete_keys`` is the list of ``(key, version_id)`` of
    an operation authorized key by key; ``acl``/``tagging`` say a write carries x-amz-acl/x-amz-grant-* or
    x-amz-tagging. Raises ValueError when the bucket or key it needs is missing.
    """
    action, level = op.action, op.resource
    if level == "service":
        return [Permission(action, SERVICE_ARN)]
    if bucket is None:
        raise ValueError(f"{action} needs a bucket")
    if level == "bucket":
        perms = [Permission(action, bucket_arn(bucket))]
        if action == "s3:CreateBucket" and acl:
            perms.append(Permission("s3:PutBucketAcl", bucket_arn(bucket)))
        return perms
    if op.per_key:
        return [Permission(VERSIONED[action] if vid is not None else action, object_arn(bucket, k))
                for k, vid in delete_keys]
    if key is None:
        raise ValueError(f"{action} needs a key")
    resource = object_arn(bucket, key)
    perms = [Permission(VERSIONED.get(action, action) if version_id is not None else action, resource)]
    if op.copies and copy_source is not None:
        src_bucket, src_key, src_version = copy_source
        perms.append(Permission("s3:GetObjectVersion" if src_version is not None else "s3:GetObject",
                                object_arn(src_bucket, src_key)))
    if op.creates_object:
        if acl:
            perms.append(Permission("s3:PutObjectAcl", resource))
        if tagging:
            perms.append(Permission("s3:PutObjectTagging", resource))
    return perms
