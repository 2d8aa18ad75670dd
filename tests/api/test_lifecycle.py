"""Bucket lifecycle: configuration round trip and validation, the x-amz-expiration header, and the
background worker enforcing rules on a server whose lifecycle "day" lasts two seconds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer

DAY = 2.0


def _put(s3: Any, bucket: str, rules: list[dict[str, Any]]) -> Any:
    return s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def test_round_trip_and_delete(s3: Any, bucket: str) -> None:
    assert_error(s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration", 404, Bucket=bucket)
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    rules = [
        {"ID": "legacy", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 30}},
        {"ID": "tagged", "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "a", "Value": "1"}],
                                            "ObjectSizeGreaterThan": 10}},
         "Status": "Disabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 5, "NewerNoncurrentVersions": 2}},
        {"ID": "uploads", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
        {"ID": "markers", "Filter": {}, "Status": "Enabled", "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "archive", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER"}],
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "GLACIER"}]},
    ]
    assert _put(s3, bucket, rules)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration", 404, Bucket=bucket)


def test_date_and_generated_id(s3: Any, bucket: str) -> None:
    _put(s3, bucket, [{"Prefix": "a/", "Status": "Enabled", "Expiration": {"Date": "2031-01-01T00:00:00Z"}}])
    rule = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert rule["ID"]
    assert rule["Expiration"]["Date"].isoformat().startswith("2031-01-01T00:00:00")


@pytest.mark.parametrize(("rules", "code"), [
    ([{"ID": "x" * 256, "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 1}}], "InvalidArgument"),
    ([{"ID": "same", "Prefix": "a", "Status": "Enabled", "Expiration": {"Days": 1}},
      {"ID": "same", "Prefix": "b", "Status": "Enabled", "Expiration": {"Days": 1}}], "InvalidArgument"),
    ([{"ID": "r", "Prefix": "", "Status": "enabled", "Expiration": {"Days": 1}}], "MalformedXML"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 0}}], "InvalidArgument"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled", "Expiration": {"Date": "2030-01-01T10:00:00Z"}}],
     "InvalidArgument"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 0}}],
     "InvalidArgument"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled",
       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 0}}], "InvalidArgument"),
    ([{"ID": "r", "Filter": {"Tag": {"Key": "a", "Value": "b"}}, "Status": "Enabled",
       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}], "InvalidRequest"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled"}], "InvalidRequest"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "STANDARD_IA"}]}],
     "InvalidArgument"),
    ([{"ID": "r", "Prefix": "", "Status": "Enabled", "Expiration": {"Days": 10},
       "Transitions": [{"Days": 20, "StorageClass": "GLACIER"}]}], "InvalidArgument"),
    ([{"ID": "r", "Filter": {"And": {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}},
       "Status": "Enabled", "Expiration": {"Days": 1}}], "InvalidRequest"),
])
def test_validation(s3: Any, bucket: str, rules: list[dict[str, Any]], code: str) -> None:
    assert_error(_put, code, 400, s3=s3, bucket=bucket, rules=rules)


RULE = ("<Rule><ID>r</ID><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status>"
        "<Expiration><Days>1</Days></Expiration></Rule>")


def _doc(old: str, new: str) -> str:
    return "<LifecycleConfiguration>" + RULE.replace(old, new) + "</LifecycleConfiguration>"


@pytest.mark.parametrize("body", [
    "<LifecycleConfiguration></LifecycleConfiguration>",
    "<Other>" + RULE + "</Other>",
    _doc("<Filter><Prefix>a</Prefix></Filter>", ""),
    _doc("<ID>r</ID>", "<ID>r</ID><Prefix>a</Prefix>"),
    _doc("<Days>1</Days>", "<Days>one</Days>"),
    _doc("<Days>1</Days>", ""),
    _doc("<Days>1</Days>", "<Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"),
    _doc("<Status>Enabled</Status>", ""),
    _doc("<Status>Enabled</Status>", "<Status>Enabled</Status><Bogus/>"),
])
def test_malformed(server: NuageServer, bucket: str, body: str) -> None:
    reply = rawhttp.request(server, "PUT", f"/{bucket}?lifecycle", body=body.encode())
    assert (reply.status, reply.code) == (400, "MalformedXML")


def test_expiration_header(s3: Any, bucket: str) -> None:
    _put(s3, bucket, [
        {"ID": "short", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "tagged", "Filter": {"Tag": {"Key": "keep", "Value": "no"}}, "Status": "Enabled",
         "Expiration": {"Days": 3}},
        {"ID": "off", "Filter": {"Prefix": "off/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ])
    put = s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"x")
    header = put["ResponseMetadata"]["HTTPHeaders"]["x-amz-expiration"]
    assert header.startswith('expiry-date="') and header.endswith('GMT", rule-id="short"')
    assert "00:00:00 GMT" in header          # rounded to midnight UTC
    assert s3.head_object(Bucket=bucket, Key="tmp/a")["Expiration"] == header
    assert s3.get_object(Bucket=bucket, Key="tmp/a")["Expiration"] == header
    s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="other")
    s3.put_object_tagging(Bucket=bucket, Key="other", Tagging={"TagSet": [{"Key": "keep", "Value": "no"}]})
    assert 'rule-id="tagged"' in s3.head_object(Bucket=bucket, Key="other")["Expiration"]
    s3.put_object(Bucket=bucket, Key="off/a", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="off/a")


# -- enforcement ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("nuage-lc") / "data",
                      env={"NUAGE_LIFECYCLE_DAY_SECONDS": str(DAY), "NUAGE_LIFECYCLE_INTERVAL": "0.5"}).start()
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture
def lc(lc_server: NuageServer) -> Any:
    return lc_server.client()


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


def _keys(s3: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _new_bucket(s3: Any, versioned: bool = False) -> str:
    import uuid

    name = f"lc-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_worker_expires_current_objects(lc: Any) -> None:
    bucket = _new_bucket(lc)
    for key in ("expire/a", "expire/b", "keep/a", "tagged"):
        lc.put_object(Bucket=bucket, Key=key, Body=b"x")
    lc.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    _put(lc, bucket, [
        {"ID": "p", "Filter": {"Prefix": "expire/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "t", "Filter": {"Tag": {"Key": "t", "Value": "1"}}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "k", "Filter": {"Prefix": "keep/"}, "Status": "Disabled", "Expiration": {"Days": 1}},
    ])
    assert _wait(lambda: _keys(lc, bucket) == {"keep/a"})
    # no versions left behind in an unversioned bucket
    assert len(lc.list_object_versions(Bucket=bucket).get("Versions", [])) == 1


def test_worker_versioned_bucket(lc: Any) -> None:
    bucket = _new_bucket(lc, versioned=True)
    for body in (b"1", b"2", b"3"):
        lc.put_object(Bucket=bucket, Key="nc/a", Body=body)
    lc.put_object(Bucket=bucket, Key="cur/a", Body=b"x")
    _put(lc, bucket, [
        {"ID": "nc", "Filter": {"Prefix": "nc/"}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
        {"ID": "cur", "Filter": {"Prefix": "cur/"}, "Status": "Enabled", "Expiration": {"Days": 1}},
    ])

    def settled() -> bool:
        listing = lc.list_object_versions(Bucket=bucket)
        versions = [(v["Key"], v["IsLatest"]) for v in listing.get("Versions", [])]
        markers = [(m["Key"], m["IsLatest"]) for m in listing.get("DeleteMarkers", [])]
        return sorted(versions) == [("cur/a", False), ("nc/a", True)] and markers == [("cur/a", True)]

    assert _wait(settled)
    assert lc.get_object(Bucket=bucket, Key="nc/a")["Body"].read() == b"3"


def test_worker_newer_noncurrent_versions(lc: Any) -> None:
    bucket = _new_bucket(lc, versioned=True)
    for body in (b"1", b"2", b"3", b"4"):
        lc.put_object(Bucket=bucket, Key="k", Body=body)
    _put(lc, bucket, [{"ID": "nc", "Filter": {}, "Status": "Enabled",
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 2}}])
    assert _wait(lambda: len(lc.list_object_versions(Bucket=bucket).get("Versions", [])) == 3)
    time.sleep(DAY)
    versions = lc.list_object_versions(Bucket=bucket)["Versions"]
    assert len(versions) == 3


def test_worker_expired_delete_markers(lc: Any) -> None:
    bucket = _new_bucket(lc, versioned=True)
    lc.put_object(Bucket=bucket, Key="m/a", Body=b"x")
    lc.delete_object(Bucket=bucket, Key="m/a")
    lc.put_object(Bucket=bucket, Key="other", Body=b"x")
    lc.delete_object(Bucket=bucket, Key="other")
    _put(lc, bucket, [{"ID": "dm", "Filter": {"Prefix": "m/"}, "Status": "Enabled",
                       "Expiration": {"ExpiredObjectDeleteMarker": True},
                       "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])

    def settled() -> bool:
        listing = lc.list_object_versions(Bucket=bucket)
        keys = [v["Key"] for v in listing.get("Versions", [])] + [m["Key"] for m in listing.get("DeleteMarkers", [])]
        return sorted(keys) == ["other", "other"]

    assert _wait(settled)


def test_worker_aborts_incomplete_uploads(lc: Any) -> None:
    bucket = _new_bucket(lc)
    lc.create_multipart_upload(Bucket=bucket, Key="up/a")
    lc.create_multipart_upload(Bucket=bucket, Key="keep/a")
    _put(lc, bucket, [{"ID": "mpu", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
                       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])

    def keys() -> list[str]:
        return [u["Key"] for u in lc.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]

    assert _wait(lambda: keys() == ["keep/a"])


def test_worker_respects_size_filter_and_date(lc: Any) -> None:
    bucket = _new_bucket(lc)
    lc.put_object(Bucket=bucket, Key="small", Body=b"x")
    lc.put_object(Bucket=bucket, Key="big", Body=b"x" * 5000)
    lc.put_object(Bucket=bucket, Key="past/a", Body=b"x")
    lc.put_object(Bucket=bucket, Key="future/a", Body=b"x")
    _put(lc, bucket, [
        {"ID": "big", "Filter": {"ObjectSizeGreaterThan": 1000}, "Status": "Enabled", "Expiration": {"Days": 1}},
        {"ID": "past", "Filter": {"Prefix": "past/"}, "Status": "Enabled",
         "Expiration": {"Date": "2015-01-01T00:00:00Z"}},
        {"ID": "future", "Filter": {"Prefix": "future/"}, "Status": "Enabled",
         "Expiration": {"Date": "2099-01-01T00:00:00Z"}},
    ])
    assert _wait(lambda: _keys(lc, bucket) == {"small", "future/a"})
