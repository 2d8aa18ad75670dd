"""The usage page: requests counted per bucket and storage sampled over time (a server that samples every
second), shown as chart data and a table, only for the buckets the user may list."""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.console.conftest import make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

DATA_RE = re.compile(r'<script type="application/json" id="usage-data">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("console-usage") / "data", env={"NUAGE_USAGE_INTERVAL": "1"},
                      extra_args=["--domain", "s3.nuage.test"]).start()
    yield srv
    srv.stop()


def chart_data(console: ConsoleClient, query: str = "") -> dict[str, Any]:
    page = console.get("/usage" + query)
    assert page.status == 200, page.text
    found = DATA_RE.search(page.text)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_requests_and_storage_per_bucket_over_time(sampled: NuageServer) -> None:
    s3 = sampled.client()
    s3.create_bucket(Bucket="busy-bucket")
    s3.create_bucket(Bucket="quiet-bucket")
    for i in range(7):
        s3.put_object(Bucket="busy-bucket", Key=f"k{i}", Body=b"x" * 1000)
    for _ in range(5):
        s3.list_objects_v2(Bucket="busy-bucket")
    console = ConsoleClient(sampled.console_endpoint)
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    deadline = time.monotonic() + 15
    while True:
        data = chart_data(console)
        busy = [v for v in data["requests"]["busy-bucket"] if v is not None]
        if sum(busy) >= 12 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert data["buckets"] == ["busy-bucket", "quiet-bucket"]
    assert sum(busy) >= 12            # 7 PUTs and 5 LISTs (plus the create)
    assert sum(v or 0 for v in data["requests"]["quiet-bucket"]) <= 1
    assert max(v or 0 for v in data["storage"]["busy-bucket"]) == 7000
    assert len(data["times"]) >= 1 and data["times"] == sorted(data["times"])
    page = console.get("/usage?range=1h")
    row = page.text.split('data-bucket="busy-bucket"', 1)[1].split("</tr>", 1)[0]
    assert 'data-label="Objects" data-value="7"' in row and 'data-value="7000"' in row


def test_requests_count_for_the_bucket_they_address(sampled: NuageServer) -> None:
    """Path style, RGW's tenant:bucket form and virtual-hosted style each count for the bucket they name,
    signed or not (an anonymous request refused is still a request)."""
    s3 = sampled.client()
    for name in ("meter-path", "meter-tenant", "meter-vhost"):
        s3.create_bucket(Bucket=name)
    conn = http.client.HTTPConnection("127.0.0.1", sampled.port, timeout=10)
    try:
        for target, host in (("/meter-path/k", None), ("/meter-path", None), ("/tenant:meter-tenant/k", None),
                             ("/k", "meter-vhost.s3.nuage.test"), ("/", "meter-vhost.s3.nuage.test")):
            conn.request("GET", target, headers={"Host": host} if host else {})
            response = conn.getresponse()
            response.read()
            assert response.status in (403, 404), (target, response.status)
    finally:
        conn.close()
    console = ConsoleClient(sampled.console_endpoint)
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    want = {"meter-path": 3, "meter-tenant": 2, "meter-vhost": 3}   # the create, then the GETs
    deadline = time.monotonic() + 15
    while True:
        data = chart_data(console)
        got = {name: sum(v or 0 for v in data["requests"][name]) for name in want}
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert got == want


def test_usage_follows_the_list_buckets_permission(sampled: NuageServer) -> None:
    s3 = sampled.client()
    s3.create_bucket(Bucket="visible-one")
    s3.create_bucket(Bucket="hidden-one")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}
    user = make_user(sampled, policy, "lister")
    console = ConsoleClient(sampled.console_endpoint)
    console.sign_in(user.access_key, user.secret_key)
    data = chart_data(console)
    # ListBuckets lists the account's buckets to a user allowed s3:ListAllMyBuckets, as on S3
    assert "visible-one" in data["buckets"] and "hidden-one" in data["buckets"]
    nobody = make_user(sampled, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, "nolist")
    other = ConsoleClient(sampled.console_endpoint)
    other.sign_in(nobody.access_key, nobody.secret_key)
    page = other.get("/usage")
    assert page.status == 403 and "AccessDenied" in page.text
