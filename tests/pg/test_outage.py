"""PostgreSQL stopped under load: clients get 503 ServiceUnavailable with the S3 XML body (never a 500, never
a hang), the health endpoint says 503; once PostgreSQL is back the same gateway (not restarted) serves
again, and every write it acknowledged is there. Its own PostgreSQL: stopping it must not disturb the other
tests' cluster."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.postgres import PostgresCluster, PostgresMissing
from tests.support.server import NuageServer
from tests.support.workers import health

OUTAGE = 10.0         # seconds PostgreSQL stays down: longer than a request waits for a connection
REQUEST_BOUND = 15.0  # no request may take longer than this, outage or not
RECOVERY = 20.0       # seconds after PostgreSQL is back within which requests succeed again


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    try:
        own = PostgresCluster()
    except PostgresMissing as exc:
        pytest.fail(f"PostgreSQL is required: {exc}")
    own.start()
    yield own
    own.stop()


@dataclass
class Load:
    """Writers and readers in a loop: what they got, and every write that was acknowledged."""
    stop: threading.Event = field(default_factory=threading.Event)
    outcomes: list[tuple[float, str, int, str, float]] = field(default_factory=list)  # (t, op, status, code, s)
    acknowledged: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: object, bucket: str, worker: int) -> None:
        i = 0
        while not self.stop.is_set():
            key, body = f"w{worker}/{i}", f"{worker}:{i}".encode() * (1 + i % 3 * 2000)
            for op in ("PUT", "GET"):
                started = time.monotonic()
                status, code = 200, ""
                try:
                    if op == "PUT":
                        client.put_object(Bucket=bucket, Key=key, Body=body)  # type: ignore[attr-defined]
                    else:
                        client.get_object(Bucket=bucket, Key="seed")["Body"].read()  # type: ignore[attr-defined]
                except ClientError as exc:
                    status = int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
                    code = str(exc.response.get("Error", {}).get("Code", ""))
                with self.lock:
                    self.outcomes.append((started, op, status, code, time.monotonic() - started))
                    if op == "PUT" and status == 200:
                        self.acknowledged[key] = body
            i += 1
            time.sleep(0.02)


def test_outage_gives_503_then_recovers(cluster: PostgresCluster, tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", db=cluster.create_database()).start()
    try:
        s3 = srv.client(max_pool_connections=4, connect_timeout=5, read_timeout=REQUEST_BOUND + 10)
        s3.create_bucket(Bucket="outage")
        s3.put_object(Bucket="outage", Key="seed", Body=b"seed")
        load = Load()
        threads = [threading.Thread(target=load.run, args=(s3, "outage", n)) for n in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        down = time.monotonic()
        cluster.pause()
        time.sleep(1.0)
        status, body = health(srv)
        assert (status, body["database"]) == (503, "unreachable"), body
        time.sleep(OUTAGE - 1.0)
        cluster.resume()
        up = time.monotonic()
        deadline = up + RECOVERY
        while True:   # the same gateway serves again, by itself
            with load.lock:
                recovered = any(t > up and status == 200 for t, _, status, _, _ in load.outcomes)
            if recovered:
                break
            assert time.monotonic() < deadline, load.outcomes[-10:]
            time.sleep(0.1)
        time.sleep(1.0)
        load.stop.set()
        for thread in threads:
            thread.join(REQUEST_BOUND + 10)
        assert health(srv)[0] == 200

        during = [(op, status, code) for t, op, status, code, _ in load.outcomes if down < t < up]
        refused = [o for o in during if o[1] != 200]
        assert refused, "no request failed while PostgreSQL was down"
        assert {(status, code) for _, status, code in refused} == {(503, "ServiceUnavailable")}, refused
        assert all(status != 500 for _, _, status, _, _ in load.outcomes)
        slowest = max(seconds for *_, seconds in load.outcomes)
        assert slowest < REQUEST_BOUND, f"a request took {slowest:.1f} s"
        for key, data in load.acknowledged.items():   # no acknowledged write lost
            assert s3.get_object(Bucket="outage", Key=key)["Body"].read() == data, key
        assert len(load.acknowledged) > 10
    finally:
        srv.allow_faults = True   # the pools' reconnection warnings are logged, not tracebacks of requests
        srv.stop()
    assert "internal error on" not in srv.log()
