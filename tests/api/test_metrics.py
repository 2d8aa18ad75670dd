"""Prometheus metrics (GET /_nuage/metrics): a real server, known requests sent with boto3, the answer
parsed with prometheus-client's parser and checked against what was sent, exactly; the token and the
allow list enforced; the per-bucket series bounded; the workers of one gateway adding up their counts;
docs/metrics.md and deploy/grafana-dashboard.json naming only metrics that exist, and every one of them;
docs/metrics.md's commands running as written."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

from tests.support.docrun import ROOT, SQLITE_PAGE, free_port_pair, run_doc
from tests.support.regions import wait_for
from tests.support.server import NuageServer

TOKEN = "metrics-token-0123456789abcdef"
ON_POSTGRES = os.environ.get("NUAGE_TEST_DB") == "postgresql"   # no SQLite writer: its metrics are absent
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def fetch(server: NuageServer, token: str | None = TOKEN) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a scrape."""
    request = urllib.request.Request(f"{server.endpoint}/_nuage/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def scrape(server: NuageServer, token: str | None = TOKEN) -> tuple[dict[str, str], Samples]:
    """The metric families (name -> type) and every sample (name, labels) -> value."""
    status, _, body = fetch(server, token)
    assert status == 200, body
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(body):
        types[family.name] = family.type
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return types, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    tmp = tmp_path_factory.mktemp("metrics")
    token_file = tmp / "metrics.token"
    token_file.write_text(TOKEN + "\n")
    server = NuageServer(tmp / "data", extra_args=["--metrics-token-file", str(token_file)])
    server.start()
    yield server
    server.stop()


def test_counters_match_the_requests_sent(server: NuageServer) -> None:
    s3 = server.client(checksum="when_required")   # plain bodies: the bytes received are the objects' bytes
    s3.create_bucket(Bucket="counted")
    big = b"b" * 40_000                             # larger than inline_max: a blob file
    _, before = scrape(server)
    for key, size in (("one", 1_000), ("two", 2_000)):
        s3.put_object(Bucket="counted", Key=key, Body=b"x" * size)
    s3.put_object(Bucket="counted", Key="big", Body=big)
    for _ in range(2):
        assert s3.get_object(Bucket="counted", Key="big")["Body"].read() == big
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket="counted", Key="missing")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "counted", "Key": "missing"})
    with pytest.raises(urllib.error.HTTPError) as presigned:
        urllib.request.urlopen(url)
    error_body = presigned.value.read()
    assert b"NoSuchKey" in error_body and presigned.value.code == 404
    listed = s3.list_objects_v2(Bucket="counted")
    assert listed["KeyCount"] == 3
    types, after = scrape(server)

    requests = "nuage_http_requests_total"
    s3_labels = {"api": "s3", "region": "us-east-1"}
    assert types["nuage_http_requests"] == "counter"
    assert delta(before, after, requests, operation="PutObject", status="200", **s3_labels) == 3
    assert delta(before, after, requests, operation="GetObject", status="200", **s3_labels) == 2
    assert delta(before, after, requests, operation="GetObject", status="404", **s3_labels) == 2
    assert delta(before, after, requests, operation="ListObjectsV2", status="200", **s3_labels) == 1
    assert delta(before, after, "nuage_errors_total", code="NoSuchKey", **s3_labels) == 2
    assert delta(before, after, "nuage_http_received_bytes_total", operation="PutObject", **s3_labels) == 43_000
    # the two GETs' bodies, and the two NoSuchKey documents (boto3's is the same length: same key, same id length)
    assert delta(before, after, "nuage_http_sent_bytes_total", operation="GetObject", **s3_labels) \
        == 2 * len(big) + 2 * len(error_body)
    latency = "nuage_http_request_duration_seconds_count"
    assert delta(before, after, latency, api="s3", region="us-east-1", **{"class": "write"}) == 3
    assert delta(before, after, latency, api="s3", region="us-east-1", **{"class": "read"}) == 4
    assert delta(before, after, latency, api="s3", region="us-east-1", **{"class": "list"}) == 1
    inf = value(after, "nuage_http_request_duration_seconds_bucket", api="s3", region="us-east-1",
                le="+Inf", **{"class": "write"})
    assert inf == value(after, latency, api="s3", region="us-east-1", **{"class": "write"})
    # blob I/O: the one object kept in a file, written once (its file and folder fsynced), read twice
    assert delta(before, after, "nuage_blob_written_bytes_total") == len(big)
    assert delta(before, after, "nuage_blob_fsyncs_total") == 2
    assert delta(before, after, "nuage_blob_read_bytes_total") == 2 * len(big)
    # what the store holds
    assert value(after, "nuage_bucket_bytes", bucket="counted") == 43_000
    assert value(after, "nuage_bucket_objects", bucket="counted") == 3
    if not ON_POSTGRES:   # the SQLite writer committed the three PUTs, in groups
        assert delta(before, after, "nuage_sqlite_group_commit_size_sum") >= 3
        assert value(after, "nuage_sqlite_writer_queue_depth") >= 0
    assert value(after, "nuage_http_open_connections") >= 1
    assert value(after, "nuage_workers") == 1
    assert value(after, "nuage_sql_jobs_running") == 0
    assert value(after, "nuage_replication_backlog_versions") == 0
    assert value(after, "nuage_replication_lag_seconds") == 0


