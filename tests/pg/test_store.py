"""One gateway on PostgreSQL (`nuage serve --db postgresql://...`) with real clients: buckets, objects,
versioning, listings with delimiters, multipart, conditional writes, IAM users and keys, quotas, object
lock, bucket configuration, and what the database holds afterwards."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import psycopg
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from nuage.cli.admin import AdminClient
from nuage.storage.meta.postgres.db import migration_files
from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def s3(pg_server: NuageServer) -> Any:
    return pg_server.client()


@pytest.fixture
def bucket(s3: Any) -> str:
    name = unique_bucket_name("pg")
    s3.create_bucket(Bucket=name)
    return name


def test_metadata_lives_in_postgresql(pg_server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"in postgres")
    assert pg_server.db is not None
    with psycopg.connect(pg_server.db) as conn:
        row = conn.execute("SELECT size, etag FROM objects WHERE bucket=%s AND key='k' AND is_latest=1",
                           (bucket,)).fetchone()
        versions = {r[0] for r in conn.execute("SELECT version FROM schema_version")}
    assert row is not None and row[0] == len(b"in postgres")
    assert versions == {number for number, _, _ in migration_files()}
    assert not (pg_server.data_dir / "meta.sqlite3").exists()


def test_buckets_and_objects(s3: Any, bucket: str) -> None:
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    small, large = b"tiny", bytes(range(256)) * 1000   # kept in the row / in a file
    s3.put_object(Bucket=bucket, Key="small", Body=small, Metadata={"colour": "blue"}, ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="large", Body=large)
    got = s3.get_object(Bucket=bucket, Key="small")
    assert got["Body"].read() == small and got["Metadata"] == {"colour": "blue"}
    assert got["ContentType"] == "text/plain"
    assert s3.get_object(Bucket=bucket, Key="large", Range="bytes=1000-1999")["Body"].read() == large[1000:2000]
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "large"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == large
    s3.put_object_tagging(Bucket=bucket, Key="small", Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="small")["TagSet"] == [{"Key": "t", "Value": "v"}]
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert _code(exc) == ("BucketNotEmpty", 409)
    for key in ("small", "large", "copy"):
        s3.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="small")
    assert _code(exc) == ("NoSuchKey", 404)
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=bucket)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_listing_with_delimiters_in_byte_order(s3: Any, bucket: str) -> None:
    keys = ["a/1", "a/2", "a/b/3", "b", "c/x", "é", "z", "Z", "a-", "\U0001f600"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == sorted(["b", "é", "z", "Z", "a-", "\U0001f600"],
                                                          key=lambda k: k.encode())
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "c/"]
    page = s3.list_objects_v2(Bucket=bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/b/"]
    seen, token = [], None
    while True:
        kwargs = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, MaxKeys=3, **kwargs)
        seen += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == sorted(keys, key=lambda k: k.encode())


def test_versioning(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2
    marker = s3.delete_object(Bucket=bucket, Key="k")
    assert marker["DeleteMarker"] is True
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")
    assert _code(exc) == ("NoSuchKey", 404)
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    listed = s3.list_object_versions(Bucket=bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker["VersionId"]]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=marker["VersionId"])   # the latest is v2 again
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"


def test_multipart(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    part1, part2 = b"a" * (5 * 1024 * 1024), b"b\x00c" * 10
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=part1)["ETag"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"replaced")
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)["Parts"]] == [1, 2]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == part1 + part2
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket=bucket, Key="gone", UploadId=aborted)
    assert _code(exc) == ("NoSuchUpload", 404)


def test_conditional_writes(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"first", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfNoneMatch="*")
    assert _code(exc) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert _code(exc) == ("PreconditionFailed", 412)
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=etag)
    assert _code(exc) == ("NoSuchKey", 404)


def test_iam_users_keys_and_policies(pg_server: NuageServer, s3: Any, bucket: str) -> None:
    iam = pg_server.client("iam")
    user = f"u{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=user.upper())   # IAM names are unique regardless of case
    assert exc.value.response["Error"]["Code"] == "EntityAlreadyExists"
    key = iam.create_access_key(UserName=user)["AccessKey"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    as_user = boto3.client("s3", endpoint_url=pg_server.endpoint, aws_access_key_id=key["AccessKeyId"],
                           aws_secret_access_key=key["SecretAccessKey"], region_name=pg_server.region, config=cfg)
    pg_server.clients.append(as_user)
    with pytest.raises(ClientError) as exc:
        as_user.get_object(Bucket=bucket, Key="k")
    assert _code(exc) == ("AccessDenied", 403)
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert as_user.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    assert user in [u["UserName"] for u in iam.list_users()["Users"]]


def test_quotas(pg_server: NuageServer, s3: Any, bucket: str) -> None:
    admin = AdminClient(pg_server.endpoint, ACCESS_KEY, SECRET_KEY)
    admin.call("PUT", "/admin/quotas", {"bucket": bucket, "max_objects": 2, "max_bytes": None})
    s3.put_object(Bucket=bucket, Key="a", Body=b"1")
    s3.put_object(Bucket=bucket, Key="b", Body=b"2")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="c", Body=b"3")
    assert _code(exc) == ("QuotaExceeded", 403)
    s3.put_object(Bucket=bucket, Key="a", Body=b"overwrite")   # net change: 0 objects
    s3.delete_object(Bucket=bucket, Key="b")
    s3.put_object(Bucket=bucket, Key="c", Body=b"3")


def test_object_lock(s3: Any) -> None:
    name = unique_bucket_name("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    version = s3.put_object(Bucket=name, Key="k", Body=b"kept")["VersionId"]
    s3.put_object_legal_hold(Bucket=name, Key="k", VersionId=version, LegalHold={"Status": "ON"})
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=name, Key="k", VersionId=version)
    assert _code(exc) == ("AccessDenied", 403)
    s3.put_object_legal_hold(Bucket=name, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=name, Key="k", VersionId=version)


def test_bucket_configuration(s3: Any, bucket: str) -> None:
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "a"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "a"}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["https://example.com"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert _code(exc) == ("NoSuchCORSConfiguration", 404)
