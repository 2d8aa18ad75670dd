"""Object tagging: Get/Put/DeleteObjectTagging and the x-amz-tagging header."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import assert_error


def test_put_get_delete_object_tagging(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    tags = [{"Key": "colour", "Value": "blue"}, {"Key": "size", "Value": ""}]
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": tags})
    got = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == tags
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    assert s3.delete_object_tagging(Bucket=bucket, Key="t")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_tagging_header_on_put(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    got = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]


def test_tagging_on_multipart(s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="k=v")["UploadId"]
    e = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="mp")["TagSet"] == [{"Key": "k", "Value": "v"}]


def test_tagging_missing_key(s3: Any, bucket: str) -> None:
    assert_error(s3.get_object_tagging, "NoSuchKey", 404, Bucket=bucket, Key="none")
    assert_error(s3.put_object_tagging, "NoSuchKey", 404, Bucket=bucket, Key="none",
                 Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})


def test_too_many_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(11)]
    assert_error(s3.put_object_tagging, "InvalidTag", 400, Bucket=bucket, Key="t", Tagging={"TagSet": tags})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_tag_key_too_long(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    assert_error(s3.put_object_tagging, "InvalidTag", 400, Bucket=bucket, Key="t",
                 Tagging={"TagSet": [{"Key": "k" * 129, "Value": "v"}]})
    assert_error(s3.put_object_tagging, "InvalidTag", 400, Bucket=bucket, Key="t",
                 Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]})


def test_duplicate_tag_keys(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x")
    assert_error(s3.put_object_tagging, "InvalidTag", 400, Bucket=bucket, Key="t",
                 Tagging={"TagSet": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]})


def test_version_tagging(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="t", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="t", Body=b"2")
    resp = s3.put_object_tagging(Bucket=bucket, Key="t", VersionId=v1,
                                 Tagging={"TagSet": [{"Key": "old", "Value": "y"}]})
    assert resp["VersionId"] == v1
    assert s3.get_object_tagging(Bucket=bucket, Key="t", VersionId=v1)["TagSet"] == [{"Key": "old", "Value": "y"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []


def test_tag_set_returned_in_key_order(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="foo=bar&bar")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [
        {"Key": "bar", "Value": ""}, {"Key": "foo", "Value": "bar"}]