def test_the_token_is_enforced(server: NuageServer) -> None:
    status, headers, body = fetch(server, token=None)
    assert status == 401 and "nuage_" not in body
    assert headers.get("WWW-Authenticate", headers.get("www-authenticate", "")).startswith("Bearer")
    status, _, body = fetch(server, token="not-the-token-0123456789")
    assert status == 403 and "nuage_" not in body
    # the scrapes refused are counted too, as requests of the metrics endpoint
    _, samples = scrape(server)
    assert value(samples, "nuage_http_requests_total", api="metrics", operation="GetMetrics", status="401",
                 region="us-east-1") >= 1


def test_allow_list_and_bounded_bucket_series(tmp_path: Path) -> None:
    """From 127.0.0.1, allowed without a token; two buckets with series of their own, the rest in _other."""
    server = NuageServer(tmp_path / "data", extra_args=["--metrics-allow", "10.1.2.3, 127.0.0.1", "--metrics-buckets",
                                                         "2"]).start()
    try:
        s3 = server.client(checksum="when_required")
        sizes = {"small": 100, "medium": 300, "large": 900, "huge": 2_700}
        for name, size in sizes.items():
            s3.create_bucket(Bucket=name)
            s3.put_object(Bucket=name, Key="k", Body=b"z" * size)
        _, samples = scrape(server, token=None)
        buckets = {dict(labels)["bucket"]: v for (name, labels), v in samples.items() if name == "nuage_bucket_bytes"}
        assert buckets == {"huge": 2_700, "large": 900, "_other": 400}
        objects = {dict(labels)["bucket"]: v for (name, labels), v in samples.items()
                   if name == "nuage_bucket_objects"}
        assert objects == {"huge": 1, "large": 1, "_other": 2}
        assert value(samples, "nuage_buckets") == 4
    finally:
        server.stop()


def test_an_allow_list_without_the_address_refuses_even_the_token(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data", extra_args=["--metrics-allow", "10.0.0.0/8"],
                         env={"NUAGE_METRICS_TOKEN": TOKEN}).start()
    try:
        status, _, body = fetch(server)
        assert status == 403 and "nuage_" not in body
    finally:
        server.stop()


