"""A small asyncio HTTP/1.1 client for region-to-region requests: streamed request bodies with a
Content-Length, kept-alive connections per endpoint, small responses (JSON) read whole."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

BodyFactory = Callable[[], AsyncIterator[bytes]]
MAX_RESPONSE = 1024 * 1024
IDLE_PER_ENDPOINT = 32
MIN_RATE = 1_000_000          # bytes/s a body may not fall below before the exchange times out


@dataclass
class HTTPResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class TransportError(Exception):
    """The peer could not be reached or the exchange broke off."""


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HTTPClient:
    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, int, bool], list[_Conn]] = {}

    async def close(self) -> None:
        for conns in self._idle.values():
            for _, writer in conns:
                writer.close()
        self._idle.clear()

    async def request(self, method: str, url: str, headers: dict[str, str], body: BodyFactory | None = None,
                      length: int = 0) -> HTTPResponse:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        host = parts.hostname or "127.0.0.1"
        port = parts.port or (443 if tls else 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        where = (host, port, tls)
        for attempt in (0, 1):      # a kept-alive connection the peer closed meanwhile: once more on a new one
            pooled = self._take(where) if attempt == 0 else None
            if pooled is not None:
                conn = pooled
            else:
                try:
                    conn = await asyncio.wait_for(asyncio.open_connection(
                        host, port, ssl=ssl.create_default_context() if tls else None), self.timeout)
                except (OSError, TimeoutError) as exc:
                    raise TransportError(f"cannot connect to {host}:{port}: {exc}") from None
            try:
                response, reusable = await asyncio.wait_for(   # a big body gets time at >= MIN_RATE
                    self._exchange(conn, method, target, headers, body, length), self.timeout + length / MIN_RATE)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                conn[1].close()
                if pooled is not None:
                    continue
                raise TransportError(f"exchange with {host}:{port} failed: {exc!r}") from None
            if reusable:
                self._give(where, conn)
            else:
                conn[1].close()
            return response
        raise TransportError(f"exchange with {host}:{port} failed")  # pragma: no cover

    def _take(self, where: tuple[str, int, bool]) -> _Conn | None:
        conns = self._idle.get(where)
        while conns:
            conn = conns.pop()
            if not conn[0].at_eof() and not conn[1].is_closing():
                return conn
            conn[1].close()
        return None

    def _give(self, where: tuple[str, int, bool], conn: _Conn) -> None:
        conns = self._idle.setdefault(where, [])
        if len(conns) < IDLE_PER_ENDPOINT:
            conns.append(conn)
        else:
            conn[1].close()

    async def _exchange(self, conn: _Conn, method: str, target: str, headers: dict[str, str],
                        body: BodyFactory | None, length: int) -> tuple[HTTPResponse, bool]:
        reader, writer = conn
        head = [f"{method} {target} HTTP/1.1"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"content-length: {length}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        sent = 0
        if body is not None:
            async for chunk in body():
                writer.write(chunk)
                sent += len(chunk)
                await writer.drain()
        if sent != length:
            raise ValueError(f"the body had {sent} bytes, not {length}")
        await writer.drain()
        status_line = await reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        status = int(status_line.split(b" ", 2)[1])
        out: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            out[name.strip().lower()] = value.strip()
        size = int(out.get("content-length", "0"))
        if size > MAX_RESPONSE:
            raise ValueError("response too large")
        data = await reader.readexactly(size) if size else b""
        reusable = out.get("connection", "").lower() != "close"
        return HTTPResponse(status, out, data), reusable


async def aclose(client: HTTPClient) -> None:
    with contextlib.suppress(Exception):
        await client.close()
