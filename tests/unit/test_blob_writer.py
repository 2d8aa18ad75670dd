"""Blob writing: direct I/O (aligned staging buffers written by a thread, the tail shorter than a block
through the page cache) and buffered writes give the same files; refusals of direct I/O fall back;
aborts leave nothing."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nuage.storage.blobs import writer as writer_module
from nuage.storage.blobs.inline import is_inline
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.blobs.reader import READ_CHUNK, in_memory, read_ahead
from nuage.storage.blobs.writer import ALIGN, STAGE_SIZE
from nuage.types import BlobId

SIZES = [16 * 1024 + 1, ALIGN * 5, ALIGN * 5 + 1, STAGE_SIZE - 1, STAGE_SIZE, STAGE_SIZE + 1,
         3 * STAGE_SIZE + 12345]


def _write(store: LocalBlobStore, data: bytes, piece: int) -> BlobId:
    async def run() -> BlobId:
        writer = store.writer()
        for i in range(0, len(data), piece):
            await writer.write(data[i:i + piece])
        return await writer.finish()
    return asyncio.run(run())


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _direct_supported(folder: Path) -> bool:
    probe = folder / "direct-probe"
    probe.touch()
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_DIRECT))
        return True
    except OSError:
        return False
    finally:
        probe.unlink()


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("size", SIZES)
def test_files_hold_exactly_what_was_written(tmp_path: Path, direct: bool, size: int) -> None:
    store = LocalBlobStore(tmp_path, fsync=True, direct=direct)
    data = os.urandom(size)
    for piece in (1000, 256_000, size):   # arrival sizes: tiny, uvloop's reads, all at once
        blob = _write(store, data, piece)
        assert not is_inline(blob)
        assert store.path(blob).stat().st_size == size
        assert hashlib.md5(store.read_all(blob)).digest() == hashlib.md5(data).digest()
    assert os.listdir(store.tmp) == []
    assert not store.active


def test_a_durable_store_writes_directly_where_it_can(tmp_path: Path) -> None:
    """On a file system that takes O_DIRECT (ext4, xfs, btrfs) the store keeps using it; the file
    written has the right bytes either way."""
    store = LocalBlobStore(tmp_path, fsync=True)
    assert store.direct is _direct_supported(tmp_path)     # known from the start (a probe file)
    data = os.urandom(2 * STAGE_SIZE + 7)
    blob = _write(store, data, 65536)
    assert store.read_all(blob) == data
    assert store.direct is _direct_supported(tmp_path)
    assert os.listdir(store.tmp) == []                      # the probe is gone


def test_no_direct_io_without_fsync(tmp_path: Path) -> None:
    assert not LocalBlobStore(tmp_path, fsync=False).direct


def test_open_refused_falls_back_to_buffered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system that refuses O_DIRECT at open (tmpfs on older kernels, some network file
    systems) answers EINVAL: the blob is written buffered and the store stops asking."""
    real_open = os.open
    refused: list[int] = []

    def open_refusing_direct(path: Any, flags: int, mode: int = 0o777) -> int:
        if flags & os.O_DIRECT:
            refused.append(flags)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode)

    monkeypatch.setattr(writer_module.os, "open", open_refusing_direct)
    store = LocalBlobStore(tmp_path, fsync=True, direct=True)
    assert not store.direct                                  # refused when the store probed it
    data = os.urandom(STAGE_SIZE + 5)
    assert store.read_all(_write(store, data, 100_000)) == data
    assert not store.direct
    assert store.read_all(_write(store, data, 100_000)) == data
    assert len(refused) == 1


