"""Holds on blobs: a blob deleted while a read holds it stays until the last hold goes; a hold is only
taken on blobs that are still there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nuage.storage.blobs.inline import inline_id
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.types import BlobId


def _blob(store: LocalBlobStore, data: bytes) -> BlobId:
    async def write() -> BlobId:
        writer = store.writer()
        await writer.write(data)
        return await writer.finish()
    return asyncio.run(write())


def test_delete_waits_for_the_last_hold(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False, inline_max=0)
    blob = _blob(store, b"x" * 100)
    assert store.hold([blob]) and store.hold([blob])
    store.delete([blob])
    assert store.path(blob).exists()
    store.release([blob])
    assert store.path(blob).exists()        # one read still holds it
    store.release([blob])
    assert not store.path(blob).exists()
    assert store.held() == 0


def test_released_blobs_are_deleted_as_usual(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False, inline_max=0)
    blob = _blob(store, b"y" * 100)
    assert store.hold([blob])
    store.release([blob])
    assert store.path(blob).exists()        # never deleted: releasing does not delete
    store.delete([blob])
    assert not store.path(blob).exists()


def test_no_hold_on_a_blob_already_gone(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False, inline_max=0)
    kept, gone = _blob(store, b"a" * 10), _blob(store, b"b" * 10)
    store.delete([gone])
    assert not store.hold([kept, gone])
    assert store.held() == 0                # nothing half-held
    store.delete([kept])
    assert not store.path(kept).exists()


def test_inline_blobs_need_no_hold(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    small = inline_id(b"tiny")
    assert store.hold([small])
    assert store.held() == 0
    store.release([small])
    store.delete([small])
