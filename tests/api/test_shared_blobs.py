"""A blob folder read by several processes (``--workers N``; gateways on one database): a blob that no
version names any more stays on disk for a grace period before it goes, because another process may have
looked the old version up and not opened its file yet (its reads are not held in this process). Without
the grace, GETs racing an overwrite on another worker failed mid-answer (FileNotFoundError)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.storage.blobs.localfs import LocalBlobStore
from tests.conftest import unique_bucket_name
from tests.support.server import NuageServer
from tests.support.workers import on_worker, send, wait_for_workers

GRACE = 1.5
BODY = 64 * 1024     # in a file, not in the row


def blob_files(data: Path) -> set[str]:
    return {name for _, _, files in os.walk(data / "blobs") for name in files}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    data = tmp_path_factory.mktemp("shared-blobs") / "data"
    srv = NuageServer(data, extra_args=["--workers", "2"], env={"NUAGE_SHARED_DELETE_GRACE": str(GRACE)}).start()
    try:
        wait_for_workers(srv, 2)
        yield srv
    finally:
        assert srv.stop() == 0, srv.log()


def test_an_overwritten_blob_stays_for_the_grace_then_goes(gateway: NuageServer) -> None:
    bucket = unique_bucket_name("grace")
    writer = on_worker(gateway, 0)
    try:
        assert send(gateway, writer, "PUT", f"/{bucket}").status == 200
        assert send(gateway, writer, "PUT", f"/{bucket}/k", b"a" * BODY).status == 200
        first = blob_files(gateway.data_dir)
        assert send(gateway, writer, "PUT", f"/{bucket}/k", b"b" * BODY).status == 200
        # the first version's file is still there: a read on the other worker may be about to open it
        assert first <= blob_files(gateway.data_dir)
        deadline = time.monotonic() + GRACE + 10
        while first & blob_files(gateway.data_dir) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not first & blob_files(gateway.data_dir), "the replaced blob was never removed"
        assert send(gateway, writer, "DELETE", f"/{bucket}/k").status == 204
        assert send(gateway, writer, "DELETE", f"/{bucket}").status == 204
    finally:
        writer.close()


def test_reads_racing_overwrites_on_the_other_worker_get_a_whole_version(gateway: NuageServer) -> None:
    bucket = unique_bucket_name("race")
    writer, reader = on_worker(gateway, 0), on_worker(gateway, 1)
    versions = [bytes([65 + i]) * BODY for i in range(4)]
    stop = threading.Event()
    failures: list[str] = []

    def overwrite() -> None:
        i = 0
        while not stop.is_set():
            reply = send(gateway, writer, "PUT", f"/{bucket}/k", versions[i % len(versions)])
            if reply.status != 200:
                failures.append(f"PUT {reply.status}")
            i += 1

    try:
        assert send(gateway, writer, "PUT", f"/{bucket}").status == 200
        assert send(gateway, writer, "PUT", f"/{bucket}/k", versions[0]).status == 200
        thread = threading.Thread(target=overwrite)
        thread.start()
        reads = 0
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            reply = send(gateway, reader, "GET", f"/{bucket}/k")
            reads += 1
            if reply.status != 200 or reply.body not in versions:
                failures.append(f"GET {reply.status}, {len(reply.body)} bytes")
        stop.set()
        thread.join()
        assert reads > 20 and not failures, failures[:5]
        assert "Traceback" not in gateway.log()
    finally:
        stop.set()
        writer.close()
        reader.close()


def test_a_folder_of_one_process_removes_at_once_and_a_shared_one_later(tmp_path: Path) -> None:
    alone = LocalBlobStore(tmp_path / "alone", fsync=False)
    shared = LocalBlobStore(tmp_path / "shared", fsync=False, shared=True, delete_grace=0.5)
    try:
        for store in (alone, shared):
            path = store.path("ab" * 16)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
            store.delete(["ab" * 16])
        assert not alone.path("ab" * 16).exists()
        assert shared.path("ab" * 16).exists()
        with open(shared.path("ab" * 16), "rb") as f:   # a reader that looked it up opens it meanwhile
            time.sleep(1.0)
            assert f.read() == b"x"
        assert not shared.path("ab" * 16).exists()
    finally:
        alone.close()
        shared.close()
