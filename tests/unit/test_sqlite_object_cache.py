"""The SQLite store's memory of latest versions (GET and HEAD read it): every commit empties it, a read
that raced a commit keeps nothing, reads during a commit go to SQLite, and it stays bounded."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.storage.meta.records import ObjectRecord, Segment
from nuage.storage.meta.sqlite import objects
from nuage.storage.meta.sqlite import store as store_module
from nuage.storage.meta.sqlite.db import connect
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteMetadataStore]:
    s = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    yield s
    s.close()


def record(key: str, body: bytes) -> ObjectRecord:
    return ObjectRecord(bucket="b", key=key, version_id="", size=len(body), etag=body.hex()[:32],
                        last_modified=time.time(), owner="o",
                        segments=[Segment("raw:" + body.decode("latin-1"), len(body))])


def put(s: SQLiteMetadataStore, key: str, body: bytes) -> None:
    asyncio.run(s.put_object(record(key, body), ""))


def etag(s: SQLiteMetadataStore, key: str) -> str | None:
    rec = asyncio.run(s.get_object("b", key))
    return None if rec is None else rec.etag


def test_reads_see_every_committed_write(store: SQLiteMetadataStore) -> None:
    assert etag(store, "k") is None            # a miss is remembered too ...
    put(store, "k", b"one")
    assert etag(store, "k") == b"one".hex()    # ... and forgotten at the commit
    assert etag(store, "k") == b"one".hex()    # from memory
    put(store, "k", b"two")
    assert etag(store, "k") == b"two".hex()
    asyncio.run(store.delete_object("b", "k", None, "", "o"))
    assert etag(store, "k") is None


def test_a_read_that_raced_a_commit_keeps_nothing(store: SQLiteMetadataStore,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    put(store, "k", b"old")
    real_latest = objects.latest
    raced = []

    def latest_then_commit(conn: sqlite3.Connection, bucket: str, key: str) -> ObjectRecord | None:
        rec = real_latest(conn, bucket, key)   # reads "old" ...
        if not raced:
            raced.append(True)
            # ... and "new" commits (through the writer thread) before the read stores its answer
            store._writer.run_sync(lambda c: c.execute("UPDATE objects SET etag='new' WHERE key='k'"))
        return rec

    monkeypatch.setattr(objects, "latest", latest_then_commit)
    assert etag(store, "k") == b"old".hex()    # that read answers what it read
    assert etag(store, "k") == "new"           # but kept nothing: the next read sees the commit


def test_reads_during_a_commit_go_to_sqlite(store: SQLiteMetadataStore, tmp_path: Path) -> None:
    put(store, "k", b"old")
    assert etag(store, "k") == b"old".hex()    # remembered
    other = connect(tmp_path / "meta.sqlite3", fsync=False)
    try:
        with store._commit_window():           # what the writer does around its COMMIT
            other.execute("UPDATE objects SET etag='changed' WHERE key='k'")
            assert etag(store, "k") == "changed"   # the COMMIT has landed: memory is not used
    finally:
        other.close()
    assert etag(store, "k") == "changed"


def test_the_memory_is_bounded(store: SQLiteMetadataStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MAX_CACHED_OBJECTS", 5)
    for i in range(12):
        etag(store, f"missing-{i}")
        assert len(store._objects) <= 5
    put(store, "big", b"x" * (store_module.MAX_CACHED_INLINE + 1))
    assert etag(store, "big") is not None
    assert ("b", "big") not in store._objects  # a large object kept in its row is not remembered


def test_a_quarantine_reaches_cached_records_at_once(store: SQLiteMetadataStore) -> None:
    """A version found damaged is flagged in the same process's memory as soon as the flag commits: the
    next read refuses it without reading the damaged bytes again. The bytes a cached record holds are
    those read from the row (a row damaged later is found when the record is read again after a commit)."""
    from nuage.storage.meta.records import ScrubItem

    put(store, "k", b"bytes")
    cached = asyncio.run(store.get_object("b", "k"))
    assert cached is not None and cached.segments[0].crc is None   # written without a CRC by this helper
    assert asyncio.run(store.get_object("b", "k")) is cached       # from memory
    item = ScrubItem(cached.seq, "b", "k", cached.version_id, cached.segments[0].blob, 1)
    assert asyncio.run(store.quarantine(item, "read", "CRC32C mismatch"))
    assert not asyncio.run(store.quarantine(item, "read", "CRC32C mismatch"))   # recorded once
    again = asyncio.run(store.get_object("b", "k"))
    assert again is not cached and again is not None and again.facts.quarantined
    assert [(r[0], r[1], r[2], r[5]) for r in store.quarantined()] == [(f"row:{cached.seq}", "b", "k", "read")]
