"""Versioning: version ids, delete markers, addressing by versionId, and `null` version semantics."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import assert_error, client_error
from tests.support import rawhttp
from tests.support.server import NuageServer


@pytest.fixture
def vbucket(s3: Any, bucket: str) -> str:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def test_versions_are_kept(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    assert v1 and v2 and v1 != v2 and "null" not in (v1, v2)
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"two"
    got = s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert got["Body"].read() == b"one"
    assert got["VersionId"] == v1
    assert s3.head_object(Bucket=vbucket, Key="k", VersionId=v1)["ContentLength"] == 3
    assert s3.head_object(Bucket=vbucket, Key="k")["VersionId"] == v2


def test_delete_creates_marker(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    deleted = s3.delete_object(Bucket=vbucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    assert marker and marker != v1

    err = assert_error(s3.get_object, "NoSuchKey", 404, Bucket=vbucket, Key="k")
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert headers["x-amz-version-id"] == marker
    err = client_error(s3.head_object, Bucket=vbucket, Key="k")
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert err.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"

    # addressing the marker itself: 405 MethodNotAllowed with the marker headers
    err = assert_error(s3.get_object, "MethodNotAllowed", 405, Bucket=vbucket, Key="k", VersionId=marker)
    headers = err.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-delete-marker"] == "true"
    assert "last-modified" in headers
    err = client_error(s3.head_object, Bucket=vbucket, Key="k", VersionId=marker)
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 405

    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.list_objects_v2(Bucket=vbucket)["KeyCount"] == 0

    # removing the marker brings the object back
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=marker)
    assert resp["DeleteMarker"] is True and resp["VersionId"] == marker
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"


def test_delete_specific_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    resp = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert resp["VersionId"] == v2
    assert "DeleteMarker" not in resp
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert "Versions" not in s3.list_object_versions(Bucket=vbucket)
    assert_error(s3.get_object, "NoSuchKey", 404, Bucket=vbucket, Key="k")


def test_get_missing_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    s3.delete_object(Bucket=vbucket, Key="k", VersionId=v1)
    assert_error(s3.get_object, "NoSuchVersion", 404, Bucket=vbucket, Key="k", VersionId=v1)


def test_delete_objects_with_versions(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"1")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="b", Body=b"2")
    resp = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}]})
    by_key = {d["Key"]: d for d in resp["Deleted"]}
    assert by_key["a"]["VersionId"] == v1
    assert by_key["b"]["DeleteMarker"] is True and by_key["b"]["DeleteMarkerVersionId"]


def test_suspended_writes_null_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    r2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")
    assert r2.get("VersionId", "null") == "null"
    s3.put_object(Bucket=vbucket, Key="k", Body=b"three")  # replaces the null version
    versions = s3.list_object_versions(Bucket=vbucket)["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", True), (v1, False)]
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"three"
    # a delete while suspended puts a null delete marker in place of the null version
    resp = s3.delete_object(Bucket=vbucket, Key="k")
    assert resp["DeleteMarker"] is True and resp["VersionId"] == "null"
    listing = s3.list_object_versions(Bucket=vbucket)
    assert [v["VersionId"] for v in listing["Versions"]] == [v1]
    assert [(m["VersionId"], m["IsLatest"]) for m in listing["DeleteMarkers"]] == [("null", True)]


def test_objects_before_versioning_are_null(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v = s3.put_object(Bucket=bucket, Key="k", Body=b"new")["VersionId"]
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v_["VersionId"] for v_ in versions] == [v, "null"]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"old"
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert [v_["VersionId"] for v_ in s3.list_object_versions(Bucket=bucket)["Versions"]] == [v]


def test_unversioned_null_semantics(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    assert "VersionId" not in put
    head = s3.head_object(Bucket=bucket, Key="k", VersionId="null")  # rclone does this
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ContentLength"] == 3
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"abc"
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket)["Versions"]] == ["null"]
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert_error(s3.get_object, "NoSuchKey", 404, Bucket=bucket, Key="k")


def test_unversioned_responses_have_no_version_header(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    reply = rawhttp.request(server, "GET", rawhttp.key_path(bucket, "k"))
    assert reply.header("x-amz-version-id") is None


def test_cannot_disable_versioning(s3: Any, vbucket: str) -> None:
    assert_error(s3.put_bucket_versioning, "MalformedXML", 400, Bucket=vbucket,
                 VersioningConfiguration={"Status": "Disabled"})


def test_copy_specific_version(s3: Any, vbucket: str) -> None:
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="k", Body=b"two")
    resp = s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "k", "VersionId": v1})
    assert resp["CopySourceVersionId"] == v1
    assert resp["VersionId"]
    assert s3.get_object(Bucket=vbucket, Key="copy")["Body"].read() == b"one"