def test_write_refused_is_done_again_buffered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A direct write refused with EINVAL (a file system wanting a bigger alignment) is redone
    without O_DIRECT on the same file; the blob is whole and later blobs are written buffered."""
    real_pwrite = os.pwrite
    refused: list[int] = []

    def pwrite_refusing_direct(fd: int, data: Any, offset: int) -> int:
        import fcntl
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(writer_module.os, "pwrite", pwrite_refusing_direct)
    if not _direct_supported(tmp_path):
        pytest.skip("this file system does not take O_DIRECT")
    store = LocalBlobStore(tmp_path, fsync=True, direct=True)
    data = os.urandom(3 * STAGE_SIZE + 99)
    assert store.read_all(_write(store, data, 256_000)) == data
    assert refused and not store.direct


def test_abort_with_a_write_in_flight_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, fsync=True)
    before = _open_fds()

    async def run() -> None:
        writer = store.writer()
        await writer.write(os.urandom(3 * STAGE_SIZE + 1))   # one write in flight, one buffer filling
        writer.abort()
        for _ in range(200):                                  # the thread finishes; its callback closes
            if _open_fds() == before:
                break
            await asyncio.sleep(0.01)

    asyncio.run(run())
    assert _open_fds() == before
    assert os.listdir(store.tmp) == []
    assert not store.active
    assert sum(1 for _ in store.walk()) == 0


def test_staging_buffers_are_reused(tmp_path: Path) -> None:
    if not _direct_supported(tmp_path):
        pytest.skip("this file system does not take O_DIRECT")
    store = LocalBlobStore(tmp_path, fsync=True)
    _write(store, os.urandom(2 * STAGE_SIZE + 1), 65536)
    kept = list(store.stages._free)
    assert 1 <= len(kept) <= 2
    _write(store, os.urandom(2 * STAGE_SIZE + 1), 65536)
    assert sorted(map(id, store.stages._free)) == sorted(map(id, kept))


def _read(store: LocalBlobStore, blob: BlobId, offset: int, length: int | None) -> bytes:
    async def run() -> bytes:
        return b"".join([piece async for piece in store.read(blob, offset, length)])
    return asyncio.run(run())


@pytest.mark.parametrize(("offset", "length"), [(0, None), (1, None), (READ_CHUNK - 1, 2),
                                                (5, 3 * READ_CHUNK), (2 * READ_CHUNK + 3, None)])
def test_large_reads_with_read_ahead_return_the_bytes(tmp_path: Path, offset: int, length: int | None) -> None:
    store = LocalBlobStore(tmp_path, fsync=True)
    data = os.urandom(7 * READ_CHUNK + 555)
    blob = _write(store, data, 256_000)
    end = len(data) if length is None else offset + length
    assert _read(store, blob, offset, length) == data[offset:end]


def test_read_ahead_brings_what_follows_into_memory(tmp_path: Path) -> None:
    """A file written with direct I/O is not in the page cache; a large read asks the kernel for the
    pieces after the one it reads, so they are in memory by the time the read gets there."""
    seen = tmp_path / "seen"
    seen.write_bytes(b"x" * ALIGN)
    with seen.open("rb") as f:
        f.read()
        if in_memory(f.fileno(), 0) is not True:
            pytest.skip("this file system does not answer RWF_NOWAIT reads (tmpfs: EOPNOTSUPP)")
    store = LocalBlobStore(tmp_path, fsync=True)
    blob = _write(store, os.urandom(8 * READ_CHUNK), 256_000)
    fd = os.open(store.path(blob), os.O_RDONLY)
    try:
        far = 6 * READ_CHUNK
        if in_memory(fd, far):
            pytest.skip("written through the page cache here (no O_DIRECT on this file system)")
        assert read_ahead(fd, 0, far + 1, 0) == far + 1            # the rest of a read ending there
        assert read_ahead(fd, 0, far + 1, far + 1) == far + 1      # asked already: nothing more
        probes = [0, far // 2, far]
        deadline = time.monotonic() + 5
        while not all(in_memory(fd, p) for p in probes) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [p for p in probes if not in_memory(fd, p)] == []
    finally:
        os.close(fd)


def test_many_writers_at_once_beyond_the_pool(tmp_path: Path) -> None:
    """More large uploads at once than the pool keeps buffers for: each blob whole, nothing left."""
    store = LocalBlobStore(tmp_path, fsync=True)
    datas = [os.urandom(2 * STAGE_SIZE + i) for i in range(24)]

    async def one(data: bytes) -> BlobId:
        writer = store.writer()
        for i in range(0, len(data), 200_000):
            await writer.write(data[i:i + 200_000])
            await asyncio.sleep(0)
        return await writer.finish()

    async def run() -> list[BlobId]:
        return list(await asyncio.gather(*(one(d) for d in datas)))

    blobs = asyncio.run(run())
    assert [store.read_all(b) for b in blobs] == datas
    assert len(store.stages._free) <= store.stages.keep
    assert os.listdir(store.tmp) == []


@pytest.mark.parametrize(("env", "expected"), [(None, True), ("0", False), ("1", True)])
def test_nuage_direct_io_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 env: str | None, expected: bool) -> None:
    from nuage.config import settings_from_env
    from nuage.server import open_stores

    if env is None:
        monkeypatch.delenv("NUAGE_DIRECT_IO", raising=False)
    else:
        monkeypatch.setenv("NUAGE_DIRECT_IO", env)
    monkeypatch.delenv("NUAGE_FSYNC", raising=False)
    meta, blobs = open_stores(settings_from_env(data_dir=tmp_path))
    try:
        assert blobs.direct is (expected and _direct_supported(tmp_path))
    finally:
        meta.close()


def test_finish_cancelled_while_syncing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A finish cancelled while its thread makes the file durable (a shutdown's deadline): the thread
    keeps its fd to the end (it is not closed under it), then the aborted blob is removed."""
    real_fsync = os.fsync
    started = threading.Event()
    errors: list[OSError] = []

    def slow_fsync(fd: int) -> None:
        started.set()
        time.sleep(0.2)
        try:
            real_fsync(fd)
        except OSError as exc:
            errors.append(exc)
            raise

    monkeypatch.setattr(writer_module.os, "fsync", slow_fsync)
    store = LocalBlobStore(tmp_path, fsync=True)
    before = _open_fds()

    def leftovers() -> list[str]:
        return os.listdir(store.tmp) + [name for name, _ in store.walk()]

    async def run() -> None:
        writer = store.writer()
        await writer.write(os.urandom(STAGE_SIZE + 100))
        task = asyncio.ensure_future(writer.finish())
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.abort()
        deadline = time.monotonic() + 5
        while (leftovers() or _open_fds() != before) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    asyncio.run(run())
    assert errors == []
    assert leftovers() == []
    assert _open_fds() == before


