"""Nuage's uvicorn protocol: what one callback writes leaves in one send, in order, and nothing written is
lost when the transport is closed or aborted right after; request bodies reach the app whole."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import os
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvicorn
import uvloop

from nuage.httpserver import BodyChunks, CoalescingHttpToolsProtocol, CoalescingTransport


class _Sink(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport


async def _pair() -> tuple[CoalescingTransport, socket.socket]:
    """A real TCP connection on 127.0.0.1: our end wrapped, the peer a plain blocking socket."""
    loop = asyncio.get_running_loop()
    listener = socket.create_server(("127.0.0.1", 0))
    peer_future = loop.run_in_executor(None, listener.accept)
    transport, _ = await loop.create_connection(_Sink, *listener.getsockname()[:2])
    peer, _ = await peer_future
    listener.close()
    peer.settimeout(5)
    return CoalescingTransport(transport, loop), peer


def run(main: Callable[[], Coroutine[Any, Any, None]],
        loop_factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop) -> None:
    loop = loop_factory()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def _recv_all(peer: socket.socket) -> bytes:
    out = b""
    while chunk := peer.recv(65536):
        out += chunk
    return out


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop])
def test_one_callback_one_send_in_order(loop_factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
    async def main() -> None:
        t, peer = await _pair()
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        t.write(b"hello")
        assert t.get_write_buffer_size() == 43   # waiting for the end of this callback
        await asyncio.sleep(0.05)
        assert t.get_write_buffer_size() == 0
        assert peer.recv(65536) == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"   # one segment
        t.write(b"a")
        t.writelines([b"b", bytearray(b"c"), memoryview(b"d")])
        t.close()                                 # sends what is pending first
        assert t.is_closing()
        t.write(b"after close")                   # dropped, as a closed transport drops it
        await asyncio.sleep(0.05)
        assert _recv_all(peer) == b"abcd"
        peer.close()

    run(main, loop_factory)


def test_large_writes_go_at_once_after_what_is_pending() -> None:
    """A piece of a large body is not held back (waiting slows big transfers), and the head written
    just before it goes first."""
    async def main() -> None:
        t, peer = await _pair()
        big = bytes(range(256)) * 1024                # 256 KiB
        t.write(b"head")
        t.write(big)
        assert t.get_write_buffer_size() < len(big)   # handed to the socket now, not at the end of the turn
        t.write(big)
        t.close()
        got = await asyncio.get_running_loop().run_in_executor(None, _recv_all, peer)
        assert got == b"head" + big + big
        peer.close()

    run(main)


def test_abort_sends_what_was_written_before() -> None:
    async def main() -> None:
        t, peer = await _pair()
        t.write(b"last response")
        t.abort()
        await asyncio.sleep(0.05)
        assert _recv_all(peer) == b"last response"
        peer.close()

    run(main)


def test_the_rest_is_the_real_transport() -> None:
    async def main() -> None:
        t, peer = await _pair()
        assert t.get_extra_info("peername") == peer.getsockname()
        assert t.is_reading()
        t.pause_reading()
        assert not t.is_reading()
        t.resume_reading()
        t.set_write_buffer_limits(high=1 << 20)
        assert t.get_write_buffer_limits()[1] == 1 << 20
        assert isinstance(t.get_protocol(), _Sink)
        assert t.can_write_eof()
        t.write(b"x")
        t.write_eof()                             # sends "x" first
        await asyncio.sleep(0.05)
        assert _recv_all(peer) == b"x"
        t.close()
        peer.close()

    run(main)


class _EchoDigest:
    """An ASGI app that reads the whole body (after ``delay``, so that pieces pile up unread) and answers
    with its MD5, its size and the types of the body messages it got."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(self.delay)
        digest, size, kinds = hashlib.md5(), 0, set()
        while True:
            message = await receive()
            body = message.get("body", b"")
            kinds.add(type(body).__name__)
            digest.update(body)
            size += len(body)
            if not message.get("more_body", False):
                break
        answer = f"{digest.hexdigest()} {size} {','.join(sorted(kinds))}".encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(answer)).encode())]})
        await send({"type": "http.response.body", "body": answer})


def _upload(port: int, pieces: list[bytes], pause: float) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("PUT", "/k")
        conn.putheader("content-length", str(sum(len(p) for p in pieces)))
        conn.endheaders()
        for piece in pieces:
            conn.send(piece)
            time.sleep(pause)
        return conn.getresponse().read()
    finally:
        conn.close()


@pytest.mark.parametrize(("delay", "pause"), [(0.0, 0.01), (0.3, 0.0)])
def test_bodies_reach_the_app_whole_as_bytes(delay: float, pause: float) -> None:
    """Body pieces handed over without copies arrive complete and in order, as ``bytes``: one at a
    time (pauses between them) and piled up while the app has not asked yet (more than uvicorn's
    high-water mark, so reading pauses and resumes)."""
    pieces = [os.urandom(n) for n in (1, 4096, 70_000, 300_000, 65_536, 10)] * 3
    expected = hashlib.md5(b"".join(pieces)).hexdigest()
    size = sum(len(p) for p in pieces)

    async def main() -> None:
        sock = socket.create_server(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(_EchoDigest(delay), http=CoalescingHttpToolsProtocol, lifespan="off",
                                log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            reply = await asyncio.get_running_loop().run_in_executor(None, _upload, port, pieces, pause)
        finally:
            server.should_exit = True
            await serving
        assert reply == f"{expected} {size} bytes".encode()

    run(main)


def test_body_chunks_answer_len_and_bytes_without_copying_one_piece() -> None:
    piece = os.urandom(1000)
    chunks = BodyChunks(piece)
    assert len(chunks) == 1000 and bytes(chunks) is piece
    chunks.append(b"tail")
    assert len(chunks) == 1004 and bytes(chunks) == piece + b"tail"
