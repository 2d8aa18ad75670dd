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


def test_empty_signing_region_is_accepted_for_iam(server: NuageServer) -> None:
    # boto3 with region_name="" signs IAM calls with an empty credential-scope region (s3-tests does so)
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.support.server import ACCESS_KEY, SECRET_KEY

    req = AWSRequest("POST", server.endpoint + "/", data=b"Action=GetUser&Version=2010-05-08",
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "iam", "").add_auth(req)
    assert "/20" in req.headers["Authorization"] and "//iam/aws4_request" in req.headers["Authorization"]
    prepared = req.prepare()
    with urllib.request.urlopen(urllib.request.Request(prepared.url, data=prepared.body, method="POST",
                                                       headers=dict(prepared.headers.items()))) as resp:
        body = resp.read()
    assert resp.status == 200 and b":root</Arn>" in body


def test_list_users_paginates_by_path_prefix_case_insensitively(iam: Any) -> None:
    path = f"/{name('p')}/"
    names = [name("aa"), name("Ab"), name("ac"), name("Ad")]
    for n, sub_path in zip(names, ["z/", "y/", "x/", "a/x/"], strict=True):
        iam.create_user(UserName=n, Path=path + sub_path)
    expected = sorted(names, key=str.lower)
    first = iam.list_users(PathPrefix=path)
    assert [u["UserName"] for u in first["Users"]] == expected and first["IsTruncated"] is False
    pages = list(iam.get_paginator("list_users").paginate(PathPrefix=path, PaginationConfig={"PageSize": 1}))
    assert [u["UserName"] for p in pages for u in p["Users"]] == expected and len(pages) == 4
    assert pages[0]["IsTruncated"] is True and pages[0]["Marker"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix=path + "a")["Users"]] == [names[3]]
    assert iam.list_users(PathPrefix=path + "a/x/d")["Users"] == []
    with pytest.raises(ClientError) as exc:
        iam.list_users(PathPrefix=path, MaxItems=1001)
    assert err(exc) == (400, "ValidationError")


def test_list_access_keys_paginates(iam: Any) -> None:
    user = name()
    iam.create_user(UserName=user)
    ids = sorted(iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"] for _ in range(2))
    pages = list(iam.get_paginator("list_access_keys").paginate(UserName=user, PaginationConfig={"PageSize": 1}))
    assert sorted(k["AccessKeyId"] for p in pages for k in p["AccessKeyMetadata"]) == ids and len(pages) == 2


def test_update_user_renames_and_moves_keeping_keys_and_policies(server: NuageServer, iam: Any) -> None:
    user, new = name(), name("renamed")
    uid = iam.create_user(UserName=user, Path="/a/")["User"]["UserId"]
    iam.put_user_policy(UserName=user, PolicyName="list", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    client = user_s3(server, iam, user)
    with pytest.raises(ClientError) as exc:
        iam.update_user(UserName=name("missing"), NewUserName=name())
    assert err(exc) == (404, "NoSuchEntity")
    iam.update_user(UserName=user, NewUserName=new, NewPath="/b/")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=user)
    assert err(exc) == (404, "NoSuchEntity")
    got = iam.get_user(UserName=new)["User"]
    assert got["UserId"] == uid and got["Path"] == "/b/" and got["Arn"].endswith(f":user/b/{new}")
    assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["list"]
    client.list_buckets()   # the key and the policy followed the user
    other = name()
    iam.create_user(UserName=other)
    with pytest.raises(ClientError) as exc:
        iam.update_user(UserName=other, NewUserName=new.upper())
    assert err(exc) == (409, "EntityAlreadyExists")


def test_group_get_list_update_remove_delete(iam: Any) -> None:
    path = f"/{name('gp')}/"
    group, user = name("G"), name()
    created = iam.create_group(GroupName=group, Path=path)["Group"]
    iam.create_user(UserName=user, Path=path)
    assert iam.get_group(GroupName=group.lower())["Group"] == created
    with pytest.raises(ClientError) as exc:
        iam.create_group(GroupName=group.lower())
    assert err(exc) == (409, "EntityAlreadyExists")
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix=path)["Groups"]] == [group]
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [g["GroupId"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [created["GroupId"]]
    new = name("NG")
    iam.update_group(GroupName=group, NewGroupName=new, NewPath=path + "new/")
    got = iam.get_group(GroupName=new)
    assert got["Group"]["GroupId"] == created["GroupId"] and got["Group"]["Arn"].endswith(f":group{path}new/{new}")
    assert [u["UserName"] for u in got["Users"]] == [user]
    iam.put_group_policy(GroupName=new, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))
    assert iam.list_group_policies(GroupName=new)["PolicyNames"] == ["p"]
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName=new)
    assert err(exc) == (409, "DeleteConflict")
    iam.remove_user_from_group(GroupName=new, UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.remove_user_from_group(GroupName=new, UserName=user)
    assert err(exc) == (404, "NoSuchEntity")
    iam.delete_group_policy(GroupName=new, PolicyName="p")
    iam.delete_group(GroupName=new)
    with pytest.raises(ClientError) as exc:
        iam.get_group(GroupName=new)
    assert err(exc) == (404, "NoSuchEntity")
    assert iam.list_groups_for_user(UserName=user)["Groups"] == []


def test_listings_of_entities_nuage_lacks_are_empty(iam: Any) -> None:
    user, group = name(), name("g")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == []
    with pytest.raises(ClientError) as exc:
        iam.list_attached_user_policies(UserName=name("missing"))
    assert err(exc) == (404, "NoSuchEntity")
    assert iam.list_roles()["Roles"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_user_policy_deny_overrides_allow_on_s3(server: NuageServer, iam: Any, s3: Any, bucket: str) -> None:
    user = name()
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    client = user_s3(server, iam, user)
    client.list_objects(Bucket=bucket)
    iam.put_user_policy(UserName=user, PolicyName="deny", PolicyDocument=policy(
        {"Effect": "Deny", "Action": ["s3:ListBucket", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"}))
    for call in (lambda: client.list_objects(Bucket=bucket), client.list_buckets):
        with pytest.raises(ClientError) as exc:
            call()
        assert err(exc) == (403, "AccessDenied")
    iam.delete_user_policy(UserName=user, PolicyName="deny")
    client.list_buckets()
