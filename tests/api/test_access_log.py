"""The access log (`--access-log`, `--access-log-format`) and `--log-level`, on real servers: one line per
request with what it was (operation, principal, bucket, key, status, bytes, duration), nothing secret in it,
whole lines from several worker processes, and a file moved away (logrotate) created again."""

from __future__ import annotations

import http.client
import json
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from botocore.exceptions import ClientError

from nuage.cli.admin import AdminClient
from tests.support.regions import wait_for
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

FIELDS = {"time", "request_id", "remote", "principal", "access_key", "api", "operation", "bucket", "key", "method",
          "path", "status", "bytes_sent", "bytes_received", "duration_ms", "user_agent", "region", "worker"}


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines(path)]


def _wait_records(path: Path, match: Any, count: int = 1) -> list[dict[str, Any]]:
    """The records ``match`` accepts, once there are ``count`` of them (lines are written about once a second)."""
    found: list[dict[str, Any]] = []

    def enough() -> bool:
        nonlocal found
        found = [r for r in _records(path) if match(r)]
        return len(found) >= count

    wait_for(enough, timeout=10)
    time.sleep(1.5)   # and no more come
    return [r for r in _records(path) if match(r)]


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, Path]]:
    tmp = tmp_path_factory.mktemp("accesslog")
    path = tmp / "access.log"
    server = NuageServer(tmp / "data", extra_args=["--access-log", str(path), "--access-log-format", "json"])
    server.start()
    yield server, path
    server.stop()


def test_s3_requests_one_line_each(logged: tuple[NuageServer, Path]) -> None:
    server, path = logged
    s3 = server.client()
    s3.create_bucket(Bucket="logged")
    body = b"x" * 1234
    put = s3.put_object(Bucket="logged", Key="dir/a b.txt", Body=body)
    got = s3.get_object(Bucket="logged", Key="dir/a b.txt")
    assert got["Body"].read() == body
    with pytest.raises(ClientError):
        s3.get_object(Bucket="logged", Key="missing")
    try:
        urllib.request.urlopen(f"{server.endpoint}/logged/anon")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "logged", "Key": "dir/a b.txt"})
    assert urllib.request.urlopen(url).read() == body
    signature = re.search(r"[?&](?:X-Amz-)?Signature=([^&]+)", url)
    assert signature is not None and len(signature.group(1)) > 20

    records = _wait_records(path, lambda r: r["bucket"] == "logged", 6)
    assert all(set(r) == FIELDS for r in records)
    ops = [(r["operation"], r["key"], r["status"]) for r in records]
    assert ops == [("CreateBucket", "", 200), ("PutObject", "dir/a b.txt", 200), ("GetObject", "dir/a b.txt", 200),
                   ("GetObject", "missing", 404), ("GetObject", "anon", 403), ("GetObject", "dir/a b.txt", 200)]
    create, put_rec, get_rec, missing, anon, presigned = records
    assert put_rec["bytes_received"] >= 1234 and put_rec["request_id"] == put["ResponseMetadata"]["RequestId"]
    assert get_rec["bytes_sent"] == 1234 and presigned["bytes_sent"] == 1234
    for r in records:
        assert r["duration_ms"] > 0 and r["remote"] == "127.0.0.1" and r["api"] == "s3"
        assert r["region"] == server.region and r["request_id"]
    for r in (create, put_rec, get_rec, missing, presigned):
        assert r["principal"].endswith(":root") and r["access_key"] == ACCESS_KEY
    assert anon["principal"] == "anonymous" and anon["access_key"] == ""
    assert presigned["path"].startswith("/logged/dir/a%20b.txt?")
    assert re.search(r"[?&](X-Amz-)?Signature=REDACTED(&|$)", presigned["path"])
    text = path.read_text()
    assert SECRET_KEY not in text and signature.group(1) not in text and unquote(signature.group(1)) not in text
    assert "Authorization" not in text and str(server.data_dir) not in text


def test_iam_and_admin_requests(logged: tuple[NuageServer, Path]) -> None:
    server, path = logged
    iam = server.client("iam")
    iam.create_user(UserName="logged-user")
    AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY).call("GET", "/admin/tenants")
    iam_lines = _wait_records(path, lambda r: r["api"] == "iam" and r["operation"] == "CreateUser")
    admin_lines = _wait_records(path, lambda r: r["api"] == "admin" and r["path"] == "/admin/tenants")
    assert len(iam_lines) == 1 and len(admin_lines) == 1
    assert iam_lines[0]["status"] == 200 and iam_lines[0]["access_key"] == ACCESS_KEY
    assert admin_lines[0]["status"] == 200 and admin_lines[0]["principal"].endswith(":root")
    assert admin_lines[0]["operation"] == "GET tenants" and admin_lines[0]["bytes_sent"] > 0
    assert SECRET_KEY not in path.read_text()


