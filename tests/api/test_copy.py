"""CopyObject: metadata directives, conditionals on the source, copies onto themselves."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.helpers import assert_error


def test_copy_keeps_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/x-src", Metadata={"a": "1"},
                  CacheControl="max-age=5")
    resp = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    src_etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    assert resp["CopyObjectResult"]["ETag"] == src_etag
    assert "LastModified" in resp["CopyObjectResult"]
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"payload"
    assert got["ContentType"] == "text/x-src"
    assert got["Metadata"] == {"a": "1"}
    assert got["CacheControl"] == "max-age=5"


def test_copy_replace_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/x-src", Metadata={"a": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE",
                   ContentType="text/x-new", Metadata={"b": "2"})
    got = s3.head_object(Bucket=bucket, Key="dst")
    assert got["ContentType"] == "text/x-new"
    assert got["Metadata"] == {"b": "2"}


def test_copy_across_buckets(s3: Any, bucket: str) -> None:
    other = bucket + "-other"
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=bucket, Key="src", Body=b"x" * 100)
    s3.copy_object(Bucket=other, Key="a/b", CopySource=f"{bucket}/src")
    assert s3.get_object(Bucket=other, Key="a/b")["Body"].read() == b"x" * 100


def test_copy_special_key(s3: Any, bucket: str) -> None:
    key = "dir/ü + space?&.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"z")
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == b"z"


def test_copy_onto_itself_requires_replace(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="self", Body=b"x", Metadata={"a": "1"})
    assert_error(s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key="self",
                 CopySource={"Bucket": bucket, "Key": "self"})
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"a": "2"})
    got = s3.get_object(Bucket=bucket, Key="self")
    assert got["Metadata"] == {"a": "2"}
    assert got["Body"].read() == b"x"


def test_copy_missing_source(s3: Any, bucket: str) -> None:
    assert_error(s3.copy_object, "NoSuchKey", 404, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "nothing"})


def test_copy_missing_source_bucket(s3: Any, bucket: str) -> None:
    assert_error(s3.copy_object, "NoSuchBucket", 404, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": "no-such-source-bucket-1", "Key": "x"})


def test_copy_invalid_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    assert_error(s3.copy_object, "InvalidArgument", 400, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="MERGE")


def test_copy_source_conditionals(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="src")
    etag, modified = head["ETag"], head["LastModified"]
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="d1", CopySource=src, CopySourceIfMatch=etag)
    assert_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="d2", CopySource=src,
                 CopySourceIfMatch='"nope"')
    assert_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="d3", CopySource=src,
                 CopySourceIfNoneMatch=etag)
    s3.copy_object(Bucket=bucket, Key="d4", CopySource=src, CopySourceIfNoneMatch='"other"')
    assert_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="d5", CopySource=src,
                 CopySourceIfUnmodifiedSince=modified - timedelta(days=1))
    assert_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="d6", CopySource=src,
                 CopySourceIfModifiedSince=modified)
    s3.copy_object(Bucket=bucket, Key="d7", CopySource=src, CopySourceIfModifiedSince=modified - timedelta(days=1))
    # If-Match true and If-Unmodified-Since false: AWS copies
    s3.copy_object(Bucket=bucket, Key="d8", CopySource=src, CopySourceIfMatch=etag,
                   CopySourceIfUnmodifiedSince=modified - timedelta(days=1))
    # If-None-Match false and If-Modified-Since true: AWS answers 412
    assert_error(s3.copy_object, "PreconditionFailed", 412, Bucket=bucket, Key="d9", CopySource=src,
                 CopySourceIfNoneMatch=etag, CopySourceIfModifiedSince=modified - timedelta(days=1))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["d1", "d4", "d7", "d8", "src"]


def test_copy_multipart_source_keeps_bytes(s3: Any, bucket: str) -> None:
    part = b"m" * (5 * 1024 * 1024)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=part)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=b"end")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    s3.copy_object(Bucket=bucket, Key="mp-copy", CopySource={"Bucket": bucket, "Key": "mp"})
    assert s3.get_object(Bucket=bucket, Key="mp-copy")["Body"].read() == part + b"end"


def test_copy_tagging_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    s3.copy_object(Bucket=bucket, Key="same", CopySource={"Bucket": bucket, "Key": "src"})
    assert s3.get_object_tagging(Bucket=bucket, Key="same")["TagSet"] == [{"Key": "a", "Value": "1"}]
    s3.copy_object(Bucket=bucket, Key="new", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE", Tagging="b=2")
    assert s3.get_object_tagging(Bucket=bucket, Key="new")["TagSet"] == [{"Key": "b", "Value": "2"}]
