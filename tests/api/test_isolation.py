"""Isolation matrix: every S3 operation on a bucket of one account, tried by another account's root user,
by an anonymous caller and by an IAM user of the owning account without permission — each refused —
and by the owner and a user whose policy allows it — each allowed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import add_account, anonymous_client, client_for
from tests.support.server import NuageServer

Op = Callable[[Any, str], Any]

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]})

OPERATIONS: dict[str, Op] = {
    "ListObjects": lambda c, b: c.list_objects(Bucket=b),
    "ListObjectsV2": lambda c, b: c.list_objects_v2(Bucket=b),
    "ListObjectVersions": lambda c, b: c.list_object_versions(Bucket=b),
    "ListMultipartUploads": lambda c, b: c.list_multipart_uploads(Bucket=b),
    "HeadBucket": lambda c, b: c.head_bucket(Bucket=b),
    "GetBucketLocation": lambda c, b: c.get_bucket_location(Bucket=b),
    "GetBucketVersioning": lambda c, b: c.get_bucket_versioning(Bucket=b),
    "PutBucketVersioning": lambda c, b: c.put_bucket_versioning(
        Bucket=b, VersioningConfiguration={"Status": "Enabled"}),
    "GetBucketAcl": lambda c, b: c.get_bucket_acl(Bucket=b),
    "PutBucketAcl": lambda c, b: c.put_bucket_acl(Bucket=b, ACL="public-read"),
    "GetBucketTagging": lambda c, b: c.get_bucket_tagging(Bucket=b),
    "PutBucketTagging": lambda c, b: c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
    "GetBucketPolicy": lambda c, b: c.get_bucket_policy(Bucket=b),
    "PutBucketPolicy": lambda c, b: c.put_bucket_policy(Bucket=b, Policy=POLICY.replace(":::x/", f":::{b}/")),
    "DeleteBucketPolicy": lambda c, b: c.delete_bucket_policy(Bucket=b),
    "GetBucketPolicyStatus": lambda c, b: c.get_bucket_policy_status(Bucket=b),
    "GetObject": lambda c, b: c.get_object(Bucket=b, Key="obj"),
    "HeadObject": lambda c, b: c.head_object(Bucket=b, Key="obj"),
    "PutObject": lambda c, b: c.put_object(Bucket=b, Key="new", Body=b"x"),
    "CopyObject": lambda c, b: c.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "obj"}),
    "DeleteObject": lambda c, b: c.delete_object(Bucket=b, Key="obj"),
    "DeleteObjects": lambda c, b: c.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "obj"}]}),
    "GetObjectTagging": lambda c, b: c.get_object_tagging(Bucket=b, Key="obj"),
    "PutObjectTagging": lambda c, b: c.put_object_tagging(Bucket=b, Key="obj",
                                                          Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
    "DeleteObjectTagging": lambda c, b: c.delete_object_tagging(Bucket=b, Key="obj"),
    "GetObjectAcl": lambda c, b: c.get_object_acl(Bucket=b, Key="obj"),
    "PutObjectAcl": lambda c, b: c.put_object_acl(Bucket=b, Key="obj", ACL="public-read"),
    "CreateMultipartUpload": lambda c, b: c.create_multipart_upload(Bucket=b, Key="mp"),
    "DeleteBucket": lambda c, b: c.delete_bucket(Bucket=b),
}


@pytest.fixture(scope="module")
def owner_bucket(server: NuageServer) -> str:
    s3 = server.client()
    name = f"iso-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="obj", Body=b"data")
    return name


@pytest.fixture(scope="module")
def callers(server: NuageServer) -> dict[str, Any]:
    iam = server.client("iam")
    user = f"noperm-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return {
        "other-account": client_for(server, add_account(server)),
        "anonymous": anonymous_client(server),
        "user-without-permission": server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"]),
    }


@pytest.mark.parametrize("caller", ["other-account", "anonymous", "user-without-permission"])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_refused(server: NuageServer, callers: dict[str, Any], owner_bucket: str, caller: str,
                 operation: str) -> None:
    client = callers[caller]
    with pytest.raises(ClientError) as exc:
        OPERATIONS[operation](client, owner_bucket)
    status = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 403, exc.value.response
    if operation not in ("HeadBucket", "HeadObject"):
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    # nothing changed
    owner = server.client()
    assert owner.get_object(Bucket=owner_bucket, Key="obj")["Body"].read() == b"data"


def test_list_buckets_shows_only_own(server: NuageServer, owner_bucket: str) -> None:
    other = client_for(server, add_account(server))
    mine = f"mine-{uuid.uuid4().hex[:10]}"
    other.create_bucket(Bucket=mine)
    assert [b["Name"] for b in other.list_buckets()["Buckets"]] == [mine]
    assert mine not in [b["Name"] for b in server.client().list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as exc:
        anonymous_client(server).list_buckets()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_allowed_for_owner(server: NuageServer, operation: str) -> None:
    s3 = server.client()
    name = f"own-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="obj", Body=b"data")
    if operation in ("GetBucketPolicy", "DeleteBucketPolicy"):
        OPERATIONS["PutBucketPolicy"](s3, name)
    if operation == "GetBucketTagging":
        OPERATIONS["PutBucketTagging"](s3, name)
    if operation == "DeleteBucket":
        s3.delete_object(Bucket=name, Key="obj")
    OPERATIONS[operation](s3, name)


@pytest.mark.parametrize("operation", ["GetObject", "HeadObject", "PutObject", "ListObjectsV2", "GetObjectTagging",
                                       "DeleteObject", "GetBucketVersioning"])
def test_allowed_for_user_with_policy(server: NuageServer, operation: str) -> None:
    s3, iam = server.client(), server.client("iam")
    name = f"pol-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="obj", Body=b"data")
    user = f"allowed-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="bucket", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    OPERATIONS[operation](client, name)
    with pytest.raises(ClientError):   # and only there
        client.list_objects_v2(Bucket=f"pol-elsewhere-{uuid.uuid4().hex[:8]}")
