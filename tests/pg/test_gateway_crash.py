"""A gateway killed (-9) while it takes 32 uploads at once, on one PostgreSQL and one data folder shared with
another gateway: every upload it acknowledged is there, whole, through the other gateway; nothing partial
is ever listed; the other gateway goes on taking writes."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer

UPLOADERS = 32
SIZE = 256 * 1024     # in files, not in the row


def body_of(key: str) -> bytes:
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (SIZE // len(seed) + 1))[:SIZE]


@pytest.fixture
def pair(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, NuageServer]]:
    url = pg.create_database()
    data = tmp_path_factory.mktemp("crash") / "data"
    victim = NuageServer(data, db=url).start()
    survivor = NuageServer(data, db=url).start()
    try:
        yield victim, survivor
    finally:
        victim.kill()
        assert survivor.stop() == 0, survivor.log()


def test_a_gateway_killed_during_32_uploads_loses_nothing_it_acknowledged(
        pair: tuple[NuageServer, NuageServer]) -> None:
    victim, survivor = pair
    other = survivor.client()
    bucket = unique_bucket_name("crash")
    other.create_bucket(Bucket=bucket)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def upload(worker: int) -> None:
        # one client each, many connections in flight at the moment of the kill
        client: Any = victim.client(max_pool_connections=2, connect_timeout=2, read_timeout=10)
        i = 0
        while not stop.is_set():
            key = f"w{worker:02d}/k{i:05d}"
            try:
                client.put_object(Bucket=bucket, Key=key, Body=body_of(key))
            except Exception:   # noqa: BLE001  the gateway died under this upload: not acknowledged
                return
            with lock:
                acknowledged.append(key)
            i += 1

    with ThreadPoolExecutor(UPLOADERS) as pool:
        futures = [pool.submit(upload, w) for w in range(UPLOADERS)]
        deadline = time.monotonic() + 30
        while len(acknowledged) < 3 * UPLOADERS and time.monotonic() < deadline:
            time.sleep(0.05)
        victim.kill()   # kill -9 with uploads in flight
        stop.set()
        for f in futures:
            f.result()
    assert len(acknowledged) >= 3 * UPLOADERS, len(acknowledged)

    # every acknowledged upload, whole, through the other gateway
    for key in acknowledged:
        got = other.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert got == body_of(key), key
    # nothing partial listed: every listed object is a whole upload (acknowledged or not)
    listed: list[str] = []
    for page in other.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed += [o["Key"] for o in page.get("Contents", [])]
    assert set(acknowledged) <= set(listed)
    for key in set(listed) - set(acknowledged):   # committed just before the kill, answer lost
        assert other.get_object(Bucket=bucket, Key=key)["Body"].read() == body_of(key), key
    # the other gateway goes on taking writes
    other.put_object(Bucket=bucket, Key="after", Body=b"still here")
    assert other.get_object(Bucket=bucket, Key="after")["Body"].read() == b"still here"
