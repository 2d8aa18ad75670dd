"""The sweeper of one gateway never removes a blob that another gateway of the same database and folder is
still writing (issue 16), however long the writer waits between the pieces of a slow upload; what a gateway
killed mid-upload left behind, and an unreferenced blob file, are still removed after the grace.

Gateway B starts first, so it holds the sweeper's lease, and sweeps with a grace of half a second; A, the
writer, has the default grace (an hour): a file removed within seconds was removed by B."""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crash.helpers import StreamingPut, blob_path, slow_chunks, wait_until
from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer

BUCKET = "sweeping"
GRACE = 0.5
SWEEPER = {"NUAGE_SWEEP_INTERVAL": "0.2", "NUAGE_ORPHAN_GRACE": str(GRACE), "NUAGE_SHARED_DELETE_GRACE": "0"}
PIECE = 512 * 1024
PAUSE = 4 * GRACE         # between two pieces of the slow upload: nothing is written meanwhile


@pytest.fixture(scope="module")
def gateways(pg: PostgresCluster,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, NuageServer]]:
    url = pg.create_database()
    data = tmp_path_factory.mktemp("sweeper") / "data"
    b = NuageServer(data, db=url, env=SWEEPER).start()
    a = NuageServer(data, db=url).start()
    a.client().create_bucket(Bucket=BUCKET)
    yield a, b
    codes = [a.stop(), b.stop()]
    assert codes == [0, 0], a.log() + b.log()


def _tmp_files(data_dir: Path) -> set[str]:
    return set(os.listdir(data_dir / "tmp"))


def test_a_slow_upload_on_one_gateway_survives_the_sweeper_of_another(
        gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    body = os.urandom(5 * PIECE + 1234)
    before = _tmp_files(a.data_dir)
    put = StreamingPut(a, BUCKET, "slow.bin", slow_chunks(body, PIECE, PAUSE), length=len(body)).start()
    # the file being written stays while B sweeps many times over, with nothing written for 4 graces
    assert wait_until(lambda: bool(_tmp_files(a.data_dir) - before), timeout=10)
    put.join(timeout=60)
    assert put.error is None and put.status == 200, (put.error, put.status, a.log()[-3000:])
    got = b.client().get_object(Bucket=BUCKET, Key="slow.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest()
    time.sleep(3 * GRACE)     # and once stored, it stays (referenced)
    assert a.client().get_object(Bucket=BUCKET, Key="slow.bin")["Body"].read() == body


def test_what_a_killed_gateway_left_is_still_swept(gateways: tuple[NuageServer, NuageServer]) -> None:
    a, b = gateways
    c = NuageServer(a.data_dir, db=a.db).start()
    before = _tmp_files(a.data_dir)
    put = StreamingPut(c, BUCKET, "cut.bin", slow_chunks(os.urandom(8 * PIECE), PIECE, PAUSE),
                       length=8 * PIECE).start()
    assert wait_until(lambda: bool(_tmp_files(a.data_dir) - before), timeout=10)
    left = _tmp_files(a.data_dir) - before
    c.kill()                  # mid-upload: its half-written file stays, no process writes it any more
    put.join(timeout=30)
    # an unreferenced blob file too, as a crash between its move into place and the commit leaves one
    stray = blob_path(a.data_dir, uuid.uuid4().hex)
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(os.urandom(4096))
    assert wait_until(lambda: not (_tmp_files(a.data_dir) & left) and not stray.exists(), timeout=10), (
        _tmp_files(a.data_dir) & left, stray.exists(), b.log()[-3000:])
    s3 = a.client()
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="cut.bin")
