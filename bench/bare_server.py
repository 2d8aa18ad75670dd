"""The bare uvloop + httptools server that issue 2 quotes among the machine's limits ("answers ~78,000
4 KiB PUTs/s, no disk"): no ASGI, no framework, just the event loop, the parser and a canned answer.
bench/run.py runs it like a server ("bare": `python bare_server.py PORT`) with the same pinning and wrk
settings as the others, to measure how fast this machine is now against the machine the targets were
set on. Keep-alive HTTP/1.1; a GET answers 4 KiB (1 MiB when the path ends in "/1m"); a PUT reads and
drops its body and answers an empty 200. Not a server for anything but this measurement."""

from __future__ import annotations

import asyncio
import sys
from typing import cast

import httptools
import uvloop

SMALL = b"x" * 4096
LARGE = b"x" * (1024 * 1024)


def _response(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\netag: \"0\"\r\n\r\n" % len(body) + body


GET_SMALL, GET_LARGE, EMPTY = _response(SMALL), _response(LARGE), _response(b"")


class BareProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)   # uvloop's are no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        assert self.transport is not None
        method = self.parser.get_method()
        url, self.url = self.url, b""
        if method == b"GET":
            self.transport.write(GET_LARGE if url.split(b"?", 1)[0].endswith(b"/1m") else GET_SMALL)
        else:
            self.transport.write(EMPTY)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(BareProtocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
