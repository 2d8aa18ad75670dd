"""PostgreSQL stopped under load: clients get 503 ServiceUnavailable with the S3 XML body (never a 500, never
a hang), the health endpoint says 503; once PostgreSQL is back the same gateway (not restarted) serves
again, and every write it acknowledged is there. The other APIs of the gateway (IAM, admin, SQL jobs, the
console) answer their own 503 with Retry-After meanwhile, and an access key that the gateway has never seen
(read from the database) does not stall the requests of others. Its own PostgreSQL: stopping it must not
disturb the other tests' cluster."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support.console import ConsoleClient
from tests.support.postgres import PostgresCluster, PostgresMissing
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer
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
    retry_after: set[str | None] = field(default_factory=set)   # the Retry-After headers of the 503s
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
                    if status == 503:
                        with self.lock:
                            self.retry_after.add(exc.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after"))
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
        # a write sent now, while the database is certainly down, is refused with 503 within the bound
        # (the load's own requests may all have begun before the outage and waited it out)
        probe = time.monotonic()
        with pytest.raises(ClientError) as refused_probe:
            s3.put_object(Bucket="outage", Key="probe", Body=b"probe")
        meta = refused_probe.value.response["ResponseMetadata"]
        assert (meta["HTTPStatusCode"], refused_probe.value.response["Error"]["Code"]) == (503, "ServiceUnavailable")
        assert meta["HTTPHeaders"].get("retry-after") == "1"
        assert time.monotonic() - probe < REQUEST_BOUND
        time.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))
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
        # the load's requests while it was down: served (from what the gateway holds, or once it was
        # back within the bound) or refused with 503, never anything else
        assert {(status, code) for _, status, code in refused} <= {(503, "ServiceUnavailable")}, refused
        assert load.retry_after <= {"1"}
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


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def code(self) -> str:
        """The error code of an IAM XML or JSON error body."""
        if self.body.startswith(b"<"):
            return ET.fromstring(self.body).findtext(".//{*}Code") or ""
        error = json.loads(self.body).get("error")
        return str(error.get("code", "")) if isinstance(error, dict) else str(error)


def signed(server: NuageServer, service: str, method: str, path: str, body: bytes = b"", *,
           content_type: str | None = None, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> Answer:
    """A request signed with SigV4 for ``service`` (s3, iam, nuage-admin, nuage-query), on a connection of
    its own."""
    headers = {"Content-Type": content_type} if content_type else {}
    request = AWSRequest(method=method, url=server.endpoint + path, data=body, headers=headers)
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(access_key, secret_key), service, server.region).add_auth(request)
    sent = dict(request.prepare().headers)
    sent["Content-Length"] = str(len(body))
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=REQUEST_BOUND + 10)
    try:
        conn.request(method, path, body=body or None, headers=sent)
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read(),
                      time.monotonic() - started)
    finally:
        conn.close()


def iam_call(server: NuageServer, action: str, **params: str) -> Answer:
    form = "&".join([f"Action={action}", "Version=2010-05-08", *(f"{k}={v}" for k, v in params.items())])
    return signed(server, "iam", "POST", "/", form.encode(), content_type="application/x-www-form-urlencoded")


def console_answer(page_status: int, headers: dict[str, str], text: str, seconds: float) -> Answer:
    return Answer(page_status, {k.lower(): v for k, v in headers.items()}, text.encode(), seconds)


def calls(server: NuageServer, console: ConsoleClient) -> dict[str, Callable[[], Answer]]:
    """One call of each API beside S3 that reads the metadata database, by name."""
    def console_page() -> Answer:
        started = time.monotonic()
        page = console.get("/buckets")
        return console_answer(page.status, dict(page.headers.items()), page.text, time.monotonic() - started)

    def console_json() -> Answer:
        started = time.monotonic()
        page = console.post_json("/api/upload/abort", json.dumps({"bucket": "outage", "key": "k", "upload_id": "x"}))
        return console_answer(page.status, dict(page.headers.items()), page.text, time.monotonic() - started)

    return {
        "iam": lambda: iam_call(server, "ListUsers"),
        "admin": lambda: signed(server, "nuage-admin", "GET", "/admin/tenants"),
        "query": lambda: signed(server, "nuage-query", "GET", "/query/jobs"),
        "console page": console_page,
        "console json": console_json,
    }


def all_at_once(named: dict[str, Callable[[], Answer]]) -> dict[str, Answer]:
    """Every call on a thread of its own (each may wait for the pool's timeout); their answers by name."""
    answers: dict[str, Answer] = {}

    def run(name: str, call: Callable[[], Answer]) -> None:
        answers[name] = call()
    threads = [threading.Thread(target=run, args=item) for item in named.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_BOUND + 20)
    assert set(answers) == set(named), f"no answer from {set(named) - set(answers)}"
    return answers


def test_other_apis_answer_503_then_recover(cluster: PostgresCluster, tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", db=cluster.create_database()).start()
    try:
        srv.client().create_bucket(Bucket="outage")
        console = ConsoleClient(srv.console_endpoint)
        assert console.sign_in(ACCESS_KEY, SECRET_KEY).status == 303
        assert console.get("/buckets").status == 200   # the signed-in session's CSRF token, for the JSON call
        named = calls(srv, console)
        before = all_at_once(named)
        assert {name: a.status for name, a in before.items()} == {
            "iam": 200, "admin": 200, "query": 200, "console page": 200, "console json": 404}, before

        cluster.pause()
        try:
            during = all_at_once(named)
        finally:
            cluster.resume()
        up = time.monotonic()
        got = {name: (a.status, a.headers.get("retry-after")) for name, a in during.items()}
        assert got == {name: (503, "1") for name in named}, during
        assert during["iam"].code() == "ServiceUnavailable"   # IAM's own code, in its XML error
        assert during["iam"].body.startswith(b"<?xml") and b"<ErrorResponse" in during["iam"].body
        assert during["admin"].code() == during["query"].code() == "ServiceUnavailable"
        assert during["console page"].headers["content-type"].startswith("text/html")
        assert "Service unavailable" in during["console page"].body.decode()
        assert during["console json"].headers["content-type"] == "application/json"
        assert json.loads(during["console json"].body)["error"] == 503
        assert max(a.seconds for a in during.values()) < REQUEST_BOUND

        while True:   # the same gateway serves again, by itself
            after = all_at_once(named)
            if {name: a.status for name, a in after.items()} == {name: a.status for name, a in before.items()}:
                break
            assert time.monotonic() < up + RECOVERY, after
            time.sleep(0.5)
    finally:
        srv.allow_faults = True   # the pools' reconnection warnings are logged, not tracebacks of requests
        srv.stop()
    log = srv.log()
    assert "internal error in the" not in log
    for api in ("IAM", "admin", "query", "console"):   # each says why, once a minute (the console was asked twice)
        assert len(re.findall(rf"the metadata database did not answer \(.*\): {api} ", log)) == 1, api


def test_unknown_key_does_not_stall_other_requests(cluster: PostgresCluster, tmp_path: Path) -> None:
    """A key this gateway has never seen is read from the database; while the database does not answer,
    that read waits for the pool's timeout (5 s). It must wait on a thread: on the event loop, every
    other request of the process (the health check, a key already known) would wait behind it."""
    srv = NuageServer(tmp_path / "data", db=cluster.create_database()).start()
    try:
        iam = srv.client("iam")
        iam.create_user(UserName="newcomer")
        key = iam.create_access_key(UserName="newcomer")["AccessKey"]
        srv.client().list_buckets()   # the root key is known to the gateway; the newcomer's is not
        newcomer = {"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
        unknown: dict[str, Callable[[], Answer]] = {
            "s3": lambda: signed(srv, "s3", "GET", "/", **newcomer),
            "iam": lambda: signed(srv, "iam", "POST", "/", b"Action=ListUsers&Version=2010-05-08",
                                  content_type="application/x-www-form-urlencoded", **newcomer),
            "query": lambda: signed(srv, "nuage-query", "GET", "/query/jobs", **newcomer),
        }
        cluster.pause()
        try:
            # the first reads may fail at once on connections that PostgreSQL closed as it stopped; once
            # they are gone, a key's read waits for the pool's timeout
            for _ in range(5):
                if signed(srv, "s3", "GET", "/", access_key="NEVERSEENKEY00000000").seconds > 2.0:
                    break
            for api, call in unknown.items():
                answers: list[Answer] = []
                waiting = threading.Thread(target=lambda c=call, out=answers: out.append(c()))
                waiting.start()
                time.sleep(0.5)   # its key is being read
                status, body = health(srv)
                assert (status, body["database"]) == (503, "unreachable")
                # the root key is answered from the cache: a wrong signature is refused without the database
                refused = signed(srv, "s3", "GET", "/", secret_key="not-the-secret")
                assert (refused.status, b"SignatureDoesNotMatch" in refused.body) == (403, True), refused
                assert waiting.is_alive(), f"{api}: the unknown key's request was answered first"
                waiting.join(REQUEST_BOUND + 10)
                assert [(a.status, a.headers.get("retry-after")) for a in answers] == [(503, "1")], (api, answers)
        finally:
            cluster.resume()
    finally:
        srv.allow_faults = True
        srv.stop()
    assert "internal error" not in srv.log()
