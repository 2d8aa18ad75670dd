"""Requests to a gateway of several worker processes, each on a fresh connection whose worker is known:
a health check on the connection first says which worker holds it (keep-alive keeps the connection on it)."""

from __future__ import annotations

import http.client
import json
import re
import time
from pathlib import Path

from tests.conftest import unique_bucket_name
from tests.support import rawhttp
from tests.support.server import NuageServer

VERSIONING_ON = (b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                 b"<Status>Enabled</Status></VersioningConfiguration>")


def health(server: NuageServer, conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, object]]:
    """(status, JSON body) of GET /_nuage/health, on ``conn`` or a connection of its own."""
    own = conn is None
    conn = conn or rawhttp.connection(server, timeout=10)
    try:
        conn.request("GET", "/_nuage/health")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        if own:
            conn.close()


def worker_connection(server: NuageServer) -> tuple[http.client.HTTPConnection, int]:
    """A fresh keep-alive connection and the index of the worker process it landed on."""
    conn = rawhttp.connection(server, timeout=30)
    status, body = health(server, conn)
    assert status == 200, body
    worker = body["worker"]
    assert isinstance(worker, int)
    return conn, worker


def send(server: NuageServer, conn: http.client.HTTPConnection, method: str, path: str,
         body: bytes = b"") -> rawhttp.Reply:
    """A signed request on ``conn`` (kept open)."""
    headers = rawhttp.sign(server, method, path, body=body)
    if method in ("PUT", "POST"):
        headers["Content-Length"] = str(len(body))
    conn.request(method, path, body=body or None, headers=headers)
    resp = conn.getresponse()
    return rawhttp.Reply(resp.status, resp.headers, resp.read())


def on_worker(server: NuageServer, worker: int, tries: int = 200) -> http.client.HTTPConnection:
    """A fresh connection that landed on worker ``worker`` (new connections until one does)."""
    for _ in range(tries):
        conn, found = worker_connection(server)
        if found == worker:
            return conn
        conn.close()
    raise AssertionError(f"no connection landed on worker {worker} in {tries} tries")


def wait_for_workers(server: NuageServer, count: int, timeout: float = 20.0) -> None:
    """Until fresh connections have reached each of the ``count`` workers."""
    seen: set[object] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        assert time.monotonic() < deadline, f"only workers {seen} answered within {timeout} s"
        try:
            status, body = health(server)
        except OSError:
            time.sleep(0.05)
            continue
        if status == 200:
            seen.add(body["worker"])


def start_workers(data: Path, count: int = 2, db: str | None = None) -> NuageServer:
    """``nuage serve --workers COUNT``, once every worker answers."""
    srv = NuageServer(data, extra_args=["--workers", str(count)], db=db).start()
    wait_for_workers(srv, count)
    return srv


def read_after_write_across_workers(gateway: NuageServer, bucket_bound: float = 0.0) -> None:
    """What one worker acknowledged, the other reads, lists and deletes at once: objects written again and
    again (the reader's memory of a key must never hide a new version), deletes; a bucket's configuration
    and its deletion within ``bucket_bound`` seconds (0: at once)."""
    bucket = unique_bucket_name("workers")
    first, second = on_worker(gateway, 0), on_worker(gateway, 1)
    try:
        assert send(gateway, first, "PUT", f"/{bucket}").status == 200
        assert send(gateway, second, "GET", f"/{bucket}?list-type=2").status == 200
        # one worker writes, the other reads: the reader's memory of the key must never hide a new version
        for writer, reader in ((first, second), (second, first)):
            for i in range(8):
                body = f"version {i} ".encode() * (1 + i * 300)   # small ones in the row, larger in files
                assert send(gateway, writer, "PUT", f"/{bucket}/key", body).status == 200
                got = send(gateway, reader, "GET", f"/{bucket}/key")
                assert (got.status, got.body) == (200, body)
                listed = send(gateway, reader, "GET", f"/{bucket}?list-type=2&prefix=key")
                assert b"<Key>key</Key>" in listed.body and f"<Size>{len(body)}</Size>".encode() in listed.body
        # a bucket configuration set through one worker applies on the other at once
        assert send(gateway, first, "PUT", f"/{bucket}?versioning", VERSIONING_ON).status == 200
        deadline = time.monotonic() + bucket_bound
        while True:
            put = send(gateway, second, "PUT", f"/{bucket}/versioned", b"v")
            assert put.status == 200
            if put.header("x-amz-version-id") not in (None, "null") or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        assert put.header("x-amz-version-id") not in (None, "null")
        # deletes, of objects and of the bucket, are seen by the other at once
        for key in ("key", "versioned"):
            versions = send(gateway, first, "GET", f"/{bucket}?versions")
            for version in re.findall(rf"<Key>{key}</Key><VersionId>([^<]+)</VersionId>", versions.body.decode()):
                assert send(gateway, first, "DELETE", f"/{bucket}/{key}?versionId={version}").status == 204
            assert send(gateway, second, "GET", f"/{bucket}/{key}").status == 404
        assert send(gateway, second, "GET", f"/{bucket}?list-type=2").status == 200
        assert send(gateway, first, "DELETE", f"/{bucket}").status == 204
        deadline = time.monotonic() + bucket_bound
        while (status := send(gateway, second, "GET", f"/{bucket}?list-type=2").status) != 404:
            assert time.monotonic() < deadline, status
            time.sleep(0.05)
    finally:
        first.close()
        second.close()
