"""Bucket policies with boto3 against a real server: Put/Get/Delete, validation, PolicyStatus, and
enforcement for other accounts, anonymous callers and the owner (explicit deny)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import Account, add_account, anonymous_client, client_for
from tests.support.server import NuageServer


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str], principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str], principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource, **extra}


@pytest.fixture(scope="module")
def other(server: NuageServer) -> Account:
    return add_account(server)


@pytest.fixture
def alt(server: NuageServer, other: Account) -> Any:
    return client_for(server, other)


@pytest.fixture
def anon(server: NuageServer) -> Any:
    return anonymous_client(server)


def test_put_get_delete_round_trip(s3: Any, bucket: str) -> None:
    text = doc(allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(exc) == (404, "NoSuchBucketPolicy")
    s3.delete_bucket_policy(Bucket=bucket)  # deleting nothing is fine


@pytest.mark.parametrize("text, reason", [
    ("not json", "invalid Json"),
    (json.dumps({"Version": "2012-10-17"}), "Statement"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*",
                                                         "Action": "s3:GetObject", "Resource": "*"}]}), "effect"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                         "Action": "s3:GetObject",
                                                         "Resource": "arn:aws:s3:::someone-else/*"}]}), "Resource"),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "1"},
                                                         "Action": "s3:ListBucket", "Resource": "*"}]}),
     "principal"),
])
def test_malformed_policy(s3: Any, bucket: str, text: str, reason: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert code(exc) == (400, "MalformedPolicy")
    assert reason.lower() in exc.value.response["Error"]["Message"].lower()


def test_policy_on_missing_bucket(s3: Any) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket="no-such-bucket-policy-test")
    assert code(exc) == (404, "NoSuchBucket")


def test_policy_status(s3: Any, bucket: str) -> None:
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                                                         Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}})))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                                                         principal={"AWS": "arn:aws:iam::123456789012:root"})))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_other_account_and_anonymous_need_a_grant(s3: Any, alt: Any, anon: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="private/b", Body=b"b")
    for client in (alt, anon):
        with pytest.raises(ClientError) as exc:
            client.get_object(Bucket=bucket, Key="public/a")
        assert code(exc)[0] == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/public/*")))
    for client in (alt, anon):
        assert client.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"a"
        with pytest.raises(ClientError) as exc:
            client.get_object(Bucket=bucket, Key="private/b")
        assert code(exc) == (403, "AccessDenied")
        with pytest.raises(ClientError) as exc:
            client.list_objects_v2(Bucket=bucket)
        assert code(exc) == (403, "AccessDenied")
        with pytest.raises(ClientError) as exc:
            client.put_object(Bucket=bucket, Key="public/new", Body=b"x")
        assert code(exc) == (403, "AccessDenied")


def test_principal_naming_one_account(server: NuageServer, s3: Any, bucket: str) -> None:
    first, second = add_account(server), add_account(server)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                                                         principal={"CanonicalUser": first.canonical_id})))
    assert client_for(server, first).get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as exc:
        client_for(server, second).get_object(Bucket=bucket, Key="k")
    assert code(exc) == (403, "AccessDenied")


def test_explicit_deny_applies_to_owner_except_policy_actions(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        deny("s3:PutObject", f"arn:aws:s3:::{bucket}/*", Condition={"Null": {"s3:x-amz-server-side-encryption":
                                                                              "true"}}),
        deny(["s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy"], f"arn:aws:s3:::{bucket}"),
    ))
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert code(exc) == (403, "AccessDenied")
    s3.put_object(Bucket=bucket, Key="enc", Body=b"x", ServerSideEncryption="AES256")
    s3.get_bucket_policy(Bucket=bucket)  # the owner cannot lock itself out of its policy
    s3.delete_bucket_policy(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")


def test_conditions_on_prefix_and_tags(s3: Any, alt: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="home/a", Body=b"a", Tagging="security=public")
    s3.put_object(Bucket=bucket, Key="home/b", Body=b"b", Tagging="security=private")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", Condition={"StringLike": {"s3:prefix": "home/*"}}),
        allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
              Condition={"StringEquals": {"s3:ExistingObjectTag/security": "public"}}),
    ))
    assert [o["Key"] for o in alt.list_objects_v2(Bucket=bucket, Prefix="home/")["Contents"]] == ["home/a", "home/b"]
    with pytest.raises(ClientError) as exc:
        alt.list_objects_v2(Bucket=bucket)
    assert code(exc) == (403, "AccessDenied")
    assert alt.get_object(Bucket=bucket, Key="home/a")["Body"].read() == b"a"
    with pytest.raises(ClientError) as exc:
        alt.get_object(Bucket=bucket, Key="home/b")
    assert code(exc) == (403, "AccessDenied")
    # a missing key: those who may list it learn that it is missing, others are refused
    with pytest.raises(ClientError) as exc:
        alt.head_object(Bucket=bucket, Key="home/missing")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        alt.head_object(Bucket=bucket, Key="elsewhere/missing")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_uploader_of_another_account_owns_its_object(s3: Any, alt: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")))
    alt.put_object(Bucket=bucket, Key="theirs", Body=b"t")
    assert alt.get_object(Bucket=bucket, Key="theirs")["Body"].read() == b"t"
    with pytest.raises(ClientError) as exc:
        alt.put_object(Bucket=bucket, Key="public", Body=b"t", ACL="public-read")  # needs s3:PutObjectAcl
    assert code(exc) == (403, "AccessDenied")


def test_copy_needs_read_on_the_source(s3: Any, alt: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="public/src", Body=b"p")
    s3.put_object(Bucket=bucket, Key="private/src", Body=b"q")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/public/*")))
    target = bucket + "-alt"
    alt.create_bucket(Bucket=target)
    alt.copy_object(Bucket=target, Key="copy", CopySource={"Bucket": bucket, "Key": "public/src"})
    assert alt.get_object(Bucket=target, Key="copy")["Body"].read() == b"p"
    with pytest.raises(ClientError) as exc:
        alt.copy_object(Bucket=target, Key="copy2", CopySource={"Bucket": bucket, "Key": "private/src"})
    assert code(exc) == (403, "AccessDenied")


def test_source_ip_is_the_peer_address_not_x_forwarded_for(server: NuageServer, s3: Any, bucket: str) -> None:
    """A client cannot claim another address with X-Forwarded-For to pass an aws:SourceIp condition."""
    import urllib.error
    import urllib.request

    s3.put_object(Bucket=bucket, Key="ip", Body=b"only from 10.0.0.0/24")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                                                         Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}})))
    request = urllib.request.Request(f"{server.endpoint}/{bucket}/ip", headers={"X-Forwarded-For": "10.0.0.7"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=10)
    exc.value.close()
    assert exc.value.code == 403
