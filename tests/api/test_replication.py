"""Regions and bucket replication over real servers on loopback: the replication configuration API
(AWS XML, versioning required on both sides), what is shipped (versions with their ids, metadata,
tags, delete markers) and what is not, replication status headers, no loops between two regions that
replicate to each other, the allow list, residency, and PermanentRedirect for another region's bucket."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from click.testing import CliRunner

from nuage.cli.admin import AdminClient
from nuage.cli.main import main
from tests.support import rawhttp
from tests.support.regions import HANGZHOU, WEST, Regions, replicate, start_regions, versioned_bucket, wait_for
from tests.support.server import ACCESS_KEY, SECRET_KEY, SQLITE_ONLY

EU = "eu-central-1"
ROLE = "arn:aws:iam::000000000000:role/replication"


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    # us-west-1 takes replicas from cn-hangzhou, cn-hangzhou from us-west-1; nobody takes eu-central-1's
    r = start_regions(tmp_path_factory.mktemp("regions"), {WEST: [HANGZHOU], HANGZHOU: [WEST]},
                      names=(HANGZHOU, WEST, EU))
    yield r
    r.stop()


@pytest.fixture
def hz(regions: Regions) -> Any:
    return regions[HANGZHOU].client()


@pytest.fixture
def west(regions: Regions) -> Any:
    return regions[WEST].client()


_counter = iter(range(1_000_000))


def _name(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{int(time.time() * 1000) % 100000}"


@pytest.fixture
def pair(hz: Any, west: Any) -> tuple[str, str]:
    """A versioned bucket in cn-hangzhou replicated (everything) to a versioned bucket in us-west-1."""
    src, dst = _name("src"), _name("dst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    replicate(hz, src, dst)
    return src, dst


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _status(client: Any, bucket: str, key: str, version: str | None = None) -> str | None:
    kwargs = {"VersionId": version} if version else {}
    return client.head_object(Bucket=bucket, Key=key, **kwargs).get("ReplicationStatus")


def _has_version(client: Any, bucket: str, key: str, version: str) -> bool:
    page = client.list_object_versions(Bucket=bucket, Prefix=key)
    return any(v["VersionId"] == version for v in page.get("Versions", []) + page.get("DeleteMarkers", []))


# -- the configuration API --------------------------------------------------------------------------
def test_configuration_round_trip_and_delete(hz: Any, west: Any) -> None:
    src, dst = _name("cfg"), _name("cfgdst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    config = {"Role": ROLE, "Rules": [
        {"ID": "docs", "Priority": 2, "Status": "Enabled",
         "Filter": {"And": {"Prefix": "docs/", "Tags": [{"Key": "share", "Value": "us"}]}},
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": "STANDARD_IA"}},
        {"ID": "logs", "Priority": 1, "Status": "Disabled", "Filter": {"Prefix": "logs/"},
         "DeleteMarkerReplication": {"Status": "Enabled"},
         "ExistingObjectReplication": {"Status": "Enabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}},
    ]}
    hz.put_bucket_replication(Bucket=src, ReplicationConfiguration=config)
    got = hz.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
    assert got["Role"] == ROLE
    assert got["Rules"][0] == config["Rules"][0]
    assert got["Rules"][1]["Filter"] == {"Prefix": "logs/"}
    assert got["Rules"][1]["ExistingObjectReplication"] == {"Status": "Enabled"}
    hz.delete_bucket_replication(Bucket=src)
    with pytest.raises(ClientError) as exc:
        hz.get_bucket_replication(Bucket=src)
    assert _code(exc) == "ReplicationConfigurationNotFoundError"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_versioning_is_required_on_both_sides(hz: Any, west: Any) -> None:
    plain_src, plain_dst, src, dst = _name("ps"), _name("pd"), _name("vs"), _name("vd")
    hz.create_bucket(Bucket=plain_src, CreateBucketConfiguration={"LocationConstraint": HANGZHOU})
    west.create_bucket(Bucket=plain_dst, CreateBucketConfiguration={"LocationConstraint": WEST})
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    with pytest.raises(ClientError) as exc:
        replicate(hz, plain_src, dst)
    assert _code(exc) == "InvalidRequest"
    assert "Versioning must be 'Enabled'" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        replicate(hz, src, plain_dst)
    assert _code(exc) == "InvalidRequest"
    assert "versioning enabled" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        replicate(hz, src, _name("nowhere"))
    assert _code(exc) == "InvalidRequest"


def test_versioning_cannot_be_suspended_under_a_replication_rule(hz: Any, pair: tuple[str, str]) -> None:
    src, _ = pair
    with pytest.raises(ClientError) as exc:
        hz.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Suspended"})
    assert _code(exc) == "InvalidBucketState"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert hz.get_bucket_versioning(Bucket=src)["Status"] == "Enabled"


@pytest.mark.parametrize(("rules", "code"), [
    ([{"ID": "a", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
       "Destination": {"Bucket": "arn:aws:s3:::DST"}}], "InvalidRequest"),          # no DeleteMarkerReplication
    ([{"ID": "a", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "a"},
       "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::DST"}},
      {"ID": "b", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "b"},
       "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "arn:aws:s3:::DST"}}],
     "InvalidArgument"),                                                              # same priority twice
    ([{"ID": "a", "Priority": 1, "Status": "Enabled", "Filter": {"Tag": {"Key": "k", "Value": "v"}},
       "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": "arn:aws:s3:::DST"}}],
     "InvalidRequest"),                                                               # delete markers + tag filter
    ([{"ID": "a", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
       "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": "DST"}}],
     "InvalidArgument"),                                                              # not an ARN
])
def test_invalid_configurations(hz: Any, pair: tuple[str, str], rules: list[dict[str, Any]], code: str) -> None:
    src, dst = pair
    for rule in rules:
        rule["Destination"]["Bucket"] = rule["Destination"]["Bucket"].replace("DST", dst)
    with pytest.raises(ClientError) as exc:
        hz.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": rules})
    assert _code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_malformed_configuration(regions: Regions, pair: tuple[str, str]) -> None:
    src, _ = pair
    body = b"<ReplicationConfiguration><Role>r</Role><Rule><Status>Maybe</Status></Rule></ReplicationConfiguration>"
    reply = rawhttp.request(regions[HANGZHOU], "PUT", f"/{src}?replication", body=body)
    assert reply.status == 400
    assert reply.code == "MalformedXML"


# -- what is shipped ----------------------------------------------------------------------------------
def test_versions_metadata_tags_and_status(hz: Any, west: Any, pair: tuple[str, str]) -> None:
    src, dst = pair
    put = hz.put_object(Bucket=src, Key="a/b.txt", Body=b"hello world", ContentType="text/plain",
                        Metadata={"colour": "blue"}, Tagging="team=ops", CacheControl="max-age=60")
    vid = put["VersionId"]
    wait_for(lambda: _status(hz, src, "a/b.txt") == "COMPLETED")
    got = west.get_object(Bucket=dst, Key="a/b.txt")
    assert got["VersionId"] == vid
    assert got["Body"].read() == b"hello world"
    assert got["ETag"] == put["ETag"]
    assert (got["ContentType"], got["Metadata"], got["CacheControl"]) == ("text/plain", {"colour": "blue"},
                                                                           "max-age=60")
    assert got["ReplicationStatus"] == "REPLICA"
    assert west.get_object_tagging(Bucket=dst, Key="a/b.txt")["TagSet"] == [{"Key": "team", "Value": "ops"}]
    # a later tag change goes too
    hz.put_object_tagging(Bucket=src, Key="a/b.txt", Tagging={"TagSet": [{"Key": "team", "Value": "dev"}]})
    wait_for(lambda: west.get_object_tagging(Bucket=dst, Key="a/b.txt")["TagSet"] ==
             [{"Key": "team", "Value": "dev"}])
    # a delete marker goes with its version id; the versions stay
    marker = hz.delete_object(Bucket=src, Key="a/b.txt")["VersionId"]
    wait_for(lambda: _has_version(west, dst, "a/b.txt", marker))
    with pytest.raises(ClientError) as exc:
        west.head_object(Bucket=dst, Key="a/b.txt")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert west.get_object(Bucket=dst, Key="a/b.txt", VersionId=vid)["Body"].read() == b"hello world"


def test_multipart_object_keeps_its_parts(hz: Any, west: Any, pair: tuple[str, str]) -> None:
    src, dst = pair
    part1, part2 = b"x" * (5 * 1024 * 1024), b"tail"
    up = hz.create_multipart_upload(Bucket=src, Key="big")
    etags = [hz.upload_part(Bucket=src, Key="big", UploadId=up["UploadId"], PartNumber=n, Body=b)["ETag"]
             for n, b in ((1, part1), (2, part2))]
    done = hz.complete_multipart_upload(Bucket=src, Key="big", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": t} for n, t in enumerate(etags)]})
    wait_for(lambda: _status(hz, src, "big") == "COMPLETED")
    got = west.get_object(Bucket=dst, Key="big", PartNumber=2)
    assert got["VersionId"] == done["VersionId"]
    assert got["ETag"] == done["ETag"]
    assert got["PartsCount"] == 2
    assert got["Body"].read() == part2


def test_filters_and_disabled_delete_markers(hz: Any, west: Any) -> None:
    src, dst = _name("flt"), _name("fltdst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    hz.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"ID": "us", "Priority": 1, "Status": "Enabled", "Filter": {"Tag": {"Key": "share", "Value": "us"}},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}},
        {"ID": "pub", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "public/"},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}]})
    hz.put_object(Bucket=src, Key="private/secret", Body=b"stays")
    hz.put_object(Bucket=src, Key="private/shared", Body=b"goes", Tagging="share=us")
    hz.put_object(Bucket=src, Key="public/page", Body=b"goes too")
    wait_for(lambda: _status(hz, src, "public/page") == "COMPLETED" and
             _status(hz, src, "private/shared") == "COMPLETED")
    assert _status(hz, src, "private/secret") is None
    keys = [o["Key"] for o in west.list_objects_v2(Bucket=dst).get("Contents", [])]
    assert keys == ["private/shared", "public/page"]
    hz.delete_object(Bucket=src, Key="public/page")         # delete markers are not replicated here
    hz.put_object(Bucket=src, Key="public/later", Body=b"x")
    wait_for(lambda: _status(hz, src, "public/later") == "COMPLETED")
    assert west.get_object(Bucket=dst, Key="public/page")["Body"].read() == b"goes too"


def test_rule_storage_class_applies_to_replicas(hz: Any, west: Any) -> None:
    src, dst = _name("sc"), _name("scdst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    hz.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"ID": "ia", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": "STANDARD_IA"}}]})
    hz.put_object(Bucket=src, Key="k", Body=b"v")
    wait_for(lambda: _status(hz, src, "k") == "COMPLETED")
    assert "StorageClass" not in hz.head_object(Bucket=src, Key="k")
    assert west.head_object(Bucket=dst, Key="k")["StorageClass"] == "STANDARD_IA"


def test_existing_objects_are_replicated_when_asked(hz: Any, west: Any) -> None:
    src, dst = _name("old"), _name("olddst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    before = hz.put_object(Bucket=src, Key="before", Body=b"already there")["VersionId"]
    hz.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
         "ExistingObjectReplication": {"Status": "Enabled"},
         "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}]})
    wait_for(lambda: _has_version(west, dst, "before", before))


# -- loops, allow list, residency -------------------------------------------------------------------------
def test_two_regions_replicating_to_each_other_do_not_loop(hz: Any, west: Any) -> None:
    a, b = _name("loopa"), _name("loopb")
    versioned_bucket(hz, a, HANGZHOU)
    versioned_bucket(west, b, WEST)
    replicate(hz, a, b)
    replicate(west, b, a)
    va = hz.put_object(Bucket=a, Key="from-a", Body=b"a")["VersionId"]
    vb = west.put_object(Bucket=b, Key="from-b", Body=b"b")["VersionId"]
    wait_for(lambda: _has_version(west, b, "from-a", va) and _has_version(hz, a, "from-b", vb))
    time.sleep(0.5)                                         # time for a loop to show, if there were one
    for client, bucket in ((hz, a), (west, b)):
        page = client.list_object_versions(Bucket=bucket)
        assert sorted((v["Key"], v["VersionId"]) for v in page["Versions"]) == [("from-a", va), ("from-b", vb)]
        assert "DeleteMarkers" not in page
    assert _status(hz, a, "from-a") == "COMPLETED"
    assert _status(hz, a, "from-b") == "REPLICA"


def test_destination_refuses_regions_not_on_its_allow_list(regions: Regions, west: Any) -> None:
    eu = regions[EU].client()
    src, dst = _name("eusrc"), _name("eudst")
    versioned_bucket(eu, src, EU)
    versioned_bucket(west, dst, WEST)
    replicate(eu, src, dst)
    eu.put_object(Bucket=src, Key="k", Body=b"must not leave")
    wait_for(lambda: _status(eu, src, "k") == "FAILED")
    assert "Contents" not in west.list_objects_v2(Bucket=dst)
    status = _admin(regions, EU, "/admin/replication")
    rule = next(r for r in status["rules"] if r["bucket"] == src)
    assert rule["failed"] == 1
    assert rule["backlog"] == 0
    assert "AccessDenied" in rule["last_failure"]


def test_no_rule_no_bytes_in_another_region(regions: Regions, hz: Any, pair: tuple[str, str]) -> None:
    src, _ = pair                                            # replication is active next to it
    private = _name("resident")
    versioned_bucket(hz, private, HANGZHOU)
    token = b"RESIDENT-ONLY-" + private.encode()
    hz.put_object(Bucket=private, Key="data", Body=token * 100)
    hz.put_object(Bucket=private, Key="small", Body=token)
    hz.put_object(Bucket=src, Key="shared", Body=b"this one may travel")
    wait_for(lambda: _status(hz, src, "shared") == "COMPLETED")
    assert _status(hz, private, "data") is None
    for name in (WEST, EU):
        for path in regions[name].data_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert token not in data, path
                assert private.encode() not in data, path


def test_internal_endpoint_needs_a_region_key(regions: Regions, pair: tuple[str, str]) -> None:
    _, dst = pair
    anonymous = rawhttp.request(regions[WEST], "PUT", f"/_nuage/replication/apply/{dst}", body=b"x",
                                signed=False)
    assert anonymous.status == 403
    # the root key of the server is not a region's key
    signed = rawhttp.request(regions[WEST], "GET", f"/_nuage/replication/bucket/{dst}", signer="v4")
    assert signed.status == 403


def _admin(regions: Regions, name: str, path: str) -> Any:
    from tests.support.server import ACCESS_KEY, SECRET_KEY
    return AdminClient(regions[name].endpoint, ACCESS_KEY, SECRET_KEY, region=name).call("GET", path)


def test_admin_replication_status(regions: Regions, hz: Any, pair: tuple[str, str]) -> None:
    src, dst = pair
    hz.put_object(Bucket=src, Key="k", Body=b"v")
    wait_for(lambda: _status(hz, src, "k") == "COMPLETED")
    status = _admin(regions, HANGZHOU, "/admin/replication")
    assert status["region"] == HANGZHOU
    rule = next(r for r in status["rules"] if r["bucket"] == src)
    assert rule["shipped"] >= 1
    assert rule["backlog"] == 0
    assert rule["lag_p99_seconds"] is not None
    env = {"NUAGE_ENDPOINT": regions[HANGZHOU].endpoint, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY,
           "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    table = CliRunner().invoke(main, ["admin", "replication", "status"], env=env)
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0].split()[:4] == ["BUCKET", "RULE", "DESTINATION", "BACKLOG"]
    line = next(li for li in table.output.splitlines() if li.startswith(src + " "))
    assert line.split()[1:4] == ["all", dst, "0"]
    raw = CliRunner().invoke(main, ["admin", "--json", "replication", "status"], env=env)
    assert raw.exit_code == 0, raw.output
    assert any(r["bucket"] == src for r in json.loads(raw.output)["rules"])


# -- where buckets live ----------------------------------------------------------------------------------
def test_bucket_of_another_region_gets_permanent_redirect(regions: Regions, hz: Any, west: Any) -> None:
    name = _name("westonly")
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": WEST})
    assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == WEST
    reply = rawhttp.request(regions[HANGZHOU], "GET", f"/{name}?list-type=2", signer="v4")
    assert reply.status == 301
    assert reply.code == "PermanentRedirect"
    assert reply.xml().findtext("Endpoint") == f"127.0.0.1:{regions[WEST].port}"
    assert reply.xml().findtext("Bucket") == name
    assert reply.header("x-amz-bucket-region") == WEST
    head = rawhttp.request(regions[HANGZHOU], "HEAD", f"/{name}", signer="v4")
    assert (head.status, head.header("x-amz-bucket-region")) == (301, WEST)
    missing = rawhttp.request(regions[HANGZHOU], "GET", f"/{_name('none')}?list-type=2", signer="v4")
    assert (missing.status, missing.code) == (404, "NoSuchBucket")
    # boto3 follows x-amz-bucket-region once (signing for us-west-1): still a PermanentRedirect, not a
    # signature error, so the user learns where the bucket is
    with pytest.raises(ClientError) as exc:
        hz.list_objects_v2(Bucket=name)
    assert _code(exc) == "PermanentRedirect"
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == WEST
    # the other way round too; and a request for a bucket of this region signed for another region gets
    # AuthorizationHeaderMalformed naming this region, as before (botocore then re-signs and succeeds)
    local = _name("local")
    hz.create_bucket(Bucket=local, CreateBucketConfiguration={"LocationConstraint": HANGZHOU})
    with pytest.raises(ClientError) as exc:
        west.list_objects_v2(Bucket=local)
    assert _code(exc) == "PermanentRedirect"
    signed_for_west = boto3.client("s3", endpoint_url=regions[HANGZHOU].endpoint, region_name=WEST,
                                   aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                                   config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    assert signed_for_west.list_objects_v2(Bucket=local)["KeyCount"] == 0
    signed_for_west.close()


def test_create_bucket_location_and_global_names(hz: Any, west: Any) -> None:
    with pytest.raises(ClientError) as exc:
        hz.create_bucket(Bucket=_name("elsewhere"), CreateBucketConfiguration={"LocationConstraint": WEST})
    assert _code(exc) == "IllegalLocationConstraintException"
    taken = _name("taken")
    west.create_bucket(Bucket=taken, CreateBucketConfiguration={"LocationConstraint": WEST})
    with pytest.raises(ClientError) as exc:
        hz.create_bucket(Bucket=taken, CreateBucketConfiguration={"LocationConstraint": HANGZHOU})
    assert _code(exc) == "BucketAlreadyExists"


def _flip_a_bit(data: Path, bucket: str, key: str) -> None:
    """Flip one bit on disk in the blob file of the object's latest version (in a region's data folder)."""
    db = sqlite3.connect(data / "meta.sqlite3", isolation_level=None, timeout=30)
    try:
        (segments,) = db.execute("SELECT segments FROM objects WHERE bucket=? AND key=? AND is_latest=1",
                                 (bucket, key)).fetchone()
    finally:
        db.close()
    blob = json.loads(segments)[-1][0]
    with open(data / "blobs" / blob[:2] / blob[2:4] / blob, "r+b") as f:
        f.seek(1000)
        byte = f.read(1)[0]
        f.seek(1000)
        f.write(bytes([byte ^ 1]))


@SQLITE_ONLY
def test_a_replica_keeps_a_checksum_of_its_bytes(regions: Regions, hz: Any, west: Any,
                                                 pair: tuple[str, str]) -> None:
    """A replica is written with the CRC of its bytes like any upload: a bit flipped on disk in the
    destination region is refused (403 InvalidObjectState), never served as good data."""
    src, dst = pair
    body = bytes(range(256)) * 800   # 200 KiB: a blob file of its own
    hz.put_object(Bucket=src, Key="rot", Body=body)
    wait_for(lambda: _status(hz, src, "rot") == "COMPLETED")
    assert west.get_object(Bucket=dst, Key="rot")["Body"].read() == body
    _flip_a_bit(regions[WEST].data_dir, dst, "rot")
    with pytest.raises(ClientError) as caught:
        west.get_object(Bucket=dst, Key="rot")["Body"].read()
    assert _code(caught) == "InvalidObjectState"


@SQLITE_ONLY
def test_a_quarantined_version_fails_instead_of_being_retried(regions: Regions, hz: Any, west: Any) -> None:
    """A version whose bytes were found damaged is not shipped (the damage must not spread) and not
    retried for ever: its outbox row ends as a failure with the reason."""
    src, dst = _name("qsrc"), _name("qdst")
    versioned_bucket(hz, src, HANGZHOU)
    versioned_bucket(west, dst, WEST)
    body = bytes(range(256)) * 800
    version = hz.put_object(Bucket=src, Key="rot", Body=body)["VersionId"]   # before the rule: not shipped
    _flip_a_bit(regions[HANGZHOU].data_dir, src, "rot")
    with pytest.raises(ClientError) as caught:   # the read finds the damage and quarantines the version
        hz.get_object(Bucket=src, Key="rot")["Body"].read()
    assert _code(caught) == "InvalidObjectState"
    replicate(hz, src, dst)
    hz.put_object_tagging(Bucket=src, Key="rot", VersionId=version,   # queues the version for shipping
                          Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})

    def failed() -> bool:
        rules = [r for r in _admin(regions, HANGZHOU, "/admin/replication")["rules"] if r["bucket"] == src]
        return bool(rules) and rules[0]["failed"] == 1 and rules[0]["backlog"] == 0
    wait_for(failed, timeout=15)
    rule = next(r for r in _admin(regions, HANGZHOU, "/admin/replication")["rules"] if r["bucket"] == src)
    assert "integrity" in rule["last_failure"], rule
    with pytest.raises(ClientError):
        west.head_object(Bucket=dst, Key="rot")
