"""Service and bucket operations with boto3."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest

from tests.api.helpers import assert_error, client_error
from tests.conftest import unique_bucket_name
from tests.support import rawhttp
from tests.support.server import NuageServer


def test_create_list_head_delete(s3: Any) -> None:
    name = unique_bucket_name()
    resp = s3.create_bucket(Bucket=name)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["Location"] == f"/{name}"
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert all("CreationDate" in b for b in listed["Buckets"])
    assert listed["Owner"]["ID"]
    assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_head_bucket_reports_region(s3: Any, bucket: str) -> None:
    headers = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-bucket-region"] == "us-east-1"


def test_head_missing_bucket_is_404(s3: Any) -> None:
    assert_error(s3.head_bucket, "404", 404, Bucket=unique_bucket_name())


def test_delete_missing_bucket(s3: Any) -> None:
    assert_error(s3.delete_bucket, "NoSuchBucket", 404, Bucket=unique_bucket_name())


def test_list_objects_missing_bucket(s3: Any) -> None:
    assert_error(s3.list_objects_v2, "NoSuchBucket", 404, Bucket=unique_bucket_name())


def test_delete_non_empty_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.delete_bucket(Bucket=bucket)


def test_delete_bucket_with_only_versions_is_not_empty(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")  # only a delete marker is current now
    assert_error(s3.delete_bucket, "BucketNotEmpty", 409, Bucket=bucket)


def test_get_bucket_location_us_east_1_is_empty(s3: Any, bucket: str) -> None:
    # AWS answers an empty LocationConstraint for us-east-1
    assert s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") is None


def test_create_with_matching_location_constraint_in_other_region(tmp_path: Any) -> None:
    srv = NuageServer(tmp_path / "data", region="eu-west-3").start()
    try:
        c = srv.client()
        name = unique_bucket_name()
        c.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        assert c.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-3"
        assert_error(c.create_bucket, "IllegalLocationConstraintException", 400, Bucket=unique_bucket_name(),
                     CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    finally:
        assert srv.stop() == 0


def test_create_with_foreign_location_constraint(s3: Any) -> None:
    assert_error(s3.create_bucket, "IllegalLocationConstraintException", 400, Bucket=unique_bucket_name(),
                 CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})


def test_create_with_malformed_configuration(server: NuageServer) -> None:
    reply = rawhttp.request(server, "PUT", f"/{unique_bucket_name()}", body=b"<CreateBucketConfiguration><Loc")
    assert (reply.status, reply.code) == (400, "MalformedXML")


@pytest.mark.parametrize("name", [
    "ab",                        # too short
    "a" * 64,                    # too long
    "UpperCase",                 # capitals
    "under_score",
    "-leading-dash",
    "trailing-dash-",
    "double..dots",
    "dot.-dash",
    "192.168.5.4",               # IP address form
    "xn--prefixed",              # reserved prefix
    "bucket-s3alias",            # reserved suffix
    "bucket--ol-s3",             # reserved suffix
])
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    assert_error(s3.create_bucket, "InvalidBucketName", 400, Bucket=name)


@pytest.mark.parametrize("name", ["abc", "a" * 63, "with.dots.ok", "d1g1ts-and-dash", "9starts-with-digit"])
def test_valid_bucket_names(s3: Any, name: str) -> None:
    name = name if len(name) == 63 or name == "abc" else f"{name}-{unique_bucket_name()[2:10]}"
    if name in ("abc", "a" * 63):  # shared per server: create-or-own
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)


def test_create_bucket_twice(s3: Any, bucket: str) -> None:
    # us-east-1 keeps S3's legacy answer: re-creating your own bucket is a 200 (other regions: 409
    # BucketAlreadyOwnedByYou); asking for a different ACL than the bucket has is BucketAlreadyExists.
    s3.put_object(Bucket=bucket, Key="kept", Body=b"x")
    resp = s3.create_bucket(Bucket=bucket)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"x"
    err = client_error(s3.create_bucket, Bucket=bucket, ACL="public-read")
    assert (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "BucketAlreadyExists", 409)


def test_versioning_configuration(s3: Any, bucket: str) -> None:
    got = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in got
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_versioning_bad_status(s3: Any, bucket: str) -> None:
    assert_error(s3.put_bucket_versioning, "MalformedXML", 400, Bucket=bucket,
                 VersioningConfiguration={"Status": "Sometimes"})


def test_bucket_tagging(s3: Any, bucket: str) -> None:
    assert_error(s3.get_bucket_tagging, "NoSuchTagSet", 404, Bucket=bucket)
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "test"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.get_bucket_tagging, "NoSuchTagSet", 404, Bucket=bucket)


def test_bucket_tagging_duplicate_keys(s3: Any, bucket: str) -> None:
    tags = [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]
    assert_error(s3.put_bucket_tagging, "InvalidTag", 400, Bucket=bucket, Tagging={"TagSet": tags})


def test_trailing_slash_bucket_path(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    reply = rawhttp.request(server, "GET", f"/{bucket}/?list-type=2")
    assert reply.status == 200, reply.body
    assert [c.findtext("Key") for c in reply.xml().iter("Contents")] == ["k"]
    assert rawhttp.request(server, "HEAD", f"/{bucket}/").status == 200


def test_vhost_style_with_domain(tmp_path: Any) -> None:
    srv = NuageServer(tmp_path / "data", extra_args=["--domain", "s3.nuage.test"]).start()
    try:
        c = srv.client()
        name = unique_bucket_name()
        c.create_bucket(Bucket=name)
        c.put_object(Bucket=name, Key="dir/file.txt", Body=b"hello")
        path = "/dir/file.txt"
        host = f"{name}.s3.nuage.test:{srv.port}"
        hdrs = rawhttp.sign(srv, "GET", f"/{name}{path}")  # compute nothing with it: vhost signs differently
        del hdrs
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        from tests.support.server import ACCESS_KEY, SECRET_KEY

        req = AWSRequest(method="GET", url=f"http://{host}{path}",
                         headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", srv.region).add_auth(req)
        conn = rawhttp.connection(srv)
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            for k, v in req.headers.items():
                conn.putheader(k, v)
            conn.putheader("Host", host)
            conn.endheaders()
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"hello")
        finally:
            conn.close()
    finally:
        assert srv.stop() == 0


def test_list_buckets_paginated_prefix_and_region(server: NuageServer) -> None:
    from tests.support.accounts import add_account, client_for

    s3 = client_for(server, add_account(server))
    assert s3.list_buckets(MaxBuckets=1)["Buckets"] == []
    names = sorted(f"pg-{i}-{uuid.uuid4().hex[:8]}" for i in range(3))
    for name in names:
        s3.create_bucket(Bucket=name)
    first = s3.list_buckets(MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    rest = s3.list_buckets(MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in rest["Buckets"]] == names[2:] and "ContinuationToken" not in rest
    assert "ContinuationToken" not in s3.list_buckets(MaxBuckets=3)
    assert [b["Name"] for b in s3.list_buckets(Prefix=names[1])["Buckets"]] == [names[1]]
    assert len(s3.list_buckets(BucketRegion=server.region)["Buckets"]) == 3
    assert s3.list_buckets(BucketRegion="eu-west-3")["Buckets"] == []
    assert_error(s3.list_buckets, "InvalidArgument", 400, MaxBuckets=10001)
    assert_error(s3.list_buckets, "InvalidArgument", 400, ContinuationToken="%%%")
