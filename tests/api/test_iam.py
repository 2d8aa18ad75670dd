"""The IAM query API with boto3's iam client against a real server: users, keys, inline policies,
groups, AWS's errors, and the keys and policies taking effect on S3."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import NuageServer


def err(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def name(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture
def iam(server: NuageServer) -> Any:
    return server.client("iam")


def user_s3(server: NuageServer, iam: Any, user: str) -> Any:
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


def test_user_lifecycle_and_errors(iam: Any) -> None:
    user = name()
    created = iam.create_user(UserName=user)["User"]
    assert created["UserName"] == user and created["Arn"].endswith(f":user/{user}")
    assert iam.get_user(UserName=user)["User"]["UserId"] == created["UserId"]
    assert user in [u["UserName"] for u in iam.list_users()["Users"]]
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=user)
    assert err(exc) == (409, "EntityAlreadyExists")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=name("missing"))
    assert err(exc) == (404, "NoSuchEntity")
    key = iam.create_access_key(UserName=user)["AccessKey"]
    assert key["Status"] == "Active" and len(key["SecretAccessKey"]) == 40
    iam.create_access_key(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=user)
    assert err(exc)[1] == "LimitExceeded"
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert key["AccessKeyId"] in [k["AccessKeyId"] for k in listed] and "SecretAccessKey" not in listed[0]
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert err(exc) == (409, "DeleteConflict")
    for k in listed:
        iam.delete_access_key(UserName=user, AccessKeyId=k["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    assert err(exc) == (404, "NoSuchEntity")
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=user)
    assert err(exc) == (404, "NoSuchEntity")


def test_get_user_of_root(iam: Any) -> None:
    assert iam.get_user()["User"]["Arn"].endswith(":root")


def test_user_policies(iam: Any) -> None:
    user = name()
    iam.create_user(UserName=user)
    doc = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=doc)
    got = iam.get_user_policy(UserName=user, PolicyName="read")
    assert got["PolicyDocument"] == json.loads(doc) and got["PolicyName"] == "read"
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["read"]
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=user, PolicyName="bad", PolicyDocument="{not json")
    assert err(exc) == (400, "MalformedPolicyDocument")
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}))
    assert err(exc) == (400, "MalformedPolicyDocument")
    with pytest.raises(ClientError) as exc:
        iam.get_user_policy(UserName=user, PolicyName="nope")
    assert err(exc) == (404, "NoSuchEntity")
    iam.delete_user_policy(UserName=user, PolicyName="read")
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_inline_policy_grants_s3_access(server: NuageServer, iam: Any, s3: Any, bucket: str) -> None:
    user = name()
    iam.create_user(UserName=user)
    client = user_s3(server, iam, user)
    s3.put_object(Bucket=bucket, Key="reports/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="secret/b", Body=b"b")
    with pytest.raises(ClientError) as exc:
        client.get_object(Bucket=bucket, Key="reports/a")
    assert err(exc) == (403, "AccessDenied")
    iam.put_user_policy(UserName=user, PolicyName="reports", PolicyDocument=policy(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/reports/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": "reports/*"}}}))
    assert client.get_object(Bucket=bucket, Key="reports/a")["Body"].read() == b"a"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix="reports/")["Contents"]] == ["reports/a"]
    for call in (lambda: client.get_object(Bucket=bucket, Key="secret/b"),
                 lambda: client.list_objects_v2(Bucket=bucket),
                 lambda: client.put_object(Bucket=bucket, Key="reports/new", Body=b"x"),
                 lambda: client.delete_object(Bucket=bucket, Key="reports/a"),
                 lambda: client.create_bucket(Bucket=name("b"))):
        with pytest.raises(ClientError) as exc:
            call()
        assert err(exc) == (403, "AccessDenied")


def test_groups_and_group_policies(server: NuageServer, iam: Any, s3: Any, bucket: str) -> None:
    user, group = name(), name("g")
    iam.create_user(UserName=user)
    created = iam.create_group(GroupName=group)["Group"]
    assert created["GroupName"] == group
    with pytest.raises(ClientError) as exc:
        iam.create_group(GroupName=group)
    assert err(exc) == (409, "EntityAlreadyExists")
    with pytest.raises(ClientError) as exc:
        iam.add_user_to_group(GroupName=group, UserName=name("nobody"))
    assert err(exc) == (404, "NoSuchEntity")
    iam.add_user_to_group(GroupName=group, UserName=user)
    doc = policy({"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    iam.put_group_policy(GroupName=group, PolicyName="writers", PolicyDocument=doc)
    assert iam.get_group_policy(GroupName=group, PolicyName="writers")["PolicyDocument"] == json.loads(doc)
    client = user_s3(server, iam, user)
    client.put_object(Bucket=bucket, Key="from-group", Body=b"g")
    iam.delete_group_policy(GroupName=group, PolicyName="writers")
    with pytest.raises(ClientError) as exc:
        client.put_object(Bucket=bucket, Key="from-group", Body=b"g")
    assert err(exc) == (403, "AccessDenied")


def test_inactive_key_stops_working(server: NuageServer, iam: Any) -> None:
    user = name()
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    client = server.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    client.list_buckets()
    iam.update_access_key(UserName=user, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    with pytest.raises(ClientError) as exc:
        client.list_buckets()
    assert err(exc) == (403, "InvalidAccessKeyId")


def test_user_without_iam_permission_is_refused(server: NuageServer, iam: Any) -> None:
    user = name()
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    their_iam = server.client("iam", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as exc:
        their_iam.create_user(UserName=name())
    assert err(exc) == (403, "AccessDenied")
    with pytest.raises(ClientError) as exc:
        their_iam.list_users()
    assert err(exc) == (403, "AccessDenied")


def test_bad_signature_and_unknown_key(server: NuageServer) -> None:
    bad = server.client("iam", secret_key="x" * 40)
    with pytest.raises(ClientError) as exc:
        bad.list_users()
    assert err(exc) == (403, "SignatureDoesNotMatch")
    unknown = server.client("iam", access_key="AKIAUNKNOWNUNKNOWN00")
    with pytest.raises(ClientError) as exc:
        unknown.list_users()
    assert err(exc) == (403, "InvalidClientTokenId")
