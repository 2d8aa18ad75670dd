"""kill -9 in the middle of one large, slowly streamed upload: after a restart the key holds its old
version (or nothing), never the first part of the new body."""

from __future__ import annotations

import os
from pathlib import Path

from tests.crash.helpers import (
    MiB,
    StreamingPut,
    Value,
    blob_files,
    check_bucket,
    crc32_b64,
    slow_chunks,
    storage_problems,
    wait_until,
)
from tests.support.server import NuageServer

BUCKET = "crash-streaming"
SIZE = 50 * MiB


def test_kill9_during_large_streaming_upload_leaves_old_version_or_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    srv = NuageServer(data_dir).start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket=BUCKET)
        old = os.urandom(256 * 1024)
        s3.put_object(Bucket=BUCKET, Key="overwritten", Body=old, ChecksumCRC32=crc32_b64(old))
        before = set(blob_files(data_dir))

        # 50 MiB each, 256 KiB every 20 ms: far from done when the server dies
        body_a, body_b = os.urandom(SIZE), os.urandom(SIZE)
        uploads = [
            StreamingPut(srv, BUCKET, "overwritten", slow_chunks(body_a, 256 * 1024, 0.02), length=SIZE).start(),
            StreamingPut(srv, BUCKET, "fresh", slow_chunks(body_b, 256 * 1024, 0.02), length=None).start(),
        ]
        assert wait_until(lambda: all(u.sent >= 8 * MiB for u in uploads), timeout=20), \
            [u.sent for u in uploads]
        # the server is writing the new bodies to disk
        assert wait_until(lambda: sum(1 for b, n in blob_files(data_dir).items()
                                      if b not in before and n > 0) >= 2, timeout=10), blob_files(data_dir)
        srv.kill()
        for u in uploads:
            u.join()
            assert u.status is None and u.error is not None, (u.key, u.status, u.sent)
            assert u.sent < SIZE

        srv = NuageServer(data_dir, env={"NUAGE_SWEEP_INTERVAL": "0.3", "NUAGE_ORPHAN_GRACE": "0"}).start()
        s3 = srv.client()
        _, problems = check_bucket(s3, BUCKET, {"overwritten": [Value.single(old)], "fresh": [None]}.__getitem__,
                                   ["overwritten", "fresh"])
        assert not problems, "\n".join(problems)
        # the partial bodies are orphans and the sweeper removes them; the old version's blob stays
        wait_until(lambda: not storage_problems(data_dir), timeout=10)
        assert not storage_problems(data_dir), "\n".join(storage_problems(data_dir))
        assert set(blob_files(data_dir)) == before
        _, problems = check_bucket(s3, BUCKET, {"overwritten": [Value.single(old)], "fresh": [None]}.__getitem__,
                                   ["overwritten", "fresh"])
        assert not problems, "\n".join(problems)
    finally:
        if srv.proc is not None and srv.proc.poll() is None:
            srv.stop()
