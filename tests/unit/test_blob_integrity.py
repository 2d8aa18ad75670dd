"""Whole-blob CRC32C: taken while a blob is written (direct, buffered or inline), checked by a read of
the whole blob before its last piece is handed out, so a damaged blob never streams out complete; chunk
CRCs checked by range reads; a scrub finds damage, missing files and blobs without a CRC on real files
and a real SQLite store."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from awscrt.checksums import crc32c

from nuage.storage.blobs.inline import is_inline
from nuage.storage.blobs.integrity import CRC_CHUNK, BlobCorrupt
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.blobs.reader import READ_CHUNK
from nuage.storage.meta.records import ObjectRecord, Segment
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.storage.scrub import scrub
from nuage.types import BlobId


def _write(store: LocalBlobStore, data: bytes, piece: int = 100_000) -> tuple[BlobId, int]:
    async def run() -> tuple[BlobId, int]:
        writer = store.writer()
        for i in range(0, len(data), piece):
            await writer.write(data[i:i + piece])
        return await writer.finish(), writer.crc
    return asyncio.run(run())


def _read(store: LocalBlobStore, blob: str, crc: int | None, offset: int = 0,
          length: int | None = None) -> tuple[bytes, BaseException | None]:
    """What a reader got before the stream ended, and how it ended."""
    got = bytearray()

    async def run() -> None:
        async for piece in store.read(blob, offset, length, crc):
            got.extend(piece)
    try:
        asyncio.run(run())
    except BlobCorrupt as exc:
        return bytes(got), exc
    return bytes(got), None


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("size", [10, 16 * 1024, 16 * 1024 + 1, READ_CHUNK, 2 * READ_CHUNK + 5])
def test_the_crc_is_taken_while_writing(tmp_path: Path, direct: bool, size: int) -> None:
    store = LocalBlobStore(tmp_path, direct=direct)
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    blob, crc = _write(store, data)
    assert crc == crc32c(data)
    assert _read(store, blob, crc) == (data, None)


@pytest.mark.parametrize("where", [0, READ_CHUNK - 1, READ_CHUNK, 2 * READ_CHUNK + 4])
def test_a_damaged_file_never_streams_out_whole(tmp_path: Path, where: int) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    data = bytes(2 * READ_CHUNK + 5)
    blob, crc = _write(store, data)
    with open(store.path(blob), "r+b") as f:
        f.seek(where)
        f.write(b"\x01")
    got, err = _read(store, blob, crc)
    assert isinstance(err, BlobCorrupt) and err.blob_id == blob
    assert len(got) == 2 * READ_CHUNK   # every piece but the last: the last one is never handed out
    # a range read cannot be checked against the whole blob's CRC: served as stored
    assert _read(store, blob, None, 1, 10)[1] is None


def test_a_truncated_file_is_damage_when_checked(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    blob, crc = _write(store, bytes(50_000))
    with open(store.path(blob), "r+b") as f:
        f.truncate(40_000)

    async def run() -> None:
        async for _ in store.read(blob, 0, 50_000, crc):
            pass
    with pytest.raises(BlobCorrupt):
        asyncio.run(run())


def test_a_damaged_inline_blob_is_refused_before_any_byte(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    blob, crc = _write(store, b"small bytes")
    assert is_inline(blob)
    damaged = blob[:-1] + chr(ord(blob[-1]) ^ 1)
    got, err = _read(store, damaged, crc)
    assert got == b"" and isinstance(err, BlobCorrupt)
    assert _read(store, blob, crc) == (b"small bytes", None)


def _put(meta: SQLiteMetadataStore, key: str, segments: list[Segment], size: int) -> ObjectRecord:
    rec = ObjectRecord(bucket="b", key=key, version_id="", size=size, etag="e", last_modified=1.0, owner="o",
                       segments=segments)
    return asyncio.run(meta.put_object(rec, ""))[0]


def test_scrub_finds_damage_and_missing_files_and_counts_unverifiable(tmp_path: Path) -> None:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    store = LocalBlobStore(tmp_path, fsync=False)
    try:
        good, good_crc = _write(store, bytes(100_000))
        bad, bad_crc = _write(store, bytes(100_000))
        gone, gone_crc = _write(store, bytes(100_000))
        old, _ = _write(store, bytes(100_000))
        row, row_crc = _write(store, b"kept in the row")
        _put(meta, "good", [Segment(good, 100_000, good_crc)], 100_000)
        bad_rec = _put(meta, "bad", [Segment(bad, 100_000, bad_crc)], 100_000)
        _put(meta, "gone", [Segment(gone, 100_000, gone_crc)], 100_000)
        _put(meta, "old", [Segment(old, 100_000, None)], 100_000)
        _put(meta, "row", [Segment(row, 15, row_crc)], 15)
        with open(store.path(bad), "r+b") as f:
            f.seek(99_999)
            f.write(b"\x80")
        store.path(gone).unlink()
        db = sqlite3.connect(tmp_path / "meta.sqlite3")
        db.execute("UPDATE objects SET segments=? WHERE key='row'", (b"kept in the rOw",))
        db.commit()
        db.close()

        report = scrub(meta, store, rate=None)
        assert {f.item.key: f.earlier for f in report.damaged} == {"bad": False, "gone": False, "row": False}
        assert report.unverifiable == 1 and report.blobs == 4
        assert (store.quarantine_dir / bad).read_bytes() == store.path(bad).read_bytes()   # evidence kept
        flagged = asyncio.run(meta.get_object("b", "bad"))
        assert flagged is not None and flagged.facts.quarantined and flagged.seq == bad_rec.seq
        assert {r[0] for r in meta.quarantined()} >= {bad, gone}
        # a second scrub reports them as known, without reading them again
        again = scrub(meta, store, rate=None)
        assert {f.item.key for f in again.damaged} == {"bad", "gone", "row"} and not again.found
        assert again.blobs == 1
    finally:
        meta.close()
        store.close()


def test_scrub_reads_at_the_rate_asked(tmp_path: Path) -> None:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    store = LocalBlobStore(tmp_path, fsync=False)
    try:
        for i in range(4):
            blob, crc = _write(store, bytes(500_000))
            _put(meta, f"k{i}", [Segment(blob, 500_000, crc)], 500_000)
        start = time.monotonic()
        report = scrub(meta, store, rate=4_000_000)   # 2 MB at 4 MB/s: about half a second
        assert time.monotonic() - start >= 0.45
        assert report.bytes == 2_000_000 and not report.damaged
    finally:
        meta.close()
        store.close()


def test_rows_in_the_segments_json_keep_their_crc(tmp_path: Path) -> None:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    try:
        _put(meta, "mp", [Segment("a" * 32, 10, 7), Segment("b" * 32, 5, None)], 15)
        db = sqlite3.connect(tmp_path / "meta.sqlite3")
        (segments,) = db.execute("SELECT segments FROM objects WHERE key='mp'").fetchone()
        db.close()
        assert json.loads(segments) == [["a" * 32, 10, 7], ["b" * 32, 5]]
        rec = asyncio.run(meta.get_object("b", "mp"))
        assert rec is not None and [s.crc for s in rec.segments] == [7, None]
    finally:
        meta.close()


@pytest.mark.parametrize("size", [CRC_CHUNK, CRC_CHUNK + 1, 3 * CRC_CHUNK, 5 * CRC_CHUNK - 7])
def test_chunk_crcs_are_taken_while_writing(tmp_path: Path, size: int) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    data = bytes(range(256)) * (size // 256) + b"y" * (size % 256)

    async def run() -> bytes | None:
        writer = store.writer()
        for i in range(0, size, 10_000):
            await writer.write(data[i:i + 10_000])
        await writer.finish()
        return writer.chunk_crcs
    crcs = asyncio.run(run())
    if size <= CRC_CHUNK:
        assert crcs is None   # one chunk: a range read checks the whole blob
        return
    assert crcs == b"".join(crc32c(data[i:i + CRC_CHUNK]).to_bytes(4, "big") for i in range(0, size, CRC_CHUNK))


@pytest.mark.parametrize("offset,length", [(0, 1), (CRC_CHUNK - 1, 2), (CRC_CHUNK + 100, 2 * CRC_CHUNK),
                                           (5 * CRC_CHUNK - 8, 1)])
def test_range_reads_check_the_chunks_they_cover(tmp_path: Path, offset: int, length: int) -> None:
    store = LocalBlobStore(tmp_path, fsync=False)
    size = 5 * CRC_CHUNK - 7
    data = bytes(i % 251 for i in range(size))
    blob, _ = _write(store, data)
    crcs = b"".join(crc32c(data[i:i + CRC_CHUNK]).to_bytes(4, "big") for i in range(0, size, CRC_CHUNK))
    first, last = offset // CRC_CHUNK, (offset + length - 1) // CRC_CHUNK

    async def read() -> bytes:
        return b"".join([p async for p in store.read_checked(blob, size, offset, length,
                                                             crcs[4 * first:4 * last + 4])])
    assert asyncio.run(read()) == data[offset:offset + length]
    damaged = last * CRC_CHUNK + 5   # in the last chunk the range covers
    with open(store.path(blob), "r+b") as f:
        f.seek(damaged)
        f.write(bytes([data[damaged] ^ 0x20]))
    with pytest.raises(BlobCorrupt):
        asyncio.run(read())


def test_chunk_crcs_are_kept_with_the_blob_and_dropped_with_it(tmp_path: Path) -> None:
    big = SQLiteMetadataStore(tmp_path / "big.sqlite3", fsync=False)
    try:   # more chunks than are kept in memory: read from the table, only those asked for
        many = os.urandom(4 * 5000)
        _put(big, "k", [Segment("d" * 32, 5000 * CRC_CHUNK, 1, many)], 5000 * CRC_CHUNK)
        assert big.blob_chunk_crcs("d" * 32, 4000, 3) == many[16000:16012]
        assert big.blob_chunk_crcs("d" * 32, 4999, 2) is None
    finally:
        big.close()
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    try:
        crcs = bytes(range(40))   # ten chunks' worth (kept in memory after the first look-up)
        _put(meta, "k", [Segment("c" * 32, 10 * CRC_CHUNK, 1, crcs)], 10 * CRC_CHUNK)
        assert meta.blob_chunk_crcs("c" * 32, 0, 10) == crcs
        assert meta.blob_chunk_crcs("c" * 32, 3, 2) == crcs[12:20]
        assert meta.blob_chunk_crcs("c" * 32, 9, 2) is None   # beyond what was kept
        _put(meta, "k", [Segment("raw:small", 5, 2)], 5)        # overwritten: the old blob is released
        db = sqlite3.connect(tmp_path / "meta.sqlite3")
        assert db.execute("SELECT count(*) FROM blob_chunks").fetchone()[0] == 0
        db.close()
    finally:
        meta.close()
