"""The local blob store is a :class:`BlobStore` and its writer a :class:`BlobSink`: checked statically
(mypy on this file: the typed helpers below assign the concrete classes to the protocols), at run time
(the protocols are runtime checkable), and member by member against the concrete signatures, so the
protocol cannot drift from what the services are given."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.storage.blobs.base import BlobSink, BlobStore
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.blobs.writer import BlobWriter
from nuage.types import BlobId


def _as_store(store: LocalBlobStore) -> BlobStore:
    return store    # mypy: LocalBlobStore satisfies BlobStore structurally


def _as_sink(writer: BlobWriter) -> BlobSink:
    return writer   # mypy: BlobWriter satisfies BlobSink structurally


def _members(protocol: type) -> list[str]:
    return sorted(name for name, value in vars(protocol).items()
                  if not name.startswith("_") and (callable(value) or isinstance(value, property)))


def _parameters(function: object) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults (the types are mypy's to compare: annotations may spell them differently)."""
    assert callable(function)
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BlobStore]:
    local = LocalBlobStore(tmp_path, fsync=False, inline_max=0)
    yield _as_store(local)
    local.close()


def test_local_store_and_writer_are_instances_of_the_protocols(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)
    writer = store.writer()
    try:
        assert isinstance(writer, BlobSink)
    finally:
        writer.abort()


@pytest.mark.parametrize(("protocol", "concrete"), [(BlobStore, LocalBlobStore), (BlobSink, BlobWriter)])
def test_protocol_methods_take_what_the_concrete_ones_take(protocol: type, concrete: type) -> None:
    assert _members(protocol), "the protocol declares no members"
    for name in _members(protocol):
        declared = vars(protocol)[name]
        if isinstance(declared, property):
            continue    # an instance attribute or a property of the concrete class: checked by isinstance
        assert _parameters(declared) == _parameters(getattr(concrete, name)), name


def test_a_blob_round_trips_through_the_protocol(store: BlobStore) -> None:
    data = b"0123456789" * 1000

    async def run() -> tuple[BlobId, bytes, bytes]:
        writer = store.writer()
        await writer.write(data[:4000])
        await writer.write(memoryview(data)[4000:])
        assert writer.crc != 0 and writer.chunk_crcs is None   # one chunk: no per-chunk CRCs
        blob = await writer.finish()
        whole = b"".join([piece async for piece in store.read(blob, crc=writer.crc)])
        part = b"".join([piece async for piece in store.read(blob, 10, 25)])
        return blob, whole, part

    blob, whole, part = asyncio.run(run())
    assert whole == data and part == data[10:35]
    assert store.path(blob).is_file() and store.path(blob).is_relative_to(store.root)
    assert store.hold([blob])
    store.delete([blob])
    assert store.path(blob).exists()        # held: deleted when released
    store.release([blob])
    assert not store.path(blob).exists()