def test_moved_file_is_created_again(logged: tuple[NuageServer, Path]) -> None:
    """logrotate moves the file away (no copytruncate): the next lines go to a new file at the path."""
    server, path = logged
    s3 = server.client()
    s3.create_bucket(Bucket="rotation")
    s3.put_object(Bucket="rotation", Key="before-rotation", Body=b"1")
    _wait_records(path, lambda r: r["key"] == "before-rotation")
    rotated = path.with_name("access.log.1")
    path.rename(rotated)
    s3.put_object(Bucket="rotation", Key="after-rotation", Body=b"2")
    assert len(_wait_records(path, lambda r: r["key"] == "after-rotation")) == 1
    assert not [r for r in _records(path) if r["key"] == "before-rotation"]
    assert [r for r in _records(rotated) if r["key"] == "before-rotation"]
    rotated.rename(path.with_name("access.log.old"))


@pytest.mark.parametrize("workers", [1, 2])
def test_sighup_reopens_and_stops_nothing(tmp_path: Path, workers: int) -> None:
    """logrotate's ``postrotate kill -HUP``: the server goes on serving, and the lines go to the path."""
    path = tmp_path / "access.log"
    server = NuageServer(tmp_path / "data", workers=workers, extra_args=["--access-log", str(path)])
    server.start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="hup")
        _wait_records(path, lambda r: r["operation"] == "CreateBucket")
        path.rename(tmp_path / "access.log.1")
        assert server.proc is not None
        server.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert server.proc.poll() is None
        s3.put_object(Bucket="hup", Key="after-hup", Body=b"1")
        assert len(_wait_records(path, lambda r: r["key"] == "after-hup")) == 1
    finally:
        assert server.stop() == 0


def test_common_format(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    server = NuageServer(tmp_path / "data", extra_args=["--access-log", str(path), "--access-log-format", "common"])
    server.start()
    try:
        s3 = server.client()
        s3.create_bucket(Bucket="common")
        s3.put_object(Bucket="common", Key="k", Body=b"hello")
        s3.get_object(Bucket="common", Key="k")["Body"].read()
        wait_for(lambda: len(_lines(path)) >= 3, timeout=10)
    finally:
        server.stop()
    shape = re.compile(r'^127\.0\.0\.1 - (\S+) \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                       r'"(\w+) (\S+) HTTP/1\.1" (\d{3}) (\d+) ([0-9A-F]+) (\w+) (\d+\.\d{3}) (\d+) "[^"]*"$')
    lines = _lines(path)
    assert len(lines) == 3
    matches = [shape.match(line) for line in lines]
    assert all(matches), lines
    get = matches[2]
    assert get is not None
    assert get.group(1) == ACCESS_KEY and get.group(2) == "GET" and get.group(3) == "/common/k"
    assert get.group(4) == "200" and get.group(5) == "5" and get.group(7) == "GetObject"
    assert float(get.group(8)) > 0


def test_workers_write_whole_lines(tmp_path: Path) -> None:
    """Two worker processes, 2,000 requests from 8 threads: 2,000 whole lines, none mixed with another."""
    path = tmp_path / "access.log"
    server = NuageServer(tmp_path / "data", workers=2, extra_args=["--access-log", str(path)])
    server.start()
    per_thread = 250
    errors: list[BaseException] = []

    def client(index: int) -> None:
        try:
            for n in range(per_thread):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)   # new: spread on workers
                conn.request("GET", f"/no-such-bucket-{index}/key-{n}-{'x' * (n % 97)}")
                conn.getresponse().read()
                conn.close()
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        wait_for(lambda: len(_lines(path)) >= 8 * per_thread, timeout=15)
    finally:
        server.stop()
    records = [json.loads(line) for line in _lines(path)]   # each line a whole JSON object
    assert len(records) == 8 * per_thread
    assert {r["worker"] for r in records} == {0, 1}
    keys = {(r["bucket"], r["key"]) for r in records}
    assert len(keys) == 8 * per_thread
    assert all(r["status"] in (403, 404) for r in records)


def test_log_level_warning_hides_info(tmp_path: Path) -> None:
    quiet = NuageServer(tmp_path / "quiet", extra_args=["--log-level", "warning"])
    quiet.start()
    quiet.stop()
    chatty = NuageServer(tmp_path / "chatty")
    chatty.start()
    chatty.stop()
    assert "INFO" in chatty.log() and "object files in" in chatty.log()
    assert "INFO" not in quiet.log() and "object files in" not in quiet.log()
    assert "Nuage S3 endpoint" in quiet.log()   # the banner is printed whatever the level


def test_access_log_to_stdout_by_environment(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data", env={"NUAGE_ACCESS_LOG": "-", "NUAGE_ACCESS_LOG_FORMAT": "common"})
    server.start()
    try:
        server.client().list_buckets()
        wait_for(lambda: " ListBuckets " in server.log(), timeout=10)
    finally:
        server.stop()
    line = next(line for line in server.log().splitlines() if " ListBuckets " in line)
    assert line.startswith(f"127.0.0.1 - {ACCESS_KEY} [") and '"GET / HTTP/1.1" 200 ' in line


def test_access_log_that_cannot_be_opened(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data", extra_args=["--access-log", str(tmp_path / "no" / "such" / "dir.log")])
    with pytest.raises(RuntimeError, match="cannot open the access log"):
        server.start()
    assert "Traceback" not in server.log()
