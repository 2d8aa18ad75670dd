"""Authorization of what a request only names indirectly: the version of a copy source
(x-amz-copy-source), each key of DeleteObjects, and the Object Lock governance bypass; and an unknown
checksum algorithm on the writes that take one. IAM users and other accounts against a real server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.accounts import Account, add_account, client_for
from tests.support.server import NuageServer

FAR = datetime(2090, 1, 1, tzinfo=UTC)
TWO_VERSION_IDS = "versionId=bogus&versionId=null"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def stmt(effect: str, action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource, **extra}


def new_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class User:
    """An IAM user of the server's default account, with one inline policy and its own key."""

    def __init__(self, server: NuageServer, policy: str) -> None:
        iam = server.client("iam")
        self.name = new_name("u")
        iam.create_user(UserName=self.name)
        iam.put_user_policy(UserName=self.name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=self.name)["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        self.s3 = server.client(access_key=self.access_key, secret_key=self.secret_key)

    def raw(self, server: NuageServer, method: str, path: str, headers: dict[str, str]) -> rawhttp.Reply:
        return rawhttp.request(server, method, path, headers=headers, access_key=self.access_key,
                               secret_key=self.secret_key)


def _exists(s3: Any, bucket: str, key: str, version: str | None = None) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key, **({"VersionId": version} if version else {}))
    except s3.exceptions.ClientError as exc:
        assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404, exc.response
        return False
    return True


def _copy(server: NuageServer, target: str, key: str, source: str, *, upload: str | None = None,
          keys: tuple[str, str] | None = None) -> rawhttp.Reply:
    """CopyObject, or UploadPartCopy into ``upload``, with ``source`` as the raw x-amz-copy-source."""
    query = f"partNumber=1&uploadId={upload}" if upload else ""
    access = {"access_key": keys[0], "secret_key": keys[1]} if keys else {}
    return rawhttp.request(server, "PUT", rawhttp.key_path(target, key, query),
                           headers={"x-amz-copy-source": source}, **access)


def _upload_for(client: Any, operation: str, bucket: str, key: str) -> str | None:
    """An upload to copy a part into for UploadPartCopy; None for CopyObject."""
    return client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] if operation == "UploadPartCopy" else None


def _assert_nothing_copied(client: Any, bucket: str, key: str, upload: str | None) -> None:
    """No object was written (CopyObject), or no part was added to ``upload`` (UploadPartCopy)."""
    if upload is None:
        assert not _exists(client, bucket, key)
    else:
        assert client.list_parts(Bucket=bucket, Key=key, UploadId=upload).get("Parts", []) == []


