"""uvicorn, as Nuage runs it: its httptools protocol with the writes of one turn of the event loop sent
together, request bodies handed over without copies, and a shutdown that does not wait for idle
keep-alive connections.

uvicorn writes a response's head and its body with two ``transport.write`` calls, which on a fresh
socket are two ``send`` system calls and two TCP segments (each waking the client). Small responses,
the bulk of S3 traffic, pay that twice: the trivial app of ``bench/ceiling_app.py`` answers 4 KiB GETs
40-80% faster with one. :class:`CoalescingTransport` keeps what is written during one callback and
hands it over in one ``writelines`` (one ``writev``) at the end of that turn of the loop, before any
other I/O; closing the transport sends what is pending first. Flow control is unchanged: the real
transport still pauses and resumes the protocol as its buffer fills and drains.

Request bodies: the parser hands each body piece over as a new ``bytes``; uvicorn copies it into a
``bytearray`` and, when the app asks, into ``bytes`` again. Those two copies were about a sixth of the
CPU of a 64 MiB PUT; :class:`BodyChunks` hands the parser's pieces to the app as they are. (Reading
the socket into a buffer of our own, to save the event loop's copy too, made no measurable difference.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import uvicorn
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["BodyChunks", "CoalescingHttpToolsProtocol", "CoalescingTransport", "GracefulServer"]

_Bytes = bytes | bytearray | memoryview
COALESCE_MAX = 64 * 1024   # larger writes go out at once: waiting for the end of the turn slows big bodies


class CoalescingTransport(asyncio.Transport):
    """A transport that forwards everything to ``transport`` but sends the data written during one
    callback of the event loop together, when that callback is done."""

    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[_Bytes] | None = None

    # -- writing ------------------------------------------------------------------------------------
    def write(self, data: _Bytes) -> None:
        if not data:
            return
        if len(data) > COALESCE_MAX:   # a piece of a large body: no waiting (and a head before it goes along)
            if self._pending is None:
                self._transport.write(data)
            else:
                self._pending.append(data)
                self._flush()
            return
        if self._pending is None:
            self._pending = [data]
            self._loop.call_soon(self._flush)
        else:
            self._pending.append(data)

    def writelines(self, list_of_data: Iterable[_Bytes]) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if not pending or self._transport.is_closing():
            return
        if len(pending) == 1:
            self._transport.write(pending[0])
        else:
            self._transport.writelines(pending)

    def get_write_buffer_size(self) -> int:
        queued = sum(len(d) for d in self._pending) if self._pending else 0
        return queued + self._transport.get_write_buffer_size()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    # -- closing ------------------------------------------------------------------------------------
    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._flush()   # what was written before goes out first, as it would have without the wait
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    # -- the rest, as the real transport does it -------------------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class BodyChunks:
    """The body pieces that arrived since the app last asked, kept as the parser gave them. uvicorn's
    request cycle keeps a ``bytearray`` there, appends each piece to it and gives the app
    ``bytes(body)``; this object answers ``len`` and ``bytes`` the same way without the two copies
    (``bytes`` of a single piece is that piece)."""

    __slots__ = ("parts", "size")

    def __init__(self, first: bytes) -> None:
        self.parts = [first]
        self.size = len(first)

    def append(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`CoalescingTransport` and keeping body
    pieces uncopied (:class:`BodyChunks`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if (self.parser.should_upgrade() and self._should_upgrade()) or cycle.response_complete:
            return
        pending: Any = cycle.body
        if isinstance(pending, BodyChunks):
            pending.append(body)
        else:   # uvicorn's empty bytearray (only on_body fills it, and this one replaces it)
            cycle.body = BodyChunks(body)  # type: ignore[assignment]   # read back with len() and bytes()
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.message_event.set()


class GracefulServer(uvicorn.Server):
    """uvicorn's server, except that idle keep-alive connections are dropped at once on shutdown:
    a TLS close waits for the client's close_notify, which an idle client never sends."""

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for conn in list(self.server_state.connections):
            cycle = getattr(conn, "cycle", None)
            transport = getattr(conn, "transport", None)
            if transport is not None and (cycle is None or cycle.response_complete):
                transport.abort()
        await super().shutdown(sockets)
