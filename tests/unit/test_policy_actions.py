"""What an S3 operation needs: its row's IAM action and resource, and the permissions a request adds
(nuage.core.policy.actions)."""

from __future__ import annotations

import pytest

from nuage.core.policy import SERVICE_ARN, Permission, action_level, required_permissions
from nuage.s3.operations import BY_NAME

B = "arn:aws:s3:::bkt"
OBJ = "arn:aws:s3:::bkt/dir/key.txt"


@pytest.mark.parametrize(("operation", "expected"), [
    ("ListBuckets", ("s3:ListAllMyBuckets", "service")),
    ("HeadBucket", ("s3:ListBucket", "bucket")),
    ("ListObjects", ("s3:ListBucket", "bucket")),
    ("ListObjectsV2", ("s3:ListBucket", "bucket")),
    ("ListObjectVersions", ("s3:ListBucketVersions", "bucket")),
    ("ListMultipartUploads", ("s3:ListBucketMultipartUploads", "bucket")),
    ("DeleteBucketTagging", ("s3:PutBucketTagging", "bucket")),
    ("GetBucketPolicyStatus", ("s3:GetBucketPolicyStatus", "bucket")),
    ("DeletePublicAccessBlock", ("s3:PutBucketPublicAccessBlock", "bucket")),
    ("DeleteBucketOwnershipControls", ("s3:PutBucketOwnershipControls", "bucket")),
    ("HeadObject", ("s3:GetObject", "object")),
    ("CreateMultipartUpload", ("s3:PutObject", "object")),
    ("UploadPart", ("s3:PutObject", "object")),
    ("CompleteMultipartUpload", ("s3:PutObject", "object")),
    ("AbortMultipartUpload", ("s3:AbortMultipartUpload", "object")),
    ("ListParts", ("s3:ListMultipartUploadParts", "object")),
    ("GetObjectAttributes", ("s3:GetObjectAttributes", "object")),
])
def test_table(operation: str, expected: tuple[str, str]) -> None:
    assert (BY_NAME[operation].action, BY_NAME[operation].resource) == expected


@pytest.mark.parametrize(("operation", "kwargs", "expected"), [
    ("ListBuckets", {}, [("s3:ListAllMyBuckets", SERVICE_ARN)]),
    ("CreateBucket", {"bucket": "bkt"}, [("s3:CreateBucket", B)]),
    ("CreateBucket", {"bucket": "bkt", "acl": True}, [("s3:CreateBucket", B), ("s3:PutBucketAcl", B)]),
    ("ListObjectsV2", {"bucket": "bkt"}, [("s3:ListBucket", B)]),
    ("GetBucketAcl", {"bucket": "bkt"}, [("s3:GetBucketAcl", B)]),
    ("PutBucketPolicy", {"bucket": "bkt"}, [("s3:PutBucketPolicy", B)]),
    ("GetObject", {"bucket": "bkt", "key": "dir/key.txt"}, [("s3:GetObject", OBJ)]),
    ("GetObject", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "v1"}, [("s3:GetObjectVersion", OBJ)]),
    ("HeadObject", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "null"}, [("s3:GetObjectVersion", OBJ)]),
    ("DeleteObject", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "v1"}, [("s3:DeleteObjectVersion", OBJ)]),
    ("GetObjectTagging", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "v1"},
     [("s3:GetObjectVersionTagging", OBJ)]),
    ("PutObjectAcl", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "v1"}, [("s3:PutObjectVersionAcl", OBJ)]),
    ("UploadPart", {"bucket": "bkt", "key": "dir/key.txt", "version_id": "ignored"}, [("s3:PutObject", OBJ)]),
    ("PutObject", {"bucket": "bkt", "key": "dir/key.txt", "acl": True, "tagging": True},
     [("s3:PutObject", OBJ), ("s3:PutObjectAcl", OBJ), ("s3:PutObjectTagging", OBJ)]),
    ("PostObject", {"bucket": "bkt", "key": "dir/key.txt", "acl": True},
     [("s3:PutObject", OBJ), ("s3:PutObjectAcl", OBJ)]),
    ("CreateMultipartUpload", {"bucket": "bkt", "key": "dir/key.txt", "tagging": True},
     [("s3:PutObject", OBJ), ("s3:PutObjectTagging", OBJ)]),
    ("UploadPart", {"bucket": "bkt", "key": "dir/key.txt", "acl": True, "tagging": True}, [("s3:PutObject", OBJ)]),
    ("CopyObject", {"bucket": "bkt", "key": "dir/key.txt", "copy_source": ("src", "a/b", None)},
     [("s3:PutObject", OBJ), ("s3:GetObject", "arn:aws:s3:::src/a/b")]),
    ("UploadPartCopy", {"bucket": "bkt", "key": "dir/key.txt", "copy_source": ("src", "a/b", "v9")},
     [("s3:PutObject", OBJ), ("s3:GetObjectVersion", "arn:aws:s3:::src/a/b")]),
    ("DeleteObjects", {"bucket": "bkt", "delete_keys": [("a", None), ("b", "v2")]},
     [("s3:DeleteObject", "arn:aws:s3:::bkt/a"), ("s3:DeleteObjectVersion", "arn:aws:s3:::bkt/b")]),
])
def test_required_permissions(operation: str, kwargs: dict[str, object], expected: list[tuple[str, str]]) -> None:
    perms = required_permissions(BY_NAME[operation], **kwargs)  # type: ignore[arg-type]
    assert perms == [Permission(a, r) for a, r in expected]


def test_required_permissions_errors() -> None:
    with pytest.raises(ValueError, match="needs a bucket"):
        required_permissions(BY_NAME["GetObject"])
    with pytest.raises(ValueError, match="needs a key"):
        required_permissions(BY_NAME["GetObject"], "bkt")


@pytest.mark.parametrize(("action", "level"), [
    ("s3:GetObject", "object"), ("S3:GETOBJECT", "object"), ("s3:ListBucket", "bucket"),
    ("s3:ListAllMyBuckets", "service"), ("s3:Nope", None),
])
def test_action_level(action: str, level: str | None) -> None:
    assert action_level(action) == level
