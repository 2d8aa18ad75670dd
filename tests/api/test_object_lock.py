"""S3 Object Lock through boto3 against a real server: bucket configuration, retention, legal hold,
lock headers on writes and reads, and the protection of locked versions."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer

FAR = datetime(2090, 1, 1, tzinfo=UTC)
LATER = datetime(2090, 6, 1, tzinfo=UTC)


def _conf(mode: str = "GOVERNANCE", **period: int) -> dict[str, Any]:
    return {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, **(period or {"Days": 1})}}}


@pytest.fixture
def lock_bucket(s3: Any) -> str:
    name = f"lock-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _md5(body: bytes) -> dict[str, str]:
    return {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}


# -- bucket configuration ----------------------------------------------------------------------------
def test_lock_bucket_is_versioned_and_configuration_round_trips(s3: Any, lock_bucket: str) -> None:
    assert s3.get_bucket_versioning(Bucket=lock_bucket)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"}
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=_conf(Days=3))
    assert s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"] == _conf(Days=3)
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=_conf("COMPLIANCE", Years=2))
    assert s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"] == _conf(
        "COMPLIANCE", Years=2)
    # a configuration without a rule removes the default retention
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert "Rule" not in s3.get_object_lock_configuration(Bucket=lock_bucket)["ObjectLockConfiguration"]


def test_versioning_cannot_be_suspended(s3: Any, lock_bucket: str) -> None:
    assert_error(s3.put_bucket_versioning, "InvalidBucketState", 409, Bucket=lock_bucket,
                 VersioningConfiguration={"Status": "Suspended"})


def test_plain_bucket_has_no_configuration(s3: Any, bucket: str) -> None:
    assert_error(s3.get_object_lock_configuration, "ObjectLockConfigurationNotFoundError", 404, Bucket=bucket)


def test_enabling_on_an_existing_bucket_needs_versioning(s3: Any, bucket: str) -> None:
    assert_error(s3.put_object_lock_configuration, "InvalidBucketState", 409, Bucket=bucket,
                 ObjectLockConfiguration=_conf())
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert_error(s3.put_object_lock_configuration, "InvalidBucketState", 409, Bucket=bucket,
                 ObjectLockConfiguration=_conf())
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=_conf())
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == _conf()
    assert_error(s3.put_bucket_versioning, "InvalidBucketState", 409, Bucket=bucket,
                 VersioningConfiguration={"Status": "Suspended"})


@pytest.mark.parametrize(("conf", "code"), [
    (_conf(Days=1, Years=1), "MalformedXML"),
    (_conf(Days=0), "InvalidRetentionPeriod"),
    (_conf(Years=-1), "InvalidRetentionPeriod"),
    (_conf(Days=36501), "InvalidRetentionPeriod"),
    (_conf("governance"), "MalformedXML"),
    (_conf("abc"), "MalformedXML"),
    ({"ObjectLockEnabled": "Disabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}},
     "MalformedXML"),
    ({"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE"}}}, "MalformedXML"),
])
def test_invalid_configuration(s3: Any, lock_bucket: str, conf: dict[str, Any], code: str) -> None:
    assert_error(s3.put_object_lock_configuration, code, 400, Bucket=lock_bucket, ObjectLockConfiguration=conf)


def test_configuration_needs_an_integrity_header(server: NuageServer, lock_bucket: str) -> None:
    body = (b'<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>")
    reply = rawhttp.request(server, "PUT", f"/{lock_bucket}?object-lock", body=body)
    assert reply.status == 400
    assert reply.xml().findtext("Code") == "InvalidRequest"
    reply = rawhttp.request(server, "PUT", f"/{lock_bucket}?object-lock", body=body,
                            headers={"Content-MD5": base64.b64encode(b"0" * 16).decode()})
    assert (reply.status, reply.xml().findtext("Code")) == (400, "BadDigest")
    reply = rawhttp.request(server, "PUT", f"/{lock_bucket}?object-lock", body=body, headers=_md5(body))
    assert reply.status == 200


def test_delete_with_object_lock_query_never_deletes_the_bucket(server: NuageServer, s3: Any,
                                                                lock_bucket: str) -> None:
    reply = rawhttp.request(server, "DELETE", f"/{lock_bucket}?object-lock")
    assert reply.status >= 400
    s3.head_bucket(Bucket=lock_bucket)


# -- lock of new versions ----------------------------------------------------------------------------
def test_default_retention_applies_to_new_versions(s3: Any, lock_bucket: str) -> None:
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=_conf(Days=2))
    before = datetime.now(UTC)
    s3.put_object(Bucket=lock_bucket, Key="put", Body=b"x")
    s3.copy_object(Bucket=lock_bucket, Key="copy", CopySource={"Bucket": lock_bucket, "Key": "put"})
    up = s3.create_multipart_upload(Bucket=lock_bucket, Key="mpu")
    part = s3.upload_part(Bucket=lock_bucket, Key="mpu", UploadId=up["UploadId"], PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(Bucket=lock_bucket, Key="mpu", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    for key in ("put", "copy", "mpu"):
        head = s3.head_object(Bucket=lock_bucket, Key=key)
        assert head["ObjectLockMode"] == "GOVERNANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert before + timedelta(days=2) - timedelta(seconds=1) <= until <= datetime.now(UTC) + timedelta(days=2)
        assert "ObjectLockLegalHoldStatus" not in head
        retention = s3.get_object_retention(Bucket=lock_bucket, Key=key)["Retention"]
        assert retention == {"Mode": "GOVERNANCE", "RetainUntilDate": until}


def test_explicit_lock_headers_win_over_the_default(s3: Any, lock_bucket: str) -> None:
    s3.put_object_lock_configuration(Bucket=lock_bucket, ObjectLockConfiguration=_conf(Days=2))
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="ON")["VersionId"]
    got = s3.get_object(Bucket=lock_bucket, Key="k", VersionId=v)
    assert (got["ObjectLockMode"], got["ObjectLockRetainUntilDate"], got["ObjectLockLegalHoldStatus"]) == (
        "COMPLIANCE", FAR, "ON")
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="k")["LegalHold"] == {"Status": "ON"}
    s3.copy_object(Bucket=lock_bucket, Key="c", CopySource={"Bucket": lock_bucket, "Key": "k"},
                   ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=LATER)
    head = s3.head_object(Bucket=lock_bucket, Key="c")
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"]) == ("GOVERNANCE", LATER)
    assert "ObjectLockLegalHoldStatus" not in head   # the source's lock is not copied


def test_multipart_lock_headers(s3: Any, lock_bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=lock_bucket, Key="m", ObjectLockMode="GOVERNANCE",
                                    ObjectLockRetainUntilDate=FAR, ObjectLockLegalHoldStatus="OFF")
    part = s3.upload_part(Bucket=lock_bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"abc")
    done = s3.complete_multipart_upload(Bucket=lock_bucket, Key="m", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    head = s3.head_object(Bucket=lock_bucket, Key="m", VersionId=done["VersionId"])
    assert (head["ObjectLockMode"], head["ObjectLockRetainUntilDate"], head["ObjectLockLegalHoldStatus"]) == (
        "GOVERNANCE", FAR, "OFF")
    assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="m", VersionId=done["VersionId"])


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"ObjectLockMode": "GOVERNANCE"}, "InvalidArgument"),
    ({"ObjectLockRetainUntilDate": FAR}, "InvalidArgument"),
    ({"ObjectLockMode": "governance", "ObjectLockRetainUntilDate": FAR}, "InvalidArgument"),
    ({"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": datetime(2001, 1, 1, tzinfo=UTC)},
     "InvalidArgument"),
    ({"ObjectLockLegalHoldStatus": "MAYBE"}, "InvalidArgument"),
])
def test_invalid_lock_headers(s3: Any, lock_bucket: str, kwargs: dict[str, Any], code: str) -> None:
    assert_error(s3.put_object, code, 400, Bucket=lock_bucket, Key="k", Body=b"x", **kwargs)
    assert_error(s3.create_multipart_upload, code, 400, Bucket=lock_bucket, Key="k", **kwargs)


def test_lock_headers_need_a_lock_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    assert_error(s3.put_object, "InvalidRequest", 400, Bucket=bucket, Key="k", Body=b"x",
                 ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=FAR)
    assert_error(s3.put_object, "InvalidRequest", 400, Bucket=bucket, Key="k", Body=b"x",
                 ObjectLockLegalHoldStatus="ON")
    assert_error(s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key="k",
                 CopySource={"Bucket": bucket, "Key": "src"}, ObjectLockLegalHoldStatus="ON")
    assert_error(s3.create_multipart_upload, "InvalidRequest", 400, Bucket=bucket, Key="k",
                 ObjectLockLegalHoldStatus="ON")
    assert "ObjectLockMode" not in s3.head_object(Bucket=bucket, Key="src")


# -- retention ---------------------------------------------------------------------------------------
def test_retention_rules(s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")["VersionId"]
    assert_error(s3.get_object_retention, "NoSuchObjectLockConfiguration", 404, Bucket=lock_bucket, Key="k")
    s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    # extending needs nothing; shortening or changing the mode of GOVERNANCE needs the bypass
    s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "GOVERNANCE",
                                                                    "RetainUntilDate": LATER})
    assert_error(s3.put_object_retention, "AccessDenied", 403, Bucket=lock_bucket, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    assert_error(s3.put_object_retention, "AccessDenied", 403, Bucket=lock_bucket, Key="k",
                 Retention={"Mode": "COMPLIANCE", "RetainUntilDate": LATER})
    s3.put_object_retention(Bucket=lock_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    assert s3.get_object_retention(Bucket=lock_bucket, Key="k", VersionId=v)["Retention"] == {
        "Mode": "GOVERNANCE", "RetainUntilDate": FAR}
    # COMPLIANCE: only extended, bypass or not
    s3.put_object_retention(Bucket=lock_bucket, Key="k", BypassGovernanceRetention=True,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": FAR})
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": FAR - timedelta(days=1)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": LATER}):
        for bypass in (False, True):
            assert_error(s3.put_object_retention, "AccessDenied", 403, Bucket=lock_bucket, Key="k",
                         Retention=retention, BypassGovernanceRetention=bypass)
    s3.put_object_retention(Bucket=lock_bucket, Key="k", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": LATER})
    assert s3.head_object(Bucket=lock_bucket, Key="k")["ObjectLockRetainUntilDate"] == LATER


def test_governance_retention_can_be_removed_with_bypass(server: NuageServer, s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=FAR)["VersionId"]
    body = b'<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    path = rawhttp.key_path(lock_bucket, "k", "retention")
    reply = rawhttp.request(server, "PUT", path, body=body, headers=_md5(body))
    assert (reply.status, reply.xml().findtext("Code")) == (403, "AccessDenied")
    reply = rawhttp.request(server, "PUT", path, body=body,
                            headers={**_md5(body), "x-amz-bypass-governance-retention": "true"})
    assert reply.status == 200, reply.body
    assert_error(s3.get_object_retention, "NoSuchObjectLockConfiguration", 404, Bucket=lock_bucket, Key="k")
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v)


@pytest.mark.parametrize("mode", ["governance", "abc"])
def test_invalid_retention_mode(s3: Any, lock_bucket: str, mode: str) -> None:
    s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")
    assert_error(s3.put_object_retention, "MalformedXML", 400, Bucket=lock_bucket, Key="k",
                 Retention={"Mode": mode, "RetainUntilDate": FAR})


def test_retention_date_must_be_in_the_future(s3: Any, lock_bucket: str) -> None:
    s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")
    assert_error(s3.put_object_retention, "InvalidArgument", 400, Bucket=lock_bucket, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime(2001, 1, 1, tzinfo=UTC)})


def test_retention_and_legal_hold_need_a_lock_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert_error(s3.put_object_retention, "InvalidRequest", 400, Bucket=bucket, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    assert_error(s3.get_object_retention, "InvalidRequest", 400, Bucket=bucket, Key="k")
    assert_error(s3.put_object_legal_hold, "InvalidRequest", 400, Bucket=bucket, Key="k",
                 LegalHold={"Status": "ON"})
    assert_error(s3.get_object_legal_hold, "InvalidRequest", 400, Bucket=bucket, Key="k")


def test_retention_of_missing_objects(s3: Any, lock_bucket: str) -> None:
    assert_error(s3.get_object_retention, "NoSuchKey", 404, Bucket=lock_bucket, Key="nope")
    assert_error(s3.put_object_retention, "NoSuchKey", 404, Bucket=lock_bucket, Key="nope",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": FAR})
    assert_error(s3.get_object_legal_hold, "NoSuchBucket", 404, Bucket="no-such-bucket-lock-x", Key="k")


# -- legal hold --------------------------------------------------------------------------------------
def test_legal_hold(s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x")["VersionId"]
    assert_error(s3.get_object_legal_hold, "NoSuchObjectLockConfiguration", 404, Bucket=lock_bucket, Key="k")
    assert_error(s3.put_object_legal_hold, "MalformedXML", 400, Bucket=lock_bucket, Key="k",
                 LegalHold={"Status": "abc"})
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="k", VersionId=v)["LegalHold"] == {"Status": "ON"}
    assert s3.head_object(Bucket=lock_bucket, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    # a legal hold is not bypassed
    assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v,
                 BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=lock_bucket, Key="k", VersionId=v, LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=lock_bucket, Key="k")["LegalHold"] == {"Status": "OFF"}
    assert s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v)["ResponseMetadata"]["HTTPStatusCode"] == 204


# -- protection of locked versions -------------------------------------------------------------------
def test_delete_of_a_governance_locked_version(s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=FAR)["VersionId"]
    assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v)
    marker = s3.delete_object(Bucket=lock_bucket, Key="k")     # without a version: a delete marker
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=marker["VersionId"])
    assert s3.get_object(Bucket=lock_bucket, Key="k")["Body"].read() == b"x"
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert s3.list_object_versions(Bucket=lock_bucket).get("Versions") is None


def test_delete_of_a_compliance_locked_version(s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=FAR)["VersionId"]
    for bypass in (False, True):
        assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v,
                     BypassGovernanceRetention=bypass)
    assert s3.get_object(Bucket=lock_bucket, Key="k", VersionId=v)["Body"].read() == b"x"


def test_expired_retention_no_longer_protects(s3: Any, lock_bucket: str) -> None:
    until = datetime.now(UTC) + timedelta(seconds=1.5)
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"x", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    assert_error(s3.delete_object, "AccessDenied", 403, Bucket=lock_bucket, Key="k", VersionId=v)
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)
    s3.delete_object(Bucket=lock_bucket, Key="k", VersionId=v)


def test_delete_objects_reports_locked_versions(s3: Any, lock_bucket: str) -> None:
    v1 = s3.put_object(Bucket=lock_bucket, Key="a", Body=b"x", ObjectLockMode="GOVERNANCE",
                       ObjectLockRetainUntilDate=FAR)["VersionId"]
    v2 = s3.put_object(Bucket=lock_bucket, Key="b", Body=b"x")["VersionId"]
    v3 = s3.put_object(Bucket=lock_bucket, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=FAR)["VersionId"]
    objects = [{"Key": "a", "VersionId": v1}, {"Key": "b", "VersionId": v2}, {"Key": "c", "VersionId": v3}]
    got = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": objects})
    assert [(d["Key"], d["VersionId"]) for d in got["Deleted"]] == [("b", v2)]
    assert sorted((x["Key"], x["VersionId"], x["Code"]) for x in got["Errors"]) == [
        ("a", v1, "AccessDenied"), ("c", v3, "AccessDenied")]
    got = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": objects[:1] + objects[2:]},
                            BypassGovernanceRetention=True)
    assert [(d["Key"], d["VersionId"]) for d in got["Deleted"]] == [("a", v1)]
    assert [(x["Key"], x["Code"]) for x in got["Errors"]] == [("c", "AccessDenied")]
    # without versions, entries only add delete markers
    got = s3.delete_objects(Bucket=lock_bucket, Delete={"Objects": [{"Key": "c"}]})
    assert got["Deleted"][0]["DeleteMarker"] is True


def test_overwrite_keeps_the_locked_version(s3: Any, lock_bucket: str) -> None:
    v = s3.put_object(Bucket=lock_bucket, Key="k", Body=b"old", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=FAR)["VersionId"]
    s3.put_object(Bucket=lock_bucket, Key="k", Body=b"new")
    assert s3.get_object(Bucket=lock_bucket, Key="k", VersionId=v)["Body"].read() == b"old"
    assert "ObjectLockMode" not in s3.head_object(Bucket=lock_bucket, Key="k")
