"""Requests to a gateway of several worker processes, each on a fresh connection whose worker is known:
a health check on the connection first says which worker holds it (keep-alive keeps the connection on it)."""

from __future__ import annotations

import http.client
import json
import time

from tests.support import rawhttp
from tests.support.server import NuageServer


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
