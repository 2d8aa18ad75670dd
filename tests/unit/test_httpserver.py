"""Nuage's HTTP/1.1 protocol (nuage.httpserver) under uvicorn's server, on real sockets of 127.0.0.1: what a
client sees of framing, keep-alive, pipelining, 100-continue, errors and shutdown, and request bodies that
reach the app whole."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.client
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
import uvloop

from nuage.errors import ResponseAborted
from nuage.httpserver import GracefulServer, HttpLimits, HttpProtocol


class _App:
    """An ASGI app whose answer depends on the path: what the tests below need, one path each."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.release = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.seen.append(scope)

        async def answer(status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
            if headers is None:
                headers = [(b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        if path == "/echo":   # the MD5, size and body types of what was received
            await asyncio.sleep(float(dict(scope["headers"]).get(b"x-delay", b"0")))
            digest, size, kinds = hashlib.md5(), 0, set()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    self.seen.append({"disconnect": size})
                    return
                body = message.get("body", b"")
                kinds.add(type(body).__name__)
                digest.update(body)
                size += len(body)
                if not message.get("more_body", False):
                    break
            await answer(200, f"{digest.hexdigest()} {size} {','.join(sorted(kinds))}".encode())
        elif path == "/early":   # answers without reading the body
            await answer(403, b"no")
        elif path == "/stream":   # no length: chunked, in three pieces
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for piece in (b"one,", b"", b"two"):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/big":
            await answer(200, bytes(range(256)) * 4096 * 2)   # 2 MiB
        elif path == "/empty":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/bad-header":
            await answer(200, b"x", [(b"content-length", b"1"), (b"x-evil", b"a\r\nset-cookie: b")])
        elif path == "/bad-value":
            await answer(200, b"x", [(b"content-length", b"1"), (b"x-evil", b"a\x01b")])
        elif path == "/bad-name":
            await answer(200, b"x", [(b"content-length", b"1"), (b"set-cookie: b\r\nx-evil", b"a")])
        elif path == "/upper":
            await answer(200, b"x", [(b"Content-Length", b"1"), (b"X-Mixed-Case", b"v")])
        elif path == "/short":
            await answer(200, b"abc", [(b"content-length", b"10")])
        elif path == "/fail":
            raise ValueError("the app failed")
        elif path == "/abort":   # a body cut short on purpose after its first piece
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
            await send({"type": "http.response.body", "body": b"abc", "more_body": True})
            raise ResponseAborted()
        elif path == "/close":
            await answer(200, b"bye", [(b"content-length", b"3"), (b"connection", b"close")])
        elif path == "/slow":   # holds its response until the test lets it go
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 10)
            await answer(200, b"slow")
        else:
            await answer(200, scope["method"].encode() + b" " + scope["raw_path"] + b"?" + scope["query_string"])


class _Running:
    def __init__(self, app: _App, server: GracefulServer, port: int, thread: threading.Thread) -> None:
        self.app, self.server, self.port, self.thread = app, server, port, thread

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def _start(keep_alive: float = 5.0, limits: HttpLimits | None = None) -> _Running:
    app = _App()
    sock = socket.create_server(("127.0.0.1", 0))
    protocol = HttpProtocol.configured(limits or HttpLimits())
    config = uvicorn.Config(app, http=protocol, lifespan="off", log_level="critical",
                            timeout_keep_alive=keep_alive, timeout_graceful_shutdown=5)   # type: ignore[arg-type]
    server = GracefulServer(config)

    def serve() -> None:
        loop = uvloop.new_event_loop()
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    return _Running(app, server, sock.getsockname()[1], thread)


@pytest.fixture
def srv() -> Iterator[_Running]:
    running = _start()
    yield running
    running.stop()


def _recv_until_closed(sock: socket.socket) -> bytes:
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


class _Reader:
    """Responses off a raw socket, one at a time (pipelined ones may arrive together)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""
        self.last_head = b""

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, f"closed in the middle of a response: {self.buf!r}"
        self.buf += chunk

    def head(self) -> bytes:
        """The head of a response that has no body (HEAD)."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def response(self) -> tuple[bytes, dict[bytes, bytes], bytes]:
        """Status line, headers and body (Content-Length, chunked as sent, or none)."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.last_head = head
        status, *lines = head.split(b"\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(b": ") for line in lines)}
        if headers.get(b"transfer-encoding") == b"chunked":
            while b"0\r\n\r\n" not in self.buf:
                self._more()
            body, _, self.buf = self.buf.partition(b"0\r\n\r\n")
            return status, headers, body + b"0\r\n\r\n"
        size = int(headers.get(b"content-length", b"0")) if not status.startswith(b"HTTP/1.1 204") else 0
        while len(self.buf) < size:
            self._more()
        body, self.buf = self.buf[:size], self.buf[size:]
        return status, headers, body


def _read_response(sock: socket.socket) -> tuple[bytes, dict[bytes, bytes], bytes]:
    return _Reader(sock).response()


def test_raw_path_and_query_reach_the_app_as_sent(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET /a/b%20c?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, body = _read_response(s)
        assert status == b"HTTP/1.1 200 OK" and b"date" in headers
        assert body == b"GET /a/b%20c?x=1"
    assert srv.app.seen[0]["path"] == "/a/b c"


def test_keep_alive_and_pipelined_requests_answer_in_order(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
                  b"PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                  b"HEAD /3 HTTP/1.1\r\nHost: h\r\n\r\n")
        r = _Reader(s)
        assert r.response()[2] == b"GET /1?"
        assert r.response()[2] == b"GET /2?"
        assert r.response()[2] == hashlib.md5(b"abc").hexdigest().encode() + b" 3 bytes"
        head = r.head()                                  # HEAD: a length, and no body follows
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\ncontent-length: 8\r\n" in head
        s.sendall(b"GET /4 HTTP/1.1\r\nHost: h\r\n\r\n")
        assert r.response()[2] == b"GET /4?"               # the response right after the HEAD's head


@pytest.mark.parametrize(("delay", "pause"), [(0.0, 0.01), (0.3, 0.0)])
def test_bodies_reach_the_app_whole_as_bytes(srv: _Running, delay: float, pause: float) -> None:
    """Body pieces, handed over without copies, arrive complete and in order as ``bytes``: one at a time
    (pauses between them) and piled up while the app has not asked yet (more than the high-water mark,
    so reading pauses and resumes)."""
    pieces = [os.urandom(n) for n in (1, 4096, 70_000, 300_000, 65_536, 10)] * 3
    expected = hashlib.md5(b"".join(pieces)).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.putrequest("PUT", "/echo")
        conn.putheader("content-length", str(sum(len(p) for p in pieces)))
        conn.putheader("x-delay", str(delay))
        conn.endheaders()
        for piece in pieces:
            conn.send(piece)
            time.sleep(pause)
        assert conn.getresponse().read() == f"{expected} {sum(map(len, pieces))} bytes".encode()
    finally:
        conn.close()


def test_chunked_request_body(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        assert _read_response(s)[2] == hashlib.md5(b"abcde").hexdigest().encode() + b" 5 bytes"


def test_100_continue_only_when_the_app_reads(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"hi")
        assert _read_response(s)[2] == hashlib.md5(b"hi").hexdigest().encode() + b" 2 bytes"
        s.sendall(b"PUT /early HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        status, _, body = _read_response(s)
        assert status == b"HTTP/1.1 403 Forbidden" and body == b"no"   # no 100 Continue before it


def test_chunked_response_without_length_and_no_body_for_204(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET /stream HTTP/1.1\r\nHost: h\r\n\r\n")
        _, headers, body = _read_response(s)
        assert headers[b"transfer-encoding"] == b"chunked"
        assert body == b"4\r\none,\r\n3\r\ntwo\r\n0\r\n\r\n"
        s.sendall(b"GET /empty HTTP/1.1\r\nHost: h\r\n\r\nGET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        r = _Reader(s)
        status, headers, body = r.response()
        assert status == b"HTTP/1.1 204 No Content" and b"transfer-encoding" not in headers and body == b""
        assert r.response()[2] == b"GET /after?"


def test_header_names_are_sent_lowercase(srv: _Running) -> None:
    with srv.connect() as s:
        r = _Reader(s)
        for _ in range(2):
            s.sendall(b"GET /upper HTTP/1.1\r\nHost: h\r\n\r\n")
            assert r.response()[2] == b"x"
            assert b"\r\nx-mixed-case: v" in r.last_head and b"\r\ncontent-length: 1" in r.last_head


def test_a_large_body_arrives_whole(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
        assert _read_response(s)[2] == bytes(range(256)) * 4096 * 2


@pytest.mark.parametrize("path", ["/bad-header", "/bad-value", "/bad-name", "/short"])
def test_a_response_the_app_got_wrong_closes_the_connection(srv: _Running, path: str) -> None:
    """A header value with CR LF (header injection) is never sent; a body shorter than its length ends
    the connection."""
    with srv.connect() as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
        data = _recv_until_closed(s)
    assert b"set-cookie" not in data and b"x-evil" not in data
    if path == "/short":
        assert data.endswith(b"\r\n\r\nabc")


def test_an_app_failing_before_its_response_gives_500_and_close(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET /fail HTTP/1.1\r\nHost: h\r\n\r\n")
        data = _recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"\r\nconnection: close\r\n" in data and data.endswith(b"Internal Server Error")


def test_an_aborted_response_is_cut_short_without_a_traceback(srv: _Running,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """ResponseAborted (an app that found damaged bytes before the end of a body): the client gets a
    body shorter than its length and a closed connection, never a complete answer; nothing is logged."""
    with caplog.at_level(logging.DEBUG, logger="nuage.http"), srv.connect() as s:
        s.sendall(b"GET /abort HTTP/1.1\r\nHost: h\r\n\r\n")
        data = _recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\nabc")
    assert not [r for r in caplog.records if r.exc_info], caplog.text


def test_a_malformed_request_gets_400_and_close(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n")
        data = _recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n") and data.endswith(b"Invalid HTTP request received.")


@pytest.mark.parametrize("request_line", [b"GET /close HTTP/1.1\r\nHost: h\r\n\r\n",
                                          b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                                          b"GET /x HTTP/1.0\r\n\r\n"])
def test_connection_close_either_way(srv: _Running, request_line: bytes) -> None:
    with srv.connect() as s:
        s.sendall(request_line)
        data = _recv_until_closed(s)                     # the server closes after the response
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nconnection: close\r\n" in data


def test_a_client_gone_mid_body_is_a_disconnect(srv: _Running) -> None:
    with srv.connect() as s:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc")
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while {"disconnect": 3} not in srv.app.seen:
        assert time.monotonic() < deadline, srv.app.seen
        time.sleep(0.02)


def test_an_idle_connection_closes_after_the_keep_alive_timeout() -> None:
    running = _start(keep_alive=0.5)
    try:
        with running.connect() as s:
            for _ in range(3):                           # busy: each request restarts the idle clock
                s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
                assert _read_response(s)[2] == b"GET /x?"
                time.sleep(0.3)
            started = time.monotonic()
            assert s.recv(65536) == b""                  # then idle: closed by the server
            assert 0.05 < time.monotonic() - started < 2
    finally:
        running.stop()


def test_shutdown_drops_idle_connections_and_finishes_a_running_response() -> None:
    running = _start()
    idle, busy = running.connect(), running.connect()
    try:
        idle.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        assert _read_response(idle)[2] == b"GET /x?"
        busy.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(0.2)
        running.server.should_exit = True
        assert idle.recv(65536) == b""                   # dropped at once, while /slow still runs
        running.app.release.set()
        data = _recv_until_closed(busy)                  # finished, then closed
        assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"slow")
        assert b"\r\nconnection: close\r\n" in data
    finally:
        idle.close()
        busy.close()
        running.app.release.set()
        running.stop()


# -- limits --------------------------------------------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[_Running]:
    running = _start(limits=HttpLimits(max_request_line=1024, max_header_size=512, max_headers_size=4096,
                                       max_headers=20, header_timeout=0.6, max_connections=20,
                                       max_connections_per_client=4))
    yield running
    running.stop()


def _refused(sock: socket.socket, request: bytes) -> bytes:
    """What the server answers ``request`` with, up to its close (the client's writes may fail once the
    server stopped reading)."""
    with contextlib.suppress(OSError):
        sock.sendall(request)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def test_an_oversized_request_line_gets_414_and_close(limited: _Running) -> None:
    with limited.connect() as s:
        assert _refused(s, b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\nHost: h\r\n\r\n").startswith(
            b"HTTP/1.1 414 ")
    with limited.connect() as s:   # one just under the limit is served
        s.sendall(b"GET /" + b"a" * 1000 + b" HTTP/1.1\r\nHost: h\r\n\r\n")
        assert _read_response(s)[0] == b"HTTP/1.1 200 OK"
    assert len(limited.app.seen) == 1


@pytest.mark.parametrize("headers", [
    b"X-Big: " + b"v" * 600 + b"\r\n",                                         # one header too large
    b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 300) for i in range(15)),          # all of them too large
    b"".join(b"X-H%d: v\r\n" % i for i in range(25)),                          # too many
])
def test_oversized_headers_get_431_and_close(limited: _Running, headers: bytes) -> None:
    with limited.connect() as s:
        data = _refused(s, b"GET / HTTP/1.1\r\nHost: h\r\n" + headers + b"\r\n")
    assert data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"\r\nconnection: close\r\n" in data
    assert limited.app.seen == []


def test_a_64_mib_header_is_refused_before_the_server_holds_it() -> None:
    """The server stops reading once a head passes its limit (httptools would gather a header's value
    whole before handing it over): the client cannot send 64 MiB, and the answer is 431."""
    running = _start(limits=HttpLimits(max_header_size=8192, max_headers_size=16384, max_request_line=4096))
    answer = b""
    sent = 0
    try:
        with running.connect() as s:
            s.settimeout(10)

            def read() -> None:
                nonlocal answer
                try:
                    while chunk := s.recv(65536):
                        answer += chunk
                except OSError:
                    pass

            reader = threading.Thread(target=read)
            reader.start()
            piece = b"a" * 65536
            with contextlib.suppress(OSError):
                s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: ")
                while sent < 64 * 1024 * 1024:
                    s.sendall(piece)
                    sent += len(piece)
            reader.join(10)
    finally:
        running.stop()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    # what the server read (its limit plus a read or two and the little it drops after refusing) and what
    # the two sockets' buffers took
    assert sent < 24 * 1024 * 1024, sent
    assert running.app.seen == []


def test_a_head_split_across_reads_with_a_large_body_after_it_is_served(limited: _Running) -> None:
    body = os.urandom(300_000)
    with limited.connect() as s:
        s.sendall(b"PUT /echo HTTP/1.1\r\nHo")
        time.sleep(0.1)
        s.sendall(b"st: h\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        assert _read_response(s)[2] == hashlib.md5(body).hexdigest().encode() + b" 300000 bytes"


def test_a_slow_head_gets_408_after_the_header_timeout(limited: _Running) -> None:
    with limited.connect() as s:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")   # a first request, at once: served
        assert _read_response(s)[2] == b"GET /x?"
        started = time.monotonic()
        s.sendall(b"GET /y HTTP/1.1\r\n")
        data = b""
        try:
            for i in range(40):                              # a header every 0.1 s: never complete
                s.sendall(b"X-Drip-%d: v\r\n" % i)
                time.sleep(0.1)
        except OSError:
            pass
        while chunk := s.recv(65536):
            data += chunk
        elapsed = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and b"\r\nconnection: close\r\n" in data
    assert 0.5 < elapsed < 3, elapsed
    assert [scope["path"] for scope in limited.app.seen] == ["/x"]


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(limited: _Running) -> None:
    with limited.connect() as s:
        started = time.monotonic()
        assert s.recv(65536) == b""
        assert 0.5 < time.monotonic() - started < 3


def _open_served(running: _Running, count: int) -> list[socket.socket]:
    """``count`` connections, each with a request served on it (so the server counts them as open)."""
    open_ones = [running.connect() for _ in range(count)]
    try:
        for s in open_ones:
            s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
            assert _read_response(s)[2] == b"GET /x?"
    except BaseException:
        for s in open_ones:
            s.close()
        raise
    return open_ones


def test_connections_per_client_are_capped(limited: _Running) -> None:
    """Past the cap a new connection is answered 503 SlowDown (SDKs back off and retry) and closed; the
    ones open are untouched, and a slot is free again once one of them closes."""
    open_ones = _open_served(limited, 4)
    try:
        with limited.connect() as extra:
            data = _refused(extra, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"\r\nconnection: close\r\n" in data and b"<Code>SlowDown</Code>" in data
        open_ones[0].sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")   # still served
        assert _read_response(open_ones[0])[2] == b"GET /x?"
        open_ones.pop(0).close()
        deadline = time.monotonic() + 5
        while True:   # the server sees the close a moment later
            with limited.connect() as again:
                again.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
                status = _read_response(again)[0]
            if status == b"HTTP/1.1 200 OK" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == b"HTTP/1.1 200 OK"
    finally:
        for s in open_ones:
            s.close()


def test_open_connections_are_capped() -> None:
    running = _start(limits=HttpLimits(max_connections=3, max_connections_per_client=0))
    open_ones: list[socket.socket] = []
    try:
        open_ones = _open_served(running, 3)
        with running.connect() as extra:
            data = _refused(extra, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
        assert data.startswith(b"HTTP/1.1 503 Service Unavailable\r\n") and b"<Code>SlowDown</Code>" in data
    finally:
        for s in open_ones:
            s.close()
        running.stop()


def test_a_request_refused_behind_a_running_response_does_not_cut_it(limited: _Running) -> None:
    """A pipelined request over the limits while a response is still going out: that response ends whole
    (no 431 in the middle of it), then the connection closes."""
    with limited.connect() as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"
                  b"GET /x HTTP/1.1\r\nHost: h\r\nX-Big: " + b"v" * 600 + b"\r\n\r\n")
        time.sleep(0.2)
        limited.app.release.set()
        data = _recv_until_closed(s)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"slow"), data
    assert b"431" not in data


def test_a_slow_head_behind_a_running_response_is_not_timed_out(limited: _Running) -> None:
    """The head clock does not run out while the server is busy with the request before it."""
    with limited.connect() as s:
        s.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /x HTTP/1.1\r\nHo")
        time.sleep(1.0)                                  # longer than the header timeout (0.6 s)
        limited.app.release.set()
        r = _Reader(s)
        assert r.response()[2] == b"slow"
        s.sendall(b"st: h\r\n\r\n")
        assert r.response()[2] == b"GET /x?"


def test_a_flood_of_bad_requests_does_not_flood_the_log(srv: _Running, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="nuage.http")
    for _ in range(20):
        with srv.connect() as s:
            assert _refused(s, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert len([r for r in caplog.records if "Invalid HTTP request" in r.getMessage()]) <= 1
