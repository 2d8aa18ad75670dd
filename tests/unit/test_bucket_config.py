"""The registry of bucket configuration kinds: every kind's codec round-trips a value through a real
SQLite metadata store, the stored names and formats are those existing data folders hold, and every
kind's "not configured" error is answered by S3 with its own error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nuage.s3.errors as e
from nuage.core import bucket_config as bc
from nuage.core.buckets import BucketService
from nuage.core.cors import CORS, CORSRule
from nuage.core.lifecycle import LIFECYCLE, Filter, Rule, Transition
from nuage.core.lock_rules import OBJECT_LOCK, DefaultRetention, LockConfig
from nuage.core.replication import REPLICATION, ReplicationConfig
from nuage.core.replication import Rule as ReplicationRule
from nuage.core.sse import SSESpec
from nuage.errors import BucketNotFound, NoSuchBucketConfig
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.records import BucketRecord
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.types import VERSIONING_ENABLED

# One value of each kind, and the text stored for it (as data folders written before the registry hold).
SAMPLES: dict[str, tuple[Any, str]] = {
    "tagging": ({"team": "data", "env": "prod"}, '{"team": "data", "env": "prod"}'),
    "policy": ('{"Version": "2012-10-17", "Statement": []}', '{"Version": "2012-10-17", "Statement": []}'),
    "website": ({"index": "index.html"}, '{"index": "index.html"}'),
    "ownershipControls": ("BucketOwnerEnforced", "BucketOwnerEnforced"),
    "publicAccessBlock": ({"BlockPublicAcls": True}, '{"BlockPublicAcls": true}'),
    "acl": ("public-read", "public-read"),
    "encryption": (SSESpec("AES256"), '{"algorithm": "AES256", "kms_key_id": null, "bucket_key": false}'),
    "object-lock": (LockConfig(DefaultRetention("GOVERNANCE", days=3)),
                    '{"mode": "GOVERNANCE", "days": 3, "years": null}'),
    "cors": ([CORSRule(["GET"], ["*"])], '[{"allowed_methods": ["GET"], "allowed_origins": ["*"], '
                                        '"allowed_headers": [], "expose_headers": [], "max_age": null, "id": null}]'),
    "lifecycle": ([Rule("r1", "Enabled", Filter("prefix", "logs/"), expiration_days=7,
                        transitions=[Transition(days=1, storage_class="GLACIER")])], ""),
    "replication": (ReplicationConfig("arn:aws:iam::1:role/r", (ReplicationRule("r", "arn:aws:s3:::dst"),)), ""),
}


@pytest.fixture
def buckets(tmp_path: Path) -> Iterator[BucketService]:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    asyncio.run(meta.create_bucket(BucketRecord("bkt", "owner", "us-east-1", 0.0, VERSIONING_ENABLED)))
    yield BucketService(meta, LocalBlobStore(tmp_path, fsync=False, direct=False), "us-east-1")
    meta.close()


def test_the_registry_holds_every_kind_under_its_stored_name() -> None:
    assert set(bc.kinds()) == set(SAMPLES)
    defined = bc.kinds()
    assert [defined[n] for n in ("cors", "lifecycle", "object-lock", "replication")] == [
        CORS, LIFECYCLE, OBJECT_LOCK, REPLICATION]
    with pytest.raises(ValueError, match="two bucket configuration kinds"):
        bc.ConfigKind("cors", str, str)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_codec_round_trips_through_the_store(buckets: BucketService, name: str) -> None:
    kind = bc.kinds()[name]
    value, stored = SAMPLES[name]

    async def run() -> None:
        assert await buckets.config("bkt", kind) is None
        await buckets.set_config("bkt", kind, value)
        assert await buckets.config("bkt", kind) == value
        assert await buckets.require("bkt", kind) == value
        text = await buckets.meta.get_bucket_config("bkt", name)
        assert text is not None and kind.loads(text) == value
        if stored:
            assert json.loads(text) == json.loads(stored) if text[:1] in "[{" else text == stored
        await buckets.set_config("bkt", kind, None)
        assert await buckets.meta.get_bucket_config("bkt", name) is None

    asyncio.run(run())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_not_configured_is_one_error_that_s3_answers_per_kind(buckets: BucketService, name: str) -> None:
    kind = bc.kinds()[name]
    with pytest.raises(NoSuchBucketConfig) as info:
        asyncio.run(buckets.require("bkt", kind))
    assert info.value.kind == name
    if kind.absent is not None:          # a setting of its own (no ACL: private): never "not configured"
        assert kind not in e.CONFIG_MISSING
        return
    answer = e.from_domain(info.value)
    assert type(answer) is e.CONFIG_MISSING[kind] and answer.status == 404


def test_require_checks_the_bucket_first(buckets: BucketService) -> None:
    with pytest.raises(BucketNotFound):
        asyncio.run(buckets.require("nope", bc.TAGGING))


def test_an_object_lock_document_without_a_rule_reads_as_no_default_retention() -> None:
    assert OBJECT_LOCK.loads("{}") == LockConfig() and OBJECT_LOCK.dumps(LockConfig()) == "{}"


def test_an_unreadable_public_access_block_blocks_nothing() -> None:
    assert bc.PUBLIC_BLOCK.loads("not json") == {} and bc.PUBLIC_BLOCK.loads("[1]") == {}
