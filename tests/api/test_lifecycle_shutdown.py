"""Ctrl-C (SIGINT): a clean exit with code 0, nothing half-written, and data that reads back after restart."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from tests.support import rawhttp
from tests.support.server import NuageServer


def test_sigint_exits_zero_and_data_survives(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data").start()
    c = srv.client()
    c.create_bucket(Bucket="persist")
    objects = {f"k{i}": os.urandom(1000 * i) for i in range(10)}
    for k, v in objects.items():
        c.put_object(Bucket="persist", Key=k, Body=v)
    c.put_bucket_versioning(Bucket="persist", VersioningConfiguration={"Status": "Enabled"})
    v1 = c.put_object(Bucket="persist", Key="versioned", Body=b"one")["VersionId"]
    c.put_object(Bucket="persist", Key="versioned", Body=b"two")
    uid = c.create_multipart_upload(Bucket="persist", Key="pending")["UploadId"]
    c.upload_part(Bucket="persist", Key="pending", UploadId=uid, PartNumber=1, Body=b"part")
    assert srv.stop() == 0, srv.log()
    assert "Traceback" not in srv.log()

    again = NuageServer(tmp_path / "data", port=0).start()
    try:
        c = again.client()
        for k, v in objects.items():
            assert c.get_object(Bucket="persist", Key=k)["Body"].read() == v
        assert c.get_object(Bucket="persist", Key="versioned", VersionId=v1)["Body"].read() == b"one"
        assert c.get_object(Bucket="persist", Key="versioned")["Body"].read() == b"two"
        assert [u["UploadId"] for u in c.list_multipart_uploads(Bucket="persist")["Uploads"]] == [uid]
    finally:
        assert again.stop() == 0


def test_sigint_with_upload_in_flight(tmp_path: Path) -> None:
    """An upload in flight at Ctrl-C either finishes (200, stored whole) or is refused (nothing stored)."""
    srv = NuageServer(tmp_path / "data").start()
    srv.client().create_bucket(Bucket="flight")
    body = os.urandom(4 * 1024 * 1024)
    path = "/flight/in-flight"
    headers = rawhttp.sign(srv, "PUT", path, body=body)
    conn = rawhttp.connection(srv, timeout=20)
    status: int | None = None
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[: len(body) // 2])
        time.sleep(0.3)
        assert srv.proc is not None
        srv.proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        try:
            conn.send(body[len(body) // 2:])
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except OSError:
            status = None
    finally:
        conn.close()
    assert srv.proc.wait(30) == 0, srv.log()

    again = NuageServer(tmp_path / "data").start()
    try:
        head = rawhttp.request(again, "GET", path)
        if status == 200:
            assert hashlib.md5(head.body).digest() == hashlib.md5(body).digest()
        else:
            assert head.status == 404
            listed = again.client().list_objects_v2(Bucket="flight")
            assert listed["KeyCount"] == 0
    finally:
        assert again.stop() == 0


def test_sigint_with_idle_keepalive_connections(tmp_path: Path, tls_ca: Any) -> None:
    """Idle keep-alive connections (HTTP and HTTPS) must not hold Ctrl-C up."""
    ca, cert, key = tls_ca
    for tls in (None, (cert, key)):
        srv = NuageServer(tmp_path / f"data-{'tls' if tls else 'plain'}", tls=tls, ca_file=ca).start()
        idle = rawhttp.connection(srv)
        idle.request("GET", "/")
        idle.getresponse().read()  # the connection stays open and idle
        try:
            assert srv.proc is not None
            started = time.monotonic()
            srv.proc.send_signal(signal.SIGINT)
            code = srv.proc.wait(60)
            elapsed = time.monotonic() - started
        finally:
            idle.close()
        assert code == 0
        assert elapsed < 10, f"Ctrl-C took {elapsed:.1f}s with an idle {'TLS ' if tls else ''}connection open"


def test_port_is_released_after_stop(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data").start()
    port = srv.port
    assert srv.stop() == 0
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
