"""The core authorization decision (nuage.core.access) on real services over a real SQLite store: the owner's
fast path, bucket policies and their explicit denies, ACLs, missing buckets and objects, the expected bucket
owner, owner-only operations, the caller's own account for the service and new buckets, object ownership
controls, copy sources, RestrictPublicBuckets, and the check SQL jobs ask (``may``)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nuage.core.access import (
    AccessQuery,
    Decision,
    Need,
    Owner,
    base_conditions,
    bucket_policy,
    decide,
    may,
    policy_is_public,
    public_block,
)
from nuage.core.buckets import BucketService
from nuage.core.iam import IAM, SecretBox
from nuage.core.identities import Identities, Identity
from nuage.core.objects import ObjectService
from nuage.core.policy import bucket_arn, object_arn, parse_policy
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.types import VERSIONING_ENABLED

OWNER, OTHER = "a" * 64, "b" * 64


@dataclass
class World:
    buckets: BucketService
    objects: ObjectService
    identities: Identities
    meta: SQLiteMetadataStore
    iam: IAM

    def who(self, access_key: str) -> Identity:
        ident = self.identities.lookup(access_key)
        assert ident is not None
        return ident

    def run(self, query: AccessQuery) -> Decision:
        return asyncio.run(decide(self, query))

    def config(self, bucket: str, kind: str, value: str | None) -> None:
        asyncio.run(self.meta.put_bucket_config(bucket, kind, value))

    def put(self, bucket: str, key: str, owner: str, *, delete_marker: bool = False,
            tags: dict[str, str] | None = None) -> str:
        """Store a new current version; its version id."""
        rec = ObjectRecord(bucket=bucket, key=key, version_id="", size=1, etag="e", last_modified=time.time(),
                           owner=owner, delete_marker=delete_marker, tags=tags or {})
        asyncio.run(self.meta.put_object(rec, VERSIONING_ENABLED))
        found = asyncio.run(self.objects.find(bucket, key))
        assert found is not None
        return found.version_id


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    blobs = LocalBlobStore(tmp_path, fsync=False, direct=False)
    iam = IAM(meta.iam, SecretBox.load(tmp_path))
    owner = iam.ensure_account(OWNER, "owner-co")
    other = iam.ensure_account(OTHER, "other-co")
    iam.put_root_key(owner, "OWNERROOT", "s1")
    iam.put_user_key(owner, "alice", "ALICE", "s2")
    iam.put_root_key(other, "OTHERROOT", "s3")
    w = World(BucketService(meta, blobs, "us-east-1"), ObjectService(meta, blobs),
              Identities(meta, ttl=0, source=iam.lookup, policy_source=iam.identity_policies), meta, iam)
    asyncio.run(meta.create_bucket(BucketRecord("bkt", OWNER, "us-east-1", 0.0, VERSIONING_ENABLED)))
    asyncio.run(meta.create_bucket(BucketRecord("src", OTHER, "us-east-1", 0.0, VERSIONING_ENABLED)))
    yield w
    meta.close()


def _policy(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _get(caller: Identity | None, key: str = "k", bucket: str = "bkt", **kw: object) -> AccessQuery:
    return AccessQuery(caller, (Need("s3:GetObject", object_arn(bucket, key)),), bucket, **kw)  # type: ignore[arg-type]


def test_owner_fast_path_and_private_bucket(world: World) -> None:
    world.put("bkt", "k", OWNER)
    got = world.run(_get(world.who("OWNERROOT")))
    assert got.allowed and got.reason.startswith("owner fast path")
    denied = world.run(_get(None))
    assert not denied.allowed and not denied.bucket_missing
    assert "anonymous" in denied.reason
    assert not world.run(_get(world.who("OTHERROOT"))).allowed
    assert not world.run(_get(world.who("ALICE"))).allowed     # a user of the owner's account: no policy yet


def test_identity_policy_and_explicit_deny_in_bucket_policy(world: World) -> None:
    world.put("bkt", "k", OWNER)
    alice = world.who("ALICE")
    world.iam.put_policy(alice.account_id, "user", "alice", "read", _policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/*"}))
    assert world.run(_get(alice)).allowed
    world.config("bkt", "policy", _policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/k"}))
    got = world.run(_get(alice))
    assert not got.allowed and got.reason.endswith("explicit deny in the bucket policy")
    # the owner's root user is no longer on the fast path: the policy denies it too
    assert not world.run(_get(world.who("OWNERROOT"))).allowed


def test_public_policy_conditions_and_restrict_public_buckets(world: World) -> None:
    world.put("bkt", "k", OWNER)
    public = _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                      "Resource": "arn:aws:s3:::bkt/*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    world.config("bkt", "policy", public)
    policy = asyncio.run(bucket_policy(world, "bkt"))
    assert policy is not None and policy_is_public(policy)
    https = _get(None, conditions=lambda: base_conditions(secure=True))
    assert world.run(https).allowed
    assert not world.run(_get(None, conditions=lambda: base_conditions(secure=False))).allowed
    world.config("bkt", "publicAccessBlock", json.dumps({"RestrictPublicBuckets": True}))
    assert asyncio.run(public_block(world, "bkt")) == {"RestrictPublicBuckets": True}
    got = world.run(https)
    assert not got.allowed and "RestrictPublicBuckets" in got.reason


def test_missing_bucket_object_and_expected_owner(world: World) -> None:
    root = world.who("OWNERROOT")
    gone = world.run(_get(root, bucket="nope"))
    assert gone.bucket_missing and not gone.allowed
    # a missing object (or a delete marker) is decided by s3:ListBucket with s3:prefix set to its key
    world.put("bkt", "dm", OWNER, delete_marker=True)
    world.config("bkt", "policy", _policy({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                                           "Resource": "arn:aws:s3:::bkt",
                                           "Condition": {"StringEquals": {"s3:prefix": "dm"}}}))
    assert world.run(_get(None, "dm")).allowed
    refused = world.run(_get(None, "missing"))
    assert not refused.allowed and "s3:ListBucket" in refused.reason
    mismatch = world.run(_get(root, "dm", expected_owner="999999999999"))
    assert not mismatch.allowed and "expected bucket owner" in mismatch.reason
    assert world.run(_get(root, "dm", expected_owner=root.account_id)).allowed


def test_owner_only_and_own_account(world: World) -> None:
    root, alice = world.who("OWNERROOT"), world.who("ALICE")
    only = AccessQuery(root, (), "bkt", owner_only=True)
    assert world.run(only).allowed
    assert not world.run(AccessQuery(world.who("OTHERROOT"), (), "bkt", owner_only=True)).allowed
    create = AccessQuery(alice, (Need("s3:CreateBucket", bucket_arn("new")),), None)
    assert not world.run(create).allowed
    assert not world.run(AccessQuery(None, (), None)).allowed
    assert world.run(AccessQuery(root, create.needs, None)).allowed
    world.iam.put_policy(alice.account_id, "user", "alice", "create", _policy(
        {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "*"}))
    assert world.run(create).allowed


def test_new_objects_follow_ownership_controls(world: World) -> None:
    world.config("bkt", "acl", "public-read-write")
    other = world.who("OTHERROOT")
    put = AccessQuery(other, (Need("s3:PutObject", object_arn("bkt", "new")),), "bkt", creates_object=True)
    got = world.run(put)
    assert got.allowed and got.new_owner is None          # no ownership controls: the writer owns it
    world.config("bkt", "ownershipControls", "BucketOwnerPreferred")
    assert world.run(put).new_owner is None
    preferred = AccessQuery(other, put.needs, "bkt", creates_object=True, canned_acl="bucket-owner-full-control")
    assert world.run(preferred).new_owner == Owner(OWNER, "owner-co")
    world.config("bkt", "ownershipControls", "BucketOwnerEnforced")
    assert not world.run(put).allowed                     # ACLs are disabled: the public-read-write grant is void
    root = world.who("OWNERROOT")
    mine = world.run(AccessQuery(root, put.needs, "bkt", creates_object=True))
    assert mine.allowed and mine.new_owner is None


def test_copy_source_version_and_existing_object_owner(world: World) -> None:
    v1 = world.put("src", "obj", OTHER, tags={"team": "x"})
    v2 = world.put("src", "obj", OTHER, tags={"team": "y"})
    world.config("src", "policy", _policy({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{world.who('OWNERROOT').account_id}:root"},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::src/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/team": "y"}}}))
    root = world.who("OWNERROOT")
    copy = AccessQuery(root, (Need("s3:PutObject", object_arn("bkt", "dst")),
                              Need("s3:GetObject", object_arn("src", "obj"), None, True)), "bkt")
    got = world.run(copy)
    assert got.allowed and got.source_version == v2      # decided on (and so to be read at) the current version
    older = AccessQuery(root, (copy.needs[0], Need("s3:GetObjectVersion", object_arn("src", "obj"), v1, True)),
                        "bkt")
    assert not world.run(older).allowed                     # v1's tags do not match the condition


def test_may_for_background_jobs(world: World) -> None:
    world.put("bkt", "k", OWNER)
    root, other = world.who("OWNERROOT"), world.who("OTHERROOT")
    assert asyncio.run(may(world, root, "s3:GetObject", "bkt", "k", {}))
    assert not asyncio.run(may(world, other, "s3:GetObject", "bkt", "k", {}))
    assert not asyncio.run(may(world, root, "s3:ListBucket", "nope", None, {}))    # a missing bucket
    world.config("bkt", "policy", _policy({"Effect": "Allow", "Principal": {"AWS": other.account_id},
                                           "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bkt"}))
    assert asyncio.run(may(world, other, "s3:ListBucket", "bkt", None, {}))


def test_base_conditions() -> None:
    keys = base_conditions(secure=False, source_ip="10.0.0.1", now=0.0)
    assert keys == {"aws:SourceIp": ["10.0.0.1"], "aws:SecureTransport": ["false"],
                    "aws:CurrentTime": ["1970-01-01T00:00:00Z"], "aws:EpochTime": ["0"]}
    assert "aws:SourceIp" not in base_conditions(secure=True)
    assert policy_is_public(parse_policy(_policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::b/*"}), kind="bucket"))