def test_off_without_token_or_allow_list(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data").start()
    try:
        status, _, body = fetch(server)
        assert status == 403 and "off" in body and "nuage_" not in body
        assert not (tmp_path / "data" / "metrics").exists()
    finally:
        server.stop()


def test_settings_that_cannot_be_used_stop_the_start(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data", extra_args=["--metrics-allow", "10.0.0.0/8,nonsense"])
    with pytest.raises(RuntimeError, match="nonsense"):
        server.start()
    server = NuageServer(tmp_path / "data2", extra_args=["--metrics-token", "short"])
    with pytest.raises(RuntimeError, match="16 printable"):
        server.start()


def test_workers_add_up_their_counts(tmp_path: Path) -> None:
    """With two workers on one port, whichever answers the scrape answers for the gateway."""
    server = NuageServer(tmp_path / "data", workers=2, env={"NUAGE_METRICS_TOKEN": TOKEN},
                         extra_args=["--metrics-allow", "127.0.0.0/8"]).start()
    try:
        setup = server.client(checksum="when_required")
        setup.create_bucket(Bucket="spread")
        _, before = scrape(server)
        # one client (one connection) per PUT: the kernel spreads new connections over the workers
        count, size = 24, 700
        for i in range(count):
            client = server.client(checksum="when_required")
            client.put_object(Bucket="spread", Key=f"k{i}", Body=b"w" * size)
            client.close()
        labels = {"api": "s3", "operation": "PutObject", "region": "us-east-1"}
        after: Samples = {}

        def counted() -> bool:
            nonlocal after
            after = scrape(server)[1]
            return delta(before, after, "nuage_http_requests_total", status="200", **labels) >= count

        wait_for(counted, timeout=10, interval=0.3)
        time.sleep(1.5)   # nothing more arrives
        after = scrape(server)[1]
        assert delta(before, after, "nuage_http_requests_total", status="200", **labels) == count
        assert delta(before, after, "nuage_http_received_bytes_total", **labels) == count * size
        assert value(after, "nuage_workers") == 2
        assert value(after, "nuage_bucket_objects", bucket="spread") == count
        shared = list((tmp_path / "data" / "metrics").glob("*/counter_*.db"))
        assert len(shared) == 2, shared   # both workers wrote their counts
        # with the token as well as an allowed address: no token, no metrics
        assert fetch(server, token=None)[0] == 401
    finally:
        server.stop()


_DOC_NAME = re.compile(r"^\| `(nuage_[a-z0-9_]+)` \|", re.M)
_SUFFIXES = ("_bucket", "_count", "_sum")


def test_docs_and_dashboard_name_every_metric_and_only_those(server: NuageServer) -> None:
    types, _ = scrape(server)
    exposed = {name + "_total" if kind == "counter" else name for name, kind in types.items()}
    listed = set(_DOC_NAME.findall((ROOT / "docs" / "metrics.md").read_text()))
    assert exposed - listed == set(), "metrics missing from docs/metrics.md"
    sqlite_only = {"nuage_sqlite_writer_queue_depth", "nuage_sqlite_group_commit_size"} if ON_POSTGRES else set()
    assert listed - exposed - sqlite_only == set(), "docs/metrics.md lists metrics that do not exist"

    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("expr", "query") and isinstance(item, str):
                    exprs.append(item)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    assert exprs and dashboard.get("panels")
    used = set()
    for expr in exprs:
        for name in re.findall(r"\bnuage_[a-z0-9_]+", expr):
            histogram = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s) and (
                types.get(name[: -len(s)]) == "histogram" or name[: -len(s)] in sqlite_only)), None)
            used.add(histogram or name)
    assert used - exposed - sqlite_only == set(), "the dashboard uses metrics that do not exist"


@SQLITE_PAGE
def test_the_page_runs_as_written(tmp_path: Path) -> None:
    run = run_doc(ROOT / "docs" / "metrics.md", tmp_path, ports={9000: free_port_pair()}, env={"NUAGE_WORKERS": "1"})
    log = (tmp_path / "nuage.log").read_text() if (tmp_path / "nuage.log").exists() else ""
    report = f"exit {run.returncode}\n--- stdout\n{run.stdout}\n--- stderr\n{run.stderr[-4000:]}\n--- log\n{log}"
    assert run.returncode == 0, report
    assert run.stdout.splitlines()[:2] == ["401", "nuage_workers 1.0"], report
    assert "Traceback" not in log, log
