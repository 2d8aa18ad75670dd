"""The background sweeper: orphan blob files go after the grace period, referenced blobs stay;
abandoned multipart uploads expire with their part files; an upload in progress is never swept."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import botocore.exceptions
import pytest

from tests.crash.helpers import (
    MiB,
    StreamingPut,
    Value,
    blob_files,
    blob_path,
    check_bucket,
    crc32_b64,
    meta_view,
    storage_problems,
    wait_until,
)
from tests.support.server import NuageServer

BUCKET = "crash-sweeper"
STALL = 3.0


def _orphan(data_dir: Path, blob_id: str, age: float) -> Path:
    path = blob_path(data_dir, blob_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(4096))
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


@pytest.fixture
def sweeping(tmp_path: Path):  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    srv = NuageServer(data_dir, env={"NUAGE_SWEEP_INTERVAL": "0.5", "NUAGE_ORPHAN_GRACE": "1",
                                     "NUAGE_MULTIPART_EXPIRY": "1"}).start()
    yield srv, data_dir
    if srv.proc is not None and srv.proc.poll() is None:
        srv.stop()


def test_orphan_blobs_are_removed_and_referenced_blobs_stay(sweeping) -> None:  # type: ignore[no-untyped-def]
    srv, data_dir = sweeping
    s3 = srv.client()
    s3.create_bucket(Bucket=BUCKET)
    values: dict[str, Value | None] = {}
    for i, size in enumerate((1, 1000, 300_000, 2 * MiB)):
        data = os.urandom(size)
        s3.put_object(Bucket=BUCKET, Key=f"obj/{i}", Body=data, ChecksumCRC32=crc32_b64(data))
        values[f"obj/{i}"] = Value.single(data)
    referenced = set(blob_files(data_dir))
    assert len(referenced) == 2          # the 1-byte and 1000-byte objects are inline in their metadata rows

    old_new_dir = _orphan(data_dir, "abcd" + uuid.uuid4().hex[4:], age=3600)       # fan-out dirs of its own
    old_shared_dir = _orphan(data_dir, next(iter(referenced))[:4] + uuid.uuid4().hex[4:], age=3600)
    young = _orphan(data_dir, uuid.uuid4().hex, age=0)
    assert young.exists()   # younger than the grace period: not an orphan yet

    orphans = (old_new_dir, old_shared_dir, young)
    assert wait_until(lambda: not any(p.exists() for p in orphans), timeout=8), (
        f"orphans still there: {[p.name for p in orphans if p.exists()]}\n{srv.log()[-3000:]}")
    assert set(blob_files(data_dir)) == referenced
    assert not storage_problems(data_dir)
    _, problems = check_bucket(s3, BUCKET, lambda k: [values[k]], values)
    assert not problems, "\n".join(problems)


def test_abandoned_multipart_upload_expires_with_its_parts(sweeping) -> None:  # type: ignore[no-untyped-def]
    srv, data_dir = sweeping
    s3 = srv.client()
    s3.create_bucket(Bucket=BUCKET)
    # a completed multipart object must survive the expiry of uploads
    done = s3.create_multipart_upload(Bucket=BUCKET, Key="completed")
    part = os.urandom(100_000)
    r = s3.upload_part(Bucket=BUCKET, Key="completed", UploadId=done["UploadId"], PartNumber=1, Body=part)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="completed", UploadId=done["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})

    up = s3.create_multipart_upload(Bucket=BUCKET, Key="abandoned")
    s3.upload_part(Bucket=BUCKET, Key="abandoned", UploadId=up["UploadId"], PartNumber=1, Body=os.urandom(200_000))
    parts = meta_view(data_dir).parts
    assert len(parts) == 1
    part_file = blob_path(data_dir, next(iter(parts)))
    assert part_file.exists()

    def gone() -> bool:
        return not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads") and not part_file.exists()

    assert wait_until(gone, timeout=8), (s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads"),
                                         part_file.exists(), srv.log()[-3000:])
    with pytest.raises(botocore.exceptions.ClientError) as info:
        s3.list_parts(Bucket=BUCKET, Key="abandoned", UploadId=up["UploadId"])
    assert info.value.response["Error"]["Code"] == "NoSuchUpload"
    view = meta_view(data_dir)
    assert view.uploads == 0 and not view.parts
    assert not storage_problems(data_dir)
    _, problems = check_bucket(s3, BUCKET, {"completed": [Value.multipart([part]).no_checksum()],
                                            "abandoned": [None]}.__getitem__, ["completed", "abandoned"])
    assert not problems, "\n".join(problems)


def test_upload_that_pauses_longer_than_the_grace_period_is_not_swept(sweeping) -> None:  # type: ignore[no-untyped-def]
    """A client that stalls mid-body (longer than the orphan grace period) must either get an error or
    get a 200 for an object that reads back whole: the sweeper must not delete the blob being written."""
    srv, data_dir = sweeping
    s3 = srv.client()
    s3.create_bucket(Bucket=BUCKET)
    body = os.urandom(2 * MiB)

    def stalling():  # type: ignore[no-untyped-def]
        yield body[:MiB]
        time.sleep(STALL)      # grace 1 s, sweep every 0.5 s
        yield body[MiB:]

    put = StreamingPut(srv, BUCKET, "stalled", stalling(), length=len(body)).start()
    put.join(30)
    wanted = [Value.single(body).no_checksum()] if put.status == 200 else [None]
    _, problems = check_bucket(s3, BUCKET, lambda k: wanted, ["stalled"])
    assert not problems, (f"PUT answered {put.status or put.error!r} after a {STALL}s pause (orphan grace 1s); "
                          + "\n".join(problems) + "\n" + "\n".join(storage_problems(data_dir)))
    assert not storage_problems(data_dir)
