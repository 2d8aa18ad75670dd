"""Replication into another account's bucket needs that account's consent, as on AWS: the destination
bucket's policy must allow the source account (or its Role) s3:ReplicateObject, s3:ReplicateDelete for
delete markers, s3:ReplicateTags for tags, and s3:ObjectOwnerOverrideToBucketOwner for the owner override
(AccessControlTranslation). Checked when the rule is saved (AccessDenied) and again on every apply in the
destination region: a replica refused there is marked FAILED and never written; nothing of the
destination owner's is replaced or hidden. Each case runs with the destination in the source's region
and in another region."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.regions import HANGZHOU, WEST, Regions, start_regions, versioned_bucket, wait_for
from tests.support.server import NuageServer

OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]


@dataclass(frozen=True)
class Tenant:
    name: str
    account_id: str
    canonical_id: str
    client: Any
    region: str


def _tenant(server: NuageServer, region: str, name: str | None = None) -> Tenant:
    """A new account with a known account id (`nuage keys add`), usable at once by the running server."""
    name = name or f"tenant-{uuid.uuid4().hex[:10]}"
    account_id = str(secrets.randbelow(9 * 10**11) + 10**11)
    access, secret = "AK" + uuid.uuid4().hex[:18].upper(), uuid.uuid4().hex + uuid.uuid4().hex[:8]
    subprocess.run([sys.executable, "-m", "nuage.cli.main", "keys", "add", "--data", str(server.data_dir),
                    "--access-key", access, "--secret-key", secret, "--name", name, "--account-id", account_id],
                   check=True, capture_output=True,
                   env={**os.environ, "NUAGE_DB": server.db} if server.db else None)   # the server's metadata
    return Tenant(name, account_id, hashlib.sha256(name.encode()).hexdigest(),
                  server.client(access_key=access, secret_key=secret), region)


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    r = start_regions(tmp_path_factory.mktemp("consent"), {WEST: [HANGZHOU], HANGZHOU: [WEST]})
    yield r
    r.stop()


@dataclass(frozen=True)
class Setup:
    a: Tenant           # owns the source bucket (cn-hangzhou)
    b: Tenant           # owns the destination bucket
    src: str
    dst: str


@pytest.fixture(params=["same-region", "cross-region"])
def setup(request: pytest.FixtureRequest, regions: Regions) -> Setup:
    a = _tenant(regions[HANGZHOU], HANGZHOU)
    dest_region = HANGZHOU if request.param == "same-region" else WEST
    b = _tenant(regions[dest_region], dest_region)
    src, dst = _name("src"), _name("dst")
    versioned_bucket(a.client, src, HANGZHOU)
    versioned_bucket(b.client, dst, dest_region)
    return Setup(a, b, src, dst)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _rule(dst: str, *, prefix: str = "", delete_markers: bool = True, rule_id: str = "to-b",
          destination: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"ID": rule_id, "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": prefix},
            "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{dst}", **(destination or {})}}


def _replicate(s: Setup, *, role: str | None = None, **rule: Any) -> None:
    s.a.client.put_bucket_replication(Bucket=s.src, ReplicationConfiguration={
        "Role": role or f"arn:aws:iam::{s.a.account_id}:role/replication", "Rules": [_rule(s.dst, **rule)]})


def _grant(s: Setup, actions: list[str], *, principal: str | None = None,
           extra: list[dict[str, Any]] | None = None) -> None:
    statements = [{"Sid": "ReplicationFromA", "Effect": "Allow",
                   "Principal": {"AWS": principal or f"arn:aws:iam::{s.a.account_id}:root"},
                   "Action": actions, "Resource": f"arn:aws:s3:::{s.dst}/*"}]
    s.b.client.put_bucket_policy(Bucket=s.dst, Policy=json.dumps(
        {"Version": "2012-10-17", "Statement": statements + (extra or [])}))


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return str(exc.value.response["Error"]["Code"]), int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _status(client: Any, bucket: str, key: str, version: str) -> str | None:
    return client.head_object(Bucket=bucket, Key=key, VersionId=version).get("ReplicationStatus")


def _put(s: Setup, key: str, body: bytes) -> str:
    return str(s.a.client.put_object(Bucket=s.src, Key=key, Body=body)["VersionId"])


def _versions(client: Any, bucket: str) -> list[tuple[str, str, bool, str]]:
    """(key, version id, is delete marker, owner id) of every version of a bucket."""
    page = client.list_object_versions(Bucket=bucket)
    return sorted([(v["Key"], v["VersionId"], False, v["Owner"]["ID"]) for v in page.get("Versions", [])]
                  + [(m["Key"], m["VersionId"], True, m["Owner"]["ID"]) for m in page.get("DeleteMarkers", [])])


def _b_own_object(s: Setup) -> str:
    return str(s.b.client.put_object(Bucket=s.dst, Key="shared.txt", Body=b"B's own data")["VersionId"])


def _b_untouched(s: Setup, own_version: str, replicated: set[str]) -> None:
    """B's own object is still the latest, with its bytes; the bucket holds nothing else of A's."""
    got = s.b.client.get_object(Bucket=s.dst, Key="shared.txt")
    assert got["VersionId"] == own_version and got["Body"].read() == b"B's own data"
    versions = _versions(s.b.client, s.dst)
    assert not any(marker for _, _, marker, _ in versions)
    assert {v for _, v, _, _ in versions} == {own_version, *replicated}


# -- saving the rule ---------------------------------------------------------------------------------
def test_rule_into_another_accounts_bucket_is_refused_without_its_grant(setup: Setup) -> None:
    s = setup
    own = _b_own_object(s)
    with pytest.raises(ClientError) as exc:
        _replicate(s)
    assert _code(exc) == ("AccessDenied", 403)
    # a grant to someone else, or of the wrong actions, is no grant
    _grant(s, OBJECT_ACTIONS, principal="arn:aws:iam::123456789012:root")
    with pytest.raises(ClientError) as exc:
        _replicate(s)
    assert _code(exc) == ("AccessDenied", 403)
    _grant(s, ["s3:ReplicateObject"])         # delete markers need s3:ReplicateDelete too
    with pytest.raises(ClientError) as exc:
        _replicate(s)
    assert _code(exc) == ("AccessDenied", 403)
    # a Role ARN naming B's account is no principal of A's: B's grant to its own role does not let A in
    _grant(s, OBJECT_ACTIONS, principal=f"arn:aws:iam::{s.b.account_id}:role/b-replication")
    with pytest.raises(ClientError) as exc:
        _replicate(s, role=f"arn:aws:iam::{s.b.account_id}:role/b-replication")
    assert _code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:
        s.a.client.get_bucket_replication(Bucket=s.src)
    assert _code(exc) == ("ReplicationConfigurationNotFoundError", 404)
    _put(s, "shared.txt", b"A's data")
    time.sleep(0.5)
    _b_untouched(s, own, set())


def test_grant_to_the_account_or_its_role_allows_replication(setup: Setup) -> None:
    s = setup
    _grant(s, ["s3:ReplicateObject"], principal=s.a.account_id)
    _replicate(s, delete_markers=False)
    version = _put(s, "a1.txt", b"from A")
    wait_for(lambda: _status(s.a.client, s.src, "a1.txt", version) == "COMPLETED")
    # without the owner override the replica is the source object's owner's, as on AWS (so B may list it,
    # not read it: that is what the override is for)
    assert [(k, v, o) for k, v, _, o in _versions(s.b.client, s.dst)] == [("a1.txt", version, s.a.canonical_id)]
    # the rule's Role, when it is A's own, is a principal too
    role = f"arn:aws:iam::{s.a.account_id}:role/replication"
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"], principal=role)
    _replicate(s, role=role)
    marker = s.a.client.delete_object(Bucket=s.src, Key="a1.txt")["VersionId"]
    wait_for(lambda: any(v == marker for _, v, _, _ in _versions(s.b.client, s.dst)))


# -- every apply asks again ------------------------------------------------------------------------
def test_revoked_grant_stops_replication_and_never_touches_the_owners_objects(setup: Setup) -> None:
    s = setup
    own = _b_own_object(s)
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"])
    _replicate(s)
    first = _put(s, "a1.txt", b"from A")
    wait_for(lambda: _status(s.a.client, s.src, "a1.txt", first) == "COMPLETED")
    s.b.client.delete_bucket_policy(Bucket=s.dst)
    second = _put(s, "a2.txt", b"not wanted")
    overwrite = _put(s, "shared.txt", b"A's data")
    s.a.client.delete_object(Bucket=s.src, Key="shared.txt")
    last = _put(s, "shared.txt", b"A's data again")   # the rows of one key ship in order: the marker went first
    wait_for(lambda: _status(s.a.client, s.src, "a2.txt", second) == "FAILED")
    wait_for(lambda: _status(s.a.client, s.src, "shared.txt", last) == "FAILED")
    assert _status(s.a.client, s.src, "shared.txt", overwrite) == "FAILED"
    _b_untouched(s, own, {first})


def test_explicit_deny_in_the_destination_policy_wins(setup: Setup) -> None:
    s = setup
    deny_secret = {"Sid": "NoSecrets", "Effect": "Deny", "Principal": "*", "Action": "s3:ReplicateObject",
                   "Resource": f"arn:aws:s3:::{s.dst}/secret/*"}
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"], extra=[deny_secret])
    _replicate(s)
    public, secret = _put(s, "public/a.txt", b"ok"), _put(s, "secret/a.txt", b"no")
    wait_for(lambda: _status(s.a.client, s.src, "public/a.txt", public) == "COMPLETED")
    wait_for(lambda: _status(s.a.client, s.src, "secret/a.txt", secret) == "FAILED")
    assert [k for k, _, _, _ in _versions(s.b.client, s.dst)] == ["public/a.txt"]
    # a Deny of the whole bucket refuses the rule itself, whatever else the policy allows
    deny_all = {"Sid": "NoReplication", "Effect": "Deny", "Principal": {"AWS": s.a.account_id},
                "Action": "s3:Replicate*", "Resource": f"arn:aws:s3:::{s.dst}/*"}
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"], extra=[deny_all])
    with pytest.raises(ClientError) as exc:
        _replicate(s, rule_id="again")
    assert _code(exc) == ("AccessDenied", 403)


def test_owner_override_needs_its_own_grant(setup: Setup) -> None:
    s = setup
    override = {"Account": s.b.account_id, "AccessControlTranslation": {"Owner": "Destination"}}
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"])
    with pytest.raises(ClientError) as exc:
        _replicate(s, destination=override)
    assert _code(exc) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as exc:      # AWS: the override names the destination's account
        _replicate(s, destination={"AccessControlTranslation": {"Owner": "Destination"}})
    assert _code(exc) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as exc:
        _replicate(s, destination={"Account": s.a.account_id, "AccessControlTranslation": {"Owner": "Destination"}})
    assert _code(exc) == ("InvalidRequest", 400)
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ObjectOwnerOverrideToBucketOwner"])
    _replicate(s, destination=override)
    rule = s.a.client.get_bucket_replication(Bucket=s.src)["ReplicationConfiguration"]["Rules"][0]
    assert rule["Destination"]["AccessControlTranslation"] == {"Owner": "Destination"}
    version = _put(s, "owned.txt", b"B owns the replica")
    wait_for(lambda: _status(s.a.client, s.src, "owned.txt", version) == "COMPLETED")
    assert [o for k, _, _, o in _versions(s.b.client, s.dst)] == [s.b.canonical_id]
    assert s.b.client.get_object(Bucket=s.dst, Key="owned.txt")["Body"].read() == b"B owns the replica"
    # the override grant withdrawn: replicas that would be B's are refused, not written as A's
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"])
    later = _put(s, "later.txt", b"x")
    wait_for(lambda: _status(s.a.client, s.src, "later.txt", later) == "FAILED")
    assert [k for k, _, _, _ in _versions(s.b.client, s.dst)] == ["owned.txt"]


def test_tags_need_their_own_grant(setup: Setup) -> None:
    s = setup
    _grant(s, ["s3:ReplicateObject", "s3:ReplicateDelete"])
    _replicate(s)
    plain = _put(s, "plain.txt", b"x")
    tagged = str(s.a.client.put_object(Bucket=s.src, Key="tagged.txt", Body=b"y", Tagging="team=a")["VersionId"])
    wait_for(lambda: _status(s.a.client, s.src, "plain.txt", plain) == "COMPLETED")
    wait_for(lambda: _status(s.a.client, s.src, "tagged.txt", tagged) == "FAILED")
    assert [k for k, _, _, _ in _versions(s.b.client, s.dst)] == ["plain.txt"]


@pytest.mark.parametrize("dest_region", [HANGZHOU, WEST])
def test_same_account_needs_no_grant(regions: Regions, dest_region: str) -> None:
    """One account (across regions: the tenant of the same name, whatever its account id there) needs no
    grant; another account does."""
    a = _tenant(regions[HANGZHOU], HANGZHOU)
    a_there = a if dest_region == HANGZHOU else _tenant(regions[dest_region], dest_region, a.name)
    src, dst = _name("src"), _name("dst")
    versioned_bucket(a.client, src, HANGZHOU)
    versioned_bucket(a_there.client, dst, dest_region)
    a.client.put_bucket_replication(Bucket=src, ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/replication", "Rules": [_rule(dst)]})
    version = str(a.client.put_object(Bucket=src, Key="k", Body=b"v", Tagging="t=1")["VersionId"])
    wait_for(lambda: _status(a.client, src, "k", version) == "COMPLETED")
    assert [o for _, _, _, o in _versions(a_there.client, dst)] == [a_there.canonical_id]
    # the same rule from another tenant (of another name) is refused
    other = _tenant(regions[HANGZHOU], HANGZHOU)
    other_src = _name("src")
    versioned_bucket(other.client, other_src, HANGZHOU)
    with pytest.raises(ClientError) as exc:
        other.client.put_bucket_replication(Bucket=other_src, ReplicationConfiguration={
            "Role": "arn:aws:iam::000000000000:role/replication", "Rules": [_rule(dst)]})
    assert _code(exc) == ("AccessDenied", 403)
