"""Three gateways on one PostgreSQL and one data folder take 32 uploaders at once, spread round-robin; one
gateway is killed (-9) with uploads in flight: every upload any gateway acknowledged is there, whole,
through each survivor; nothing partial is ever listed; the survivors go on taking writes."""

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
def gateways(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NuageServer]]:
    url = pg.create_database()
    data = tmp_path_factory.mktemp("crash") / "data"
    servers = [NuageServer(data, db=url).start() for _ in range(3)]
    try:
        yield servers
    finally:
        servers[0].kill()
        codes = [s.stop() for s in servers[1:]]
        assert codes == [0, 0], "".join(s.log() for s in servers[1:])


def test_a_gateway_killed_during_32_uploads_loses_nothing_it_acknowledged(gateways: list[NuageServer]) -> None:
    victim, survivors = gateways[0], gateways[1:]
    others = [s.client() for s in survivors]
    other = others[0]
    bucket = unique_bucket_name("crash")
    other.create_bucket(Bucket=bucket)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    survivor_errors: list[str] = []

    def upload(worker: int) -> None:
        # one client each, round-robin over the three gateways: a third of the uploaders on the victim,
        # with many connections in flight at the moment of the kill
        client: Any = gateways[worker % 3].client(max_pool_connections=2, connect_timeout=2, read_timeout=10)
        i = 0
        while not stop.is_set():
            key = f"w{worker:02d}/k{i:05d}"
            try:
                client.put_object(Bucket=bucket, Key=key, Body=body_of(key))
            except Exception as exc:   # noqa: BLE001  the gateway died under this upload: not acknowledged
                if worker % 3:
                    survivor_errors.append(f"{key}: {exc!r}")
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
    assert not survivor_errors, survivor_errors   # the kill of one gateway failed no upload on the others

    # every acknowledged upload, whole, through each survivor (the victim's acknowledged ones among them)
    assert any(key.startswith(("w00/", "w03/")) for key in acknowledged)
    for n, key in enumerate(acknowledged):
        got = others[n % 2].get_object(Bucket=bucket, Key=key)["Body"].read()
        assert got == body_of(key), key
    # nothing partial listed: every listed object is a whole upload (acknowledged or not)
    listed: list[str] = []
    for page in other.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed += [o["Key"] for o in page.get("Contents", [])]
    assert set(acknowledged) <= set(listed)
    for key in set(listed) - set(acknowledged):   # committed just before the kill, answer lost
        assert other.get_object(Bucket=bucket, Key=key)["Body"].read() == body_of(key), key
    # the survivors go on taking writes, and each reads the other's
    others[1].put_object(Bucket=bucket, Key="after", Body=b"still here")
    assert other.get_object(Bucket=bucket, Key="after")["Body"].read() == b"still here"