# -- copy source: the version authorized is the version copied --------------------------------------------
@pytest.fixture
def list_and_put_user(server: NuageServer, s3: Any, bucket: str) -> tuple[User, str]:
    """A user that may list ``bucket`` and write into it and into a second bucket of the same account (the
    one returned), and may not read any object."""
    s3.put_object(Bucket=bucket, Key="secret", Body=b"top secret")
    dest = new_name("dest")
    s3.create_bucket(Bucket=dest)
    user = User(server, doc(stmt("Allow", "s3:ListBucket", [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{dest}"]),
                            stmt("Allow", "s3:PutObject", [f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::{dest}/*"])))
    return user, dest


@pytest.mark.parametrize("operation", ["CopyObject", "UploadPartCopy"])
@pytest.mark.parametrize("same_bucket", [False, True])
def test_two_version_ids_in_copy_source_are_refused(server: NuageServer, s3: Any, bucket: str, same_bucket: bool,
                                                    list_and_put_user: tuple[User, str], operation: str) -> None:
    user, dest = list_and_put_user
    target = bucket if same_bucket else dest
    upload = _upload_for(s3, operation, target, "stolen")
    keys = (user.access_key, user.secret_key)
    got = _copy(server, target, "stolen", f"/{bucket}/secret?{TWO_VERSION_IDS}", upload=upload, keys=keys)
    assert (got.status, got.code) == (400, "InvalidArgument"), got.body
    # the one version the user could name is refused as a read it may not do
    got = _copy(server, target, "stolen", f"/{bucket}/secret?versionId=null", upload=upload, keys=keys)
    assert (got.status, got.code) == (403, "AccessDenied"), got.body
    _assert_nothing_copied(s3, target, "stolen", upload)


@pytest.mark.parametrize("query", ["versionId=null&versionId=null", "versionId=null&x=1", "partNumber=1"])
def test_copy_source_takes_only_one_version_id(server: NuageServer, s3: Any, bucket: str, query: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    got = _copy(server, bucket, "dst", f"/{bucket}/src?{query}")
    assert (got.status, got.code) == (400, "InvalidArgument"), got.body
    assert not _exists(s3, bucket, "dst")
    # one versionId is what S3 takes
    assert _copy(server, bucket, "dst", f"/{bucket}/src?versionId=null").status == 200
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"x"


@pytest.mark.parametrize("operation", ["CopyObject", "UploadPartCopy"])
def test_same_bucket_copy_authorizes_the_source_version(server: NuageServer, s3: Any, operation: str) -> None:
    """The source version, not the target's current object, decides: here the current one is a delete
    marker (so s3:ListBucket would decide), the old version is readable only with s3:GetObjectVersion."""
    bucket = new_name("v")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="secret", Body=b"old secret")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="secret")
    user = User(server, doc(stmt("Allow", ["s3:ListBucket", "s3:ListBucketVersions"], f"arn:aws:s3:::{bucket}"),
                            stmt("Allow", "s3:PutObject", f"arn:aws:s3:::{bucket}/*")))
    upload = _upload_for(s3, operation, bucket, "secret")
    got = _copy(server, bucket, "secret", f"/{bucket}/secret?versionId={old}", upload=upload,
                keys=(user.access_key, user.secret_key))
    assert (got.status, got.code) == (403, "AccessDenied"), got.body
    _assert_nothing_copied(s3, bucket, "secret", upload)


@pytest.fixture
def victim_bucket(server: NuageServer, s3: Any, bucket: str) -> tuple[str, Account, Any]:
    """A bucket of the default account that lets another account list it (and nothing more)."""
    s3.put_object(Bucket=bucket, Key="secret", Body=b"tenant secret")
    thief = add_account(server)
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(stmt(
        "Allow", "s3:ListBucket", f"arn:aws:s3:::{bucket}", Principal={"CanonicalUser": thief.canonical_id})))
    return bucket, thief, client_for(server, thief)


@pytest.mark.parametrize("operation", ["CopyObject", "UploadPartCopy"])
def test_cross_tenant_copy_with_two_version_ids_is_refused(server: NuageServer, s3: Any, operation: str,
                                                           victim_bucket: tuple[str, Account, Any]) -> None:
    bucket, thief, their_s3 = victim_bucket
    own = new_name("loot")
    their_s3.create_bucket(Bucket=own)
    upload = _upload_for(their_s3, operation, own, "stolen")
    keys = (thief.access_key, thief.secret_key)
    got = _copy(server, own, "stolen", f"/{bucket}/secret?{TWO_VERSION_IDS}", upload=upload, keys=keys)
    assert (got.status, got.code) == (400, "InvalidArgument"), got.body
    got = _copy(server, own, "stolen", f"/{bucket}/secret", upload=upload, keys=keys)
    assert (got.status, got.code) == (403, "AccessDenied"), got.body
    _assert_nothing_copied(their_s3, own, "stolen", upload)


# -- DeleteObjects: every key is authorized ---------------------------------------------------------------
def _delete(client: Any, bucket: str, *entries: tuple[str, str | None], quiet: bool = False,
            **extra: Any) -> dict[str, Any]:
    objects = [{"Key": k, **({"VersionId": v} if v else {})} for k, v in entries]
    result: dict[str, Any] = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": quiet},
                                                   **extra)
    return result


def _errors(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((x["Key"], x["Code"], x["Message"]) for x in result.get("Errors", []))


def test_delete_objects_honours_a_deny_on_a_prefix(server: NuageServer, s3: Any, bucket: str) -> None:
    for key in ("keep/a", "tmp/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    user = User(server, doc(stmt("Allow", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/*"),
                            stmt("Deny", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/keep/*")))
    got = _delete(user.s3, bucket, ("keep/a", None), ("tmp/b", None))
    assert [d["Key"] for d in got["Deleted"]] == ["tmp/b"]
    assert _errors(got) == [("keep/a", "AccessDenied", "Access Denied")]
    assert _exists(s3, bucket, "keep/a") and not _exists(s3, bucket, "tmp/b")


def test_delete_objects_by_an_owner_follows_the_bucket_policy(s3: Any, bucket: str) -> None:
    for key in ("keep/a", "tmp/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(stmt("Deny", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/keep/*",
                                                        Principal="*")))
    got = _delete(s3, bucket, ("keep/a", None), ("tmp/b", None), ("tmp/missing", None))
    assert sorted(d["Key"] for d in got["Deleted"]) == ["tmp/b", "tmp/missing"]
    assert _errors(got) == [("keep/a", "AccessDenied", "Access Denied")]
    assert _exists(s3, bucket, "keep/a")
    s3.delete_bucket_policy(Bucket=bucket)


def test_delete_objects_allowed_on_a_prefix_only(server: NuageServer, s3: Any, bucket: str) -> None:
    for key in ("mine/a", "other/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    user = User(server, doc(stmt("Allow", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/mine/*")))
    got = _delete(user.s3, bucket, ("mine/a", None), ("other/b", None), quiet=True)
    assert "Deleted" not in got
    assert _errors(got) == [("other/b", "AccessDenied", "Access Denied")]
    assert not _exists(s3, bucket, "mine/a") and _exists(s3, bucket, "other/b")
    # none allowed: the request is refused as a whole
    assert_error(user.s3.delete_objects, "AccessDenied", 403, Bucket=bucket,
                 Delete={"Objects": [{"Key": "other/b"}]})


def test_delete_objects_needs_delete_object_version_for_versions(server: NuageServer, s3: Any) -> None:
    bucket = new_name("v")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    user = User(server, doc(stmt("Allow", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/*")))
    got = _delete(user.s3, bucket, ("a", v1), ("b", None))
    assert [(d["Key"], d.get("DeleteMarker")) for d in got["Deleted"]] == [("b", True)]
    assert [(x["Key"], x["VersionId"], x["Code"]) for x in got["Errors"]] == [("a", v1, "AccessDenied")]
    assert _exists(s3, bucket, "a", v1)
    # the single-object form asks for the same permission
    assert_error(user.s3.delete_object, "AccessDenied", 403, Bucket=bucket, Key="a", VersionId=v1)
    # with s3:DeleteObjectVersion, conditioned on s3:VersionId like a single delete
    other = User(server, doc(stmt("Allow", "s3:DeleteObjectVersion", f"arn:aws:s3:::{bucket}/*",
                                  Condition={"StringEquals": {"s3:VersionId": v1}})))
    v2 = s3.put_object(Bucket=bucket, Key="a", Body=b"3")["VersionId"]
    got = _delete(other.s3, bucket, ("a", v1), ("a", v2))
    assert [(d["Key"], d["VersionId"]) for d in got["Deleted"]] == [("a", v1)]
    assert [(x["Key"], x["VersionId"], x["Code"]) for x in got["Errors"]] == [("a", v2, "AccessDenied")]
    assert not _exists(s3, bucket, "a", v1) and _exists(s3, bucket, "a", v2)


# -- Object Lock: the governance bypass needs s3:BypassGovernanceRetention -------------------------------
@pytest.fixture
def lock_bucket(s3: Any) -> str:
    name = new_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _governed(s3: Any, bucket: str, key: str) -> str:
    version: str = s3.put_object(Bucket=bucket, Key=key, Body=b"x", ObjectLockMode="GOVERNANCE",
                                 ObjectLockRetainUntilDate=FAR)["VersionId"]
    return version


def _lock_user(server: NuageServer, bucket: str, bypass: bool) -> User:
    actions = ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:GetObjectRetention",
               "s3:GetObject", "s3:GetObjectVersion"]
    statements = [stmt("Allow", actions, f"arn:aws:s3:::{bucket}/*")]
    if bypass:
        statements.append(stmt("Allow", "s3:BypassGovernanceRetention", f"arn:aws:s3:::{bucket}/*"))
    return User(server, doc(*statements))


def test_bypass_needs_the_permission_for_delete_object(server: NuageServer, s3: Any, lock_bucket: str) -> None:
    v = _governed(s3, lock_bucket, "k")
    user = _lock_user(server, lock_bucket, bypass=False)
    assert_error(user.s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)
    assert _exists(s3, lock_bucket, "k", v)
    allowed = _lock_user(server, lock_bucket, bypass=True)
    allowed.s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert not _exists(s3, lock_bucket, "k", v)


def test_bypass_needs_the_permission_for_delete_objects(server: NuageServer, s3: Any, lock_bucket: str) -> None:
    v = _governed(s3, lock_bucket, "k")
    user = _lock_user(server, lock_bucket, bypass=False)
    got = _delete(user.s3, lock_bucket, ("k", v), BypassGovernanceRetention=True)
    assert [(x["Key"], x["VersionId"], x["Code"]) for x in got["Errors"]] == [("k", v, "AccessDenied")]
    assert "Deleted" not in got
    assert _exists(s3, lock_bucket, "k", v)
    allowed = _lock_user(server, lock_bucket, bypass=True)
    got = _delete(allowed.s3, lock_bucket, ("k", v), BypassGovernanceRetention=True)
    assert [(d["Key"], d["VersionId"]) for d in got["Deleted"]] == [("k", v)]


def test_bypass_needs_the_permission_for_put_object_retention(server: NuageServer, s3: Any,
                                                              lock_bucket: str) -> None:
    v = _governed(s3, lock_bucket, "k")
    sooner = {"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=1)}
    user = _lock_user(server, lock_bucket, bypass=False)
    assert_error(user.s3.put_object_retention, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v,
                 Retention=sooner, BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=lock_bucket, Key="k", VersionId=v)["Retention"]["RetainUntilDate"] == FAR
    # extending needs no bypass, with or without the header
    later = {"Mode": "GOVERNANCE", "RetainUntilDate": datetime(2095, 1, 1, tzinfo=UTC)}
    user.s3.put_object_retention(Bucket=lock_bucket, Key="k", VersionId=v, Retention=later,
                                 BypassGovernanceRetention=True)
    allowed = _lock_user(server, lock_bucket, bypass=True)
    allowed.s3.put_object_retention(Bucket=lock_bucket, Key="k", VersionId=v, Retention=sooner,
                                    BypassGovernanceRetention=True)


def test_bucket_policy_deny_stops_the_owners_bypass(s3: Any, lock_bucket: str) -> None:
    v = _governed(s3, lock_bucket, "k")
    s3.put_bucket_policy(Bucket=lock_bucket, Policy=doc(stmt(
        "Deny", "s3:BypassGovernanceRetention", f"arn:aws:s3:::{lock_bucket}/*", Principal="*")))
    assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)
    got = _delete(s3, lock_bucket, ("k", v), BypassGovernanceRetention=True)
    assert [(x["Key"], x["Code"]) for x in got["Errors"]] == [("k", "AccessDenied")]
    assert _exists(s3, lock_bucket, "k", v)
    # without the deny, the account's root user may bypass
    s3.delete_bucket_policy(Bucket=lock_bucket)
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert not _exists(s3, lock_bucket, "k", v)


# -- an unknown checksum algorithm is a client error --------------------------------------------------------
def test_unknown_checksum_algorithm_is_invalid_request(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    bogus = {"x-amz-checksum-algorithm": "bogus"}
    replies = {
        "CopyObject": rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "dst"),
                                      headers={"x-amz-copy-source": f"/{bucket}/src", **bogus}),
        "PutObject": rawhttp.request(server, "PUT", rawhttp.key_path(bucket, "dst"), headers=bogus, body=b"x"),
        "CreateMultipartUpload": rawhttp.request(server, "POST", rawhttp.key_path(bucket, "dst", "uploads"),
                                                 headers=bogus),
    }
    for operation, got in replies.items():
        assert (operation, got.status, got.code) == (operation, 400, "InvalidRequest"), got.body
        assert b"Checksum algorithm provided is unsupported" in got.body
    assert not _exists(s3, bucket, "dst")
