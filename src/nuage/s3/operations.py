"""Every S3 operation this server answers, one row each, in the order the router tries them.

A row says how a request matches (method, target, a query parameter or header that must be present),
which handler runs it, the IAM action and resource it needs, and the flags the rest of the server asks
of it (authorization, metering, audit, body, lifecycle headers). Adding an operation is adding a row;
``tests/unit/test_operations.py`` walks the table.
"""

from __future__ import annotations

from typing import TypedDict, Unpack

from nuage.core.policy.actions import Level
from nuage.s3.context import BucketHandler, ObjectHandler, ServiceHandler, Services
from nuage.s3.errors import NotImplemented as NotImplementedError_
from nuage.s3.handlers import (
    acl,
    attributes,
    buckets,
    copy,
    cors,
    encryption,
    lifecycle,
    listing,
    lock,
    multidelete,
    multipart,
    objects,
    ownership,
    policy,
    post,
    public_access,
    replication,
    select,
    tagging,
    website,
)
from nuage.s3.http import Request, Response
from nuage.s3.operation import (
    Access,
    AccessLevel,
    AnyHandler,
    Metering,
    Operation,
    Runner,
    Target,
    bucket_runner,
    object_runner,
    service_runner,
)

S, B, OBJ = Target.SERVICE, Target.BUCKET, Target.OBJECT


def access_level(action: str) -> AccessLevel:
    """The access level of an S3 IAM action, by the Service Authorization Reference's rules: listings are
    List, reads Read, writes of ACLs, policies and public access blocks Permissions management, writes of
    tags Tagging, every other write Write."""
    name = action.split(":", 1)[1]
    if name.startswith("List"):
        return AccessLevel.LIST
    if name.startswith("Get"):
        return AccessLevel.READ
    if name.endswith(("Acl", "Policy", "PublicAccessBlock")):
        return AccessLevel.PERMISSIONS
    if name.endswith("Tagging"):
        return AccessLevel.TAGGING
    return AccessLevel.WRITE


def metering(method: str, name: str) -> Metering:
    """The request class of an operation: writes and listings are tier 1, reads and the rest tier 2, deletes
    and aborts free (SelectObjectContent is a POST priced as a read)."""
    if method == "DELETE" or name == "DeleteObjects":
        return Metering.FREE
    if name.startswith("List") or (method in ("PUT", "POST") and name != "SelectObjectContent"):
        return Metering.TIER1
    return Metering.TIER2


class Flags(TypedDict, total=False):
    """The flags of a row (see :class:`Operation`), all False unless given."""

    reads_body: bool
    copies: bool
    creates_object: bool
    lists: bool
    per_key: bool
    expiration_header: bool


def _row(name: str, method: str, target: Target, handler: AnyHandler, runner: Runner, action: str,
         resource: Level, query: str | None, header: str | None, access: Access, flags: Flags) -> Operation:
    # data events (CloudTrail's split): what reads or writes objects, and the listings of them
    data_event = resource == "object" or flags.get("lists", False) or name == "ListMultipartUploads"
    return Operation(name=name, method=method, target=target, handler=handler, runner=runner, action=action,
                     resource=resource, access_level=access_level(action), metering=metering(method, name),
                     query=query, header=header, access=access, data_event=data_event, **flags)


def svc_op(name: str, method: str, handler: ServiceHandler, action: str) -> Operation:
    return _row(name, method, S, handler, service_runner(handler), action, "service", None, None, Access.SIGNED, {})


def bucket_op(name: str, method: str, handler: BucketHandler, action: str, query: str | None = None, *,
              target: Target = B, resource: Level = "bucket", access: Access = Access.SIGNED,
              **flags: Unpack[Flags]) -> Operation:
    return _row(name, method, target, handler, bucket_runner(handler), action, resource, query, None, access, flags)


def object_op(name: str, method: str, handler: ObjectHandler, action: str, query: str | None = None, *,
              header: str | None = None, access: Access = Access.SIGNED, **flags: Unpack[Flags]) -> Operation:
    return _row(name, method, OBJ, handler, object_runner(handler), action, "object", query, header, access, flags)


async def not_implemented(svc: Services, req: Request, bucket: str) -> Response:
    raise NotImplementedError_("This operation is not implemented yet.")


async def not_implemented_object(svc: Services, req: Request, bucket: str, key: str) -> Response:
    raise NotImplementedError_("This operation is not implemented yet.")