def test_writes_do_not_wait_for_the_shared_thread_pool(tmp_path: Path) -> None:
    """Long jobs (SQL, S3 Select) can fill the event loop's shared pool; uploads have threads of their
    own for their disk work, so a blob is still written and made durable meanwhile."""
    store = LocalBlobStore(tmp_path, fsync=True)
    release = threading.Event()
    data = os.urandom(3 * STAGE_SIZE + 5)

    async def run() -> BlobId:
        loop = asyncio.get_running_loop()
        busy = [loop.run_in_executor(None, release.wait) for _ in range(64)]   # every shared thread
        try:
            async def write() -> BlobId:
                writer = store.writer()
                for i in range(0, len(data), 256_000):
                    await writer.write(data[i:i + 256_000])
                return await writer.finish()
            return await asyncio.wait_for(write(), timeout=10)
        finally:
            release.set()
            await asyncio.gather(*busy)

    assert store.read_all(asyncio.run(run())) == data
    store.close()


def test_read_ahead_asks_in_steps_up_to_the_end(tmp_path: Path) -> None:
    from nuage.storage.blobs.reader import READ_AHEAD, READ_AHEAD_STEP

    path = tmp_path / "f"
    path.write_bytes(b"x" * ALIGN)
    fd = os.open(path, os.O_RDONLY)
    try:
        end = 100 * READ_CHUNK
        first = READ_CHUNK + READ_AHEAD
        assert read_ahead(fd, 0, end, 0) == first                                # the first piece and beyond
        assert read_ahead(fd, READ_CHUNK, end, first) == first                   # less than a step more: later
        step_at = READ_AHEAD_STEP
        assert read_ahead(fd, step_at, end, first) == first + READ_AHEAD_STEP    # a step more: asked
        assert read_ahead(fd, end - 2 * READ_CHUNK, end, end - READ_CHUNK) == end   # the rest, however short
        assert read_ahead(fd, end - READ_CHUNK, end, end) == end
    finally:
        os.close(fd)


def test_cold_reads_stream_and_close_cleanly(tmp_path: Path) -> None:
    """Files just written with direct I/O are read (by the I/O threads when not in memory) whole, by
    several readers at once; a stream closed after its first piece leaves no descriptor open."""
    store = LocalBlobStore(tmp_path, fsync=True)
    datas = [os.urandom(5 * READ_CHUNK + i) for i in range(4)]
    blobs = [_write(store, d, 256_000) for d in datas]
    before = _open_fds()

    async def whole(blob: BlobId) -> bytes:
        return b"".join([piece async for piece in store.read(blob)])

    async def run() -> list[bytes]:
        stream = store.read(blobs[0])
        first = await stream.__anext__()
        assert first == datas[0][:READ_CHUNK]
        await stream.aclose()
        got = list(await asyncio.gather(*(whole(b) for b in blobs)))
        deadline = time.monotonic() + 5
        while _open_fds() != before and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return got

    assert asyncio.run(run()) == datas
    assert _open_fds() == before
