"""Usage counters and quotas in the SQLite store: migration 0004 backfills usage from existing versions,
counters follow puts, overwrites and deletes, and a lowered quota never refuses a write that shrinks."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from nuage.errors import QuotaExceeded
from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.types import VERSIONING_ENABLED, VERSIONING_OFF


def _obj(bucket: str, key: str, size: int) -> ObjectRecord:
    return ObjectRecord(bucket=bucket, key=key, version_id="", size=size, etag="e", last_modified=time.time(),
                        owner="o")


def test_migration_backfills_usage(tmp_path: Path) -> None:
    path = tmp_path / "meta.sqlite3"
    store = SQLiteMetadataStore(path, fsync=False)

    async def fill() -> None:
        await store.create_bucket(BucketRecord("b1", "o", "us-east-1", 0.0, VERSIONING_ENABLED))
        await store.create_bucket(BucketRecord("empty", "o", "us-east-1", 0.0))
        for size in (3, 5, 7):
            await store.put_object(_obj("b1", "k", size), VERSIONING_ENABLED)
        await store.delete_object("b1", "k", None, VERSIONING_ENABLED, "o")   # a delete marker
    asyncio.run(fill())
    assert asyncio.run(store.bucket_usage("b1")) == (15, 4)
    store.close()
    conn = sqlite3.connect(path)   # as a database from before migration 0004
    conn.executescript("DROP TABLE bucket_usage; DROP TABLE quotas; DELETE FROM schema_version WHERE version=4;")
    conn.close()
    store = SQLiteMetadataStore(path, fsync=False)
    try:
        assert asyncio.run(store.bucket_usage("b1")) == (15, 4)
        assert asyncio.run(store.bucket_usage("empty")) == (0, 0)
    finally:
        store.close()


def test_lowered_quota_still_allows_shrinking_overwrite(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)

    async def run() -> None:
        await store.create_bucket(BucketRecord("b", "o", "us-east-1", 0.0))
        await store.put_object(_obj("b", "k", 50), VERSIONING_OFF)
        await store.put_object(_obj("b", "j", 50), VERSIONING_OFF)
        await store.set_quota("bucket", "b", 60, 1)
        await store.put_object(_obj("b", "k", 10), VERSIONING_OFF)       # shrinks: allowed though over
        assert await store.bucket_usage("b") == (60, 2)
        with pytest.raises(QuotaExceeded):
            await store.put_object(_obj("b", "k", 11), VERSIONING_OFF)   # grows while over: refused
        with pytest.raises(QuotaExceeded):
            await store.put_object(_obj("b", "new", 0), VERSIONING_OFF)  # one more object: refused
        assert await store.bucket_usage("b") == (60, 2)
        await store.delete_object("b", "j", None, VERSIONING_OFF, "o")
        assert await store.bucket_usage("b") == (10, 1)
        await store.set_quota("bucket", "b", None, None)
        assert await store.get_quota("bucket", "b") is None
    try:
        asyncio.run(run())
    finally:
        store.close()