#: Bucket sub-resources not implemented yet: (query parameter, operation noun, read action, write action).
LATER_BUCKET = (
    ("logging", "BucketLogging", "s3:GetBucketLogging", "s3:PutBucketLogging"),
    ("notification", "BucketNotificationConfiguration", "s3:GetBucketNotification", "s3:PutBucketNotification"),
    ("accelerate", "BucketAccelerateConfiguration", "s3:GetAccelerateConfiguration",
     "s3:PutAccelerateConfiguration"),
    ("requestPayment", "BucketRequestPayment", "s3:GetBucketRequestPayment", "s3:PutBucketRequestPayment"),
    ("analytics", "BucketAnalyticsConfiguration", "s3:GetAnalyticsConfiguration", "s3:PutAnalyticsConfiguration"),
    ("inventory", "BucketInventoryConfiguration", "s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration"),
    ("metrics", "BucketMetricsConfiguration", "s3:GetMetricsConfiguration", "s3:PutMetricsConfiguration"),
    ("intelligent-tiering", "BucketIntelligentTieringConfiguration", "s3:GetIntelligentTieringConfiguration",
     "s3:PutIntelligentTieringConfiguration"),
)
#: Object sub-resources not implemented, by method: (query parameter, operation name, action).
LATER_OBJECT = {
    "GET": (("restore", "GetObjectRestore", "s3:RestoreObject"), ("torrent", "GetObjectTorrent", "s3:GetObjectTorrent"),
            ("select", "GetObjectSelect", "s3:GetObject")),   # SelectObjectContent is a POST
    "PUT": (("restore", "PutObjectRestore", "s3:RestoreObject"), ("torrent", "PutObjectTorrent", "s3:GetObjectTorrent"),
            ("select", "PutObjectSelect", "s3:GetObject")),
    "POST": (("restore", "RestoreObject", "s3:RestoreObject"), ("torrent", "PostObjectTorrent", "s3:GetObjectTorrent")),
}
LATER = Access.OWNER


def _later_bucket(method: str) -> tuple[Operation, ...]:
    verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}[method]
    return tuple(bucket_op(verb + noun, method, not_implemented, read if method == "GET" else write, query,
                           access=LATER) for query, noun, read, write in LATER_BUCKET)


def _later_object(method: str) -> tuple[Operation, ...]:
    return tuple(object_op(name, method, not_implemented_object, action, query, access=LATER)
                 for query, name, action in LATER_OBJECT[method])


