"""Full ACLs with boto3 against a real server: AccessControlPolicy bodies, x-amz-grant-* headers,
grants enforced for other accounts and anonymous callers, and object ownership controls."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import unique_bucket_name
from tests.support.accounts import Account, add_account, anonymous_client, client_for
from tests.support.server import NuageServer

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


@pytest.fixture(scope="module")
def other(server: NuageServer) -> Account:
    return add_account(server)


def owner_of(s3: Any, bucket: str) -> dict[str, Any]:
    return s3.get_bucket_acl(Bucket=bucket)["Owner"]


def test_put_bucket_acl_body_grants_user_read(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    alt = client_for(server, other)
    with pytest.raises(ClientError):
        alt.list_objects(Bucket=bucket)
    owner = owner_of(s3, bucket)
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "CanonicalUser", "ID": other.canonical_id}, "Permission": "READ"},
    ]})
    alt.list_objects(Bucket=bucket)
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {(g["Grantee"].get("ID"), g["Permission"]) for g in grants} == {
        (owner["ID"], "FULL_CONTROL"), (other.canonical_id, "READ")}
    assert any(g["Grantee"].get("DisplayName") == other.name for g in grants)
    with pytest.raises(ClientError) as exc:   # READ does not give READ_ACP
        alt.get_bucket_acl(Bucket=bucket)
    assert code(exc)[0] == 403
    with pytest.raises(ClientError):          # nor WRITE
        alt.put_object(Bucket=bucket, Key="k", Body=b"x")


def test_read_acp_and_write_acp_grants(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    alt = client_for(server, other)
    s3.put_bucket_acl(Bucket=bucket, GrantReadACP=f'id="{other.canonical_id}"')
    alt.get_bucket_acl(Bucket=bucket)
    with pytest.raises(ClientError):
        alt.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_bucket_acl(Bucket=bucket, GrantWriteACP=f'id="{other.canonical_id}"')
    alt.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert s3.get_bucket_acl(Bucket=bucket)["Grants"][0]["Grantee"]["URI"] == ALL_USERS


def test_group_grant_and_full_control(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    anon = anonymous_client(server)
    with pytest.raises(ClientError):
        anon.get_object(Bucket=bucket, Key="k")
    s3.put_object_acl(Bucket=bucket, Key="k", GrantRead=f'uri="{ALL_USERS}"')
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    alt = client_for(server, other)
    s3.put_bucket_acl(Bucket=bucket, GrantFullControl=f'id="{other.canonical_id}"')
    alt.put_object(Bucket=bucket, Key="alt", Body=b"y")
    alt.get_bucket_acl(Bucket=bucket)


def test_grant_headers_on_put_object(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    s3.put_object(Bucket=bucket, Key="g", Body=b"z", GrantRead=f'id="{other.canonical_id}"',
                  GrantReadACP=f'id="{other.canonical_id}"')
    acl = s3.get_object_acl(Bucket=bucket, Key="g")
    assert sorted(g["Permission"] for g in acl["Grants"]) == ["READ", "READ_ACP"]
    alt = client_for(server, other)
    assert alt.get_object(Bucket=bucket, Key="g")["Body"].read() == b"z"
    alt.get_object_acl(Bucket=bucket, Key="g")
    with pytest.raises(ClientError):
        alt.put_object_acl(Bucket=bucket, Key="g", ACL="private")


def test_create_bucket_with_grant_headers(s3: Any, server: NuageServer, other: Account) -> None:
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, GrantRead=f'id="{other.canonical_id}"')
    client_for(server, other).list_objects(Bucket=name)


def test_invalid_grants(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='id="no-such-user"')
    assert code(exc) == (400, "InvalidArgument")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, GrantRead='emailAddress="a@example.com"')
    assert code(exc) == (400, "UnresolvableGrantByEmailAddress")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"", GrantRead='id="no-such-user"')
    assert code(exc) == (400, "InvalidArgument")
    owner = owner_of(s3, bucket)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "EVERYTHING"}]})
    assert code(exc) == (400, "MalformedACLError")


def test_ownership_controls(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc) == (404, "OwnershipControlsNotFoundError")
    rules = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=rules)
    got = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
    assert got["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, ACL="private")
    assert code(exc) == (400, "AccessControlListNotSupported")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="public-read")
    assert code(exc) == (400, "AccessControlListNotSupported")
    s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="bucket-owner-full-control")
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert code(exc)[0] == 404


def test_enforced_refused_with_public_acl(s3: Any) -> None:
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, ACL="public-read")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    assert code(exc) == (400, "InvalidBucketAclWithObjectOwnership")


def test_enforced_objects_belong_to_bucket_owner(s3: Any, server: NuageServer, other: Account) -> None:
    import json

    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]}]}))
    alt = client_for(server, other)
    alt.put_object(Bucket=name, Key="k", Body=b"x")
    owner = s3.get_object_acl(Bucket=name, Key="k")["Owner"]
    assert owner["ID"] == owner_of(s3, name)["ID"]
    with pytest.raises(ClientError) as exc:
        alt.put_object(Bucket=name, Key="k2", Body=b"x", ACL="private")
    assert code(exc) == (400, "AccessControlListNotSupported")


def test_authenticated_users_grant(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                  GrantRead='uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"')
    assert client_for(server, other).get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    with pytest.raises(ClientError):
        anonymous_client(server).get_object(Bucket=bucket, Key="k")


def test_multipart_upload_with_grants(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", GrantRead=f'id="{other.canonical_id}"')
    part = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"abc")
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert client_for(server, other).get_object(Bucket=bucket, Key="m")["Body"].read() == b"abc"


def test_both_canned_and_grant_headers_refused(s3: Any, bucket: str, other: Account) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="private", GrantRead=f'id="{other.canonical_id}"')
    assert code(exc) == (400, "InvalidRequest")


def test_unquoted_grantee_accepted(s3: Any, server: NuageServer, bucket: str, other: Account) -> None:
    def add(request: Any, **_: Any) -> None:
        request.headers["x-amz-grant-read"] = f"id={other.canonical_id}"

    s3.meta.events.register("before-sign.s3.PutObject", add)
    s3.put_object(Bucket=bucket, Key="u", Body=b"q")
    s3.meta.events.unregister("before-sign.s3.PutObject", add)
    grants = s3.get_object_acl(Bucket=bucket, Key="u")["Grants"]
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [(other.canonical_id, "READ")]


def test_copy_object_keeps_the_requested_canned_acl(s3: Any, server: NuageServer, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"copied")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="dst")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)
    assert anonymous_client(server).get_object(Bucket=bucket, Key="dst")["Body"].read() == b"copied"


def test_uploads_of_another_account_show_its_display_name(s3: Any, server: NuageServer, bucket: str,
                                                          other: Account) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    theirs = client_for(server, other)
    uid = theirs.create_multipart_upload(Bucket=bucket, Key="theirs")["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["UploadId"], u["Initiator"]["DisplayName"]) for u in uploads] == [(uid, other.name)]
    parts = theirs.list_parts(Bucket=bucket, Key="theirs", UploadId=uid)
    assert parts["Initiator"]["DisplayName"] == other.name