OPERATIONS: tuple[Operation, ...] = (
    svc_op("ListBuckets", "GET", buckets.list_buckets, "s3:ListAllMyBuckets"),
    # -- bucket: GET
    bucket_op("GetBucketVersioning", "GET", buckets.get_versioning, "s3:GetBucketVersioning", "versioning"),
    bucket_op("GetBucketLocation", "GET", buckets.get_location, "s3:GetBucketLocation", "location"),
    bucket_op("GetBucketTagging", "GET", buckets.get_tagging, "s3:GetBucketTagging", "tagging"),
    bucket_op("GetBucketAcl", "GET", acl.get_bucket_acl, "s3:GetBucketAcl", "acl"),
    bucket_op("GetBucketPolicy", "GET", policy.get_bucket_policy, "s3:GetBucketPolicy", "policy"),
    bucket_op("GetBucketPolicyStatus", "GET", policy.get_bucket_policy_status, "s3:GetBucketPolicyStatus",
              "policyStatus"),
    bucket_op("ListObjectVersions", "GET", listing.list_versions, "s3:ListBucketVersions", "versions", lists=True),
    bucket_op("ListMultipartUploads", "GET", multipart.list_uploads, "s3:ListBucketMultipartUploads", "uploads"),
    bucket_op("GetBucketEncryption", "GET", encryption.get_bucket_encryption, "s3:GetEncryptionConfiguration",
              "encryption"),
    bucket_op("GetObjectLockConfiguration", "GET", lock.get_configuration, "s3:GetBucketObjectLockConfiguration",
              "object-lock"),
    bucket_op("GetBucketLifecycleConfiguration", "GET", lifecycle.get_lifecycle, "s3:GetLifecycleConfiguration",
              "lifecycle"),
    bucket_op("GetBucketCors", "GET", cors.get_cors, "s3:GetBucketCORS", "cors"),
    bucket_op("GetBucketWebsite", "GET", website.get_website, "s3:GetBucketWebsite", "website"),
    bucket_op("GetBucketReplication", "GET", replication.get_bucket_replication, "s3:GetReplicationConfiguration",
              "replication"),
    bucket_op("GetPublicAccessBlock", "GET", public_access.get_public_block, "s3:GetBucketPublicAccessBlock",
              "publicAccessBlock"),
    bucket_op("GetBucketOwnershipControls", "GET", ownership.get_ownership, "s3:GetBucketOwnershipControls",
              "ownershipControls"),
    *_later_bucket("GET"),
    bucket_op("ListObjectsV2", "GET", listing.list_v2, "s3:ListBucket", "list-type", lists=True),
    bucket_op("ListObjects", "GET", listing.list_v1, "s3:ListBucket", lists=True),
    bucket_op("HeadBucket", "HEAD", buckets.head_bucket, "s3:ListBucket"),
    # -- bucket: PUT
    bucket_op("PutBucketVersioning", "PUT", buckets.put_versioning, "s3:PutBucketVersioning", "versioning",
              reads_body=True),
    bucket_op("PutBucketTagging", "PUT", buckets.put_tagging, "s3:PutBucketTagging", "tagging", reads_body=True),
    bucket_op("PutBucketAcl", "PUT", acl.put_bucket_acl, "s3:PutBucketAcl", "acl", reads_body=True),
    bucket_op("PutBucketPolicy", "PUT", policy.put_bucket_policy, "s3:PutBucketPolicy", "policy", reads_body=True),
    bucket_op("PutBucketPolicyStatus", "PUT", not_implemented, "s3:PutBucketPolicy", "policyStatus", access=LATER),
    bucket_op("PutBucketEncryption", "PUT", encryption.put_bucket_encryption, "s3:PutEncryptionConfiguration",
              "encryption", reads_body=True),
    bucket_op("PutObjectLockConfiguration", "PUT", lock.put_configuration, "s3:PutBucketObjectLockConfiguration",
              "object-lock", reads_body=True),
    bucket_op("PutBucketLifecycleConfiguration", "PUT", lifecycle.put_lifecycle, "s3:PutLifecycleConfiguration",
              "lifecycle", reads_body=True),
    bucket_op("PutBucketCors", "PUT", cors.put_cors, "s3:PutBucketCORS", "cors", reads_body=True),
    bucket_op("PutBucketWebsite", "PUT", website.put_website, "s3:PutBucketWebsite", "website", reads_body=True),
    bucket_op("PutBucketReplication", "PUT", replication.put_bucket_replication, "s3:PutReplicationConfiguration",
              "replication", reads_body=True),
    bucket_op("PutPublicAccessBlock", "PUT", public_access.put_public_block, "s3:PutBucketPublicAccessBlock",
              "publicAccessBlock", reads_body=True),
    bucket_op("PutBucketOwnershipControls", "PUT", ownership.put_ownership, "s3:PutBucketOwnershipControls",
              "ownershipControls", reads_body=True),
    *_later_bucket("PUT"),
    bucket_op("CreateBucket", "PUT", buckets.create_bucket, "s3:CreateBucket", reads_body=True),
    # -- bucket: DELETE
    bucket_op("DeleteBucketTagging", "DELETE", buckets.delete_tagging, "s3:PutBucketTagging", "tagging"),
    bucket_op("DeleteBucketPolicy", "DELETE", policy.delete_bucket_policy, "s3:DeleteBucketPolicy", "policy"),
    bucket_op("DeleteBucketPolicyStatus", "DELETE", not_implemented, "s3:DeleteBucketPolicy", "policyStatus",
              access=LATER),
    bucket_op("DeleteBucketEncryption", "DELETE", encryption.delete_bucket_encryption,
              "s3:PutEncryptionConfiguration", "encryption"),
    bucket_op("DeleteBucketLifecycle", "DELETE", lifecycle.delete_lifecycle, "s3:PutLifecycleConfiguration",
              "lifecycle"),
    bucket_op("DeleteBucketCors", "DELETE", cors.delete_cors, "s3:PutBucketCORS", "cors"),
    bucket_op("DeleteBucketWebsite", "DELETE", website.delete_website, "s3:DeleteBucketWebsite", "website"),
    bucket_op("DeleteBucketReplication", "DELETE", replication.delete_bucket_replication,
              "s3:PutReplicationConfiguration", "replication"),
    bucket_op("DeletePublicAccessBlock", "DELETE", public_access.delete_public_block,
              "s3:PutBucketPublicAccessBlock", "publicAccessBlock"),
    bucket_op("DeleteBucketOwnershipControls", "DELETE", ownership.delete_ownership,
              "s3:PutBucketOwnershipControls", "ownershipControls"),
    # no such operation on S3: never DeleteBucket
    bucket_op("DeleteObjectLockConfiguration", "DELETE", not_implemented, "s3:PutBucketObjectLockConfiguration",
              "object-lock", access=LATER),
    *_later_bucket("DELETE"),
    bucket_op("DeleteBucket", "DELETE", buckets.delete_bucket, "s3:DeleteBucket"),
    # -- bucket: POST and OPTIONS
    bucket_op("DeleteObjects", "POST", multidelete.delete_objects, "s3:DeleteObject", "delete", resource="object",
              reads_body=True, per_key=True),
    bucket_op("PreflightRequest", "OPTIONS", cors.preflight, "s3:GetBucketCORS", access=Access.NONE),
    bucket_op("PostObject", "POST", post.post_object, "s3:PutObject", resource="object", access=Access.FORM,
              reads_body=True, creates_object=True),
    # -- object: GET and HEAD
    object_op("GetObjectTagging", "GET", tagging.get_tagging, "s3:GetObjectTagging", "tagging"),
    object_op("GetObjectAcl", "GET", acl.get_object_acl, "s3:GetObjectAcl", "acl"),
    object_op("ListParts", "GET", multipart.list_parts, "s3:ListMultipartUploadParts", "uploadId"),
    object_op("GetObjectAttributes", "GET", attributes.get_attributes, "s3:GetObjectAttributes", "attributes"),
    object_op("GetObjectRetention", "GET", lock.get_retention, "s3:GetObjectRetention", "retention"),
    object_op("GetObjectLegalHold", "GET", lock.get_legal_hold, "s3:GetObjectLegalHold", "legal-hold"),
    *_later_object("GET"),
    object_op("GetObject", "GET", objects.get_object, "s3:GetObject", expiration_header=True),
    object_op("HeadObject", "HEAD", objects.head_object, "s3:GetObject", expiration_header=True),
    # -- object: PUT
    object_op("PutObjectTagging", "PUT", tagging.put_tagging, "s3:PutObjectTagging", "tagging", reads_body=True),
    object_op("PutObjectAcl", "PUT", acl.put_object_acl, "s3:PutObjectAcl", "acl", reads_body=True),
    object_op("PutObjectRetention", "PUT", lock.put_retention, "s3:PutObjectRetention", "retention",
              reads_body=True),
    object_op("PutObjectLegalHold", "PUT", lock.put_legal_hold, "s3:PutObjectLegalHold", "legal-hold",
              reads_body=True),
    object_op("UploadPartCopy", "PUT", multipart.upload_part_copy, "s3:PutObject", "uploadId",
              header="x-amz-copy-source", copies=True),
    object_op("UploadPart", "PUT", multipart.upload_part, "s3:PutObject", "uploadId", reads_body=True),
    *_later_object("PUT"),
    object_op("CopyObject", "PUT", copy.copy_object, "s3:PutObject", header="x-amz-copy-source", copies=True,
              creates_object=True, expiration_header=True),
    object_op("PutObject", "PUT", objects.put_object, "s3:PutObject", reads_body=True, creates_object=True,
              expiration_header=True),
    # -- object: DELETE
    object_op("DeleteObjectTagging", "DELETE", tagging.delete_tagging, "s3:DeleteObjectTagging", "tagging"),
    object_op("AbortMultipartUpload", "DELETE", multipart.abort, "s3:AbortMultipartUpload", "uploadId"),
    object_op("DeleteObject", "DELETE", objects.delete_object, "s3:DeleteObject"),
    # -- object: POST and OPTIONS
    object_op("CreateMultipartUpload", "POST", multipart.create, "s3:PutObject", "uploads", creates_object=True),
    object_op("CompleteMultipartUpload", "POST", multipart.complete, "s3:PutObject", "uploadId", reads_body=True,
              expiration_header=True),
    object_op("SelectObjectContent", "POST", select.select_object_content, "s3:GetObject", "select",
              reads_body=True),
    *_later_object("POST"),
    bucket_op("PreflightRequest", "OPTIONS", cors.preflight, "s3:GetBucketCORS", target=OBJ,
              access=Access.NONE),
)

#: The rows by name (the object-level preflight shares its name and handler with the bucket-level one).
BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
