"""One request and its response on an HTTP/1.1 connection: the ASGI ``receive`` and ``send`` of one
request, as :class:`nuage.httpserver.protocol.HttpProtocol` runs them.

What it does as uvicorn's request cycle does: ``Expect: 100-continue`` answered at the first
``receive``, Content-Length kept to (longer or shorter bodies are errors), chunked encoding when the
app gives no length, no body for HEAD, ``Connection: close`` honoured both ways, a 500 when the app fails
before its response starts, the connection closed when it fails after.

What it does differently, for small responses (most of S3's traffic):

- The status line and headers wait for the first piece of the body and leave with it (see
  :meth:`HttpProtocol.write <nuage.httpserver.protocol.HttpProtocol.write>`: one ``writev``, one TCP
  segment for a small response, at the end of the turn of the event loop).
- Response headers are checked by counting the control characters and line ends of the whole head
  (names once each, against a regular expression), instead of two regular expressions per header: a
  header value carrying CR or LF, say from a client's ``response-content-type``, is refused all the same.
- Body pieces are kept as the parser hands them over (``bytes``), not copied into a ``bytearray`` and
  out again: a 64 MiB upload spent a sixth of its CPU on those two copies.
- A request with no body to wait for never creates an event or a future.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from nuage.accesslog import SCOPE_KEY, AccessFields, AccessRecord, Records, redact_query
from nuage.errors import ResponseAborted

if TYPE_CHECKING:
    from nuage.httpserver.protocol import HttpProtocol

__all__ = ["Cycle", "access_record", "plain_response"]

log = logging.getLogger("nuage.http")

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[object]]   # None, checked

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("ascii")


_STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}

# Response heads: header names are tokens (RFC 9110); names and values hold no control character but
# tab (CR and LF only where lines end).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROLS = bytes(c for c in range(32) if c != 9) + b"\x7f"
_CR_LF = b"\r\n"
_names_seen: set[bytes] = set()   # names already found to be tokens (a few dozen in practice)
_FRAMING = frozenset((b"content-length", b"transfer-encoding", b"connection"))

_NO_BODY_STATUSES = (204, 304)


def plain_response(status: int, text: str | bytes, default_headers: Iterable[tuple[bytes, bytes]],
                   content_type: bytes = b"text/plain; charset=utf-8") -> bytes:
    """A whole response that closes the connection (for requests no app sees): plain text by default."""
    body = text.encode("utf-8") if isinstance(text, str) else text
    parts = [_STATUS_LINES[status]]
    for name, value in default_headers:
        parts += (name, b": ", value, b"\r\n")
    parts += (b"content-type: ", content_type, b"\r\ncontent-length: ", str(len(body)).encode(),
              b"\r\nconnection: close\r\n\r\n", body)
    return b"".join(parts)


class Cycle:
    """The state of one request: its body as it arrives, and its response as the app sends it."""

    __slots__ = ("body", "body_size", "chunked", "complete", "conn", "disconnected", "head", "head_only",
                 "keep_alive", "length_left", "more_body", "received", "scope", "sent", "started", "status",
                 "waiter", "waiting_for_continue")

    def __init__(self, conn: HttpProtocol, scope: dict[str, Any], keep_alive: bool, expect_continue: bool) -> None:
        self.conn = conn
        self.scope = scope
        self.keep_alive = keep_alive
        self.waiting_for_continue = expect_continue
        # request body: the pieces the app has not taken yet
        self.body: list[bytes] = []
        self.body_size = 0
        self.more_body = True
        self.waiter: asyncio.Future[None] | None = None
        self.disconnected = False
        # response
        self.started = False
        self.complete = False
        self.head: bytes | None = None       # status line and headers, not written yet
        self.head_only = scope["method"] == "HEAD"
        self.chunked = False
        self.length_left = 0
        # for the access log
        self.status = 0
        self.sent = 0
        self.received = 0

    # -- from the connection ----------------------------------------------------------------------
    def add_body(self, data: bytes) -> None:
        self.body.append(data)
        self.body_size += len(data)
        self.received += len(data)
        self.wake()

    def end_body(self) -> None:
        self.more_body = False
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- running the app ----------------------------------------------------------------------------
    async def run_logged(self, app: ASGIApp, records: Records) -> None:
        """:meth:`run`, then its record to ``records`` (the access log, the metrics; the app fills the
        fields it knows, see nuage.accesslog)."""
        fields = AccessFields()
        self.scope[SCOPE_KEY] = fields
        start, clock = time.time(), time.perf_counter()
        try:
            await self.run(app)
        finally:
            # a client gone before its response was complete: 499, as nginx says
            status = 499 if self.disconnected and not self.complete else self.status
            records.emit(access_record(self.scope, fields, status, self.sent, self.received, start,
                                       time.perf_counter() - clock, records))

    async def run(self, app: ASGIApp) -> None:
        try:
            result = await app(self.scope, self.receive, self.send)
        except ResponseAborted:   # on purpose, and logged by the app: only the connection ends
            if not self.started:
                await self._send_500()
            else:
                self.conn.close()
            return
        except BaseException as exc:   # as uvicorn: the connection survives even a cancelled app
            log.error("Exception in ASGI application", exc_info=exc)
            if not self.started:
                await self._send_500()
            else:
                self.conn.close()
            return
        if result is not None:
            log.error("ASGI callable should return None, but returned %r.", result)
            self.conn.close()
        elif not self.started and not self.disconnected:
            log.error("ASGI callable returned without starting response.")
            await self._send_500()
        elif not self.complete and not self.disconnected:
            log.error("ASGI callable returned without completing response.")
            self.conn.close()

    async def _send_500(self) -> None:
        await self.send({"type": "http.response.start", "status": 500,
                         "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21"),
                                     (b"connection", b"close")]})
        await self.send({"type": "http.response.body", "body": b"Internal Server Error"})

    # -- ASGI ---------------------------------------------------------------------------------------
    async def receive(self) -> dict[str, Any]:
        conn = self.conn
        if self.waiting_for_continue:
            self.waiting_for_continue = False
            conn.write([_CONTINUE])
        if not self.disconnected and not self.complete:
            conn.flow.resume_reading()
            if not self.body and self.more_body:
                self.waiter = conn.loop.create_future()
                try:
                    await self.waiter
                finally:
                    self.waiter = None
        if self.disconnected or self.complete:
            return {"type": "http.disconnect"}
        pieces = self.body
        body = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        self.body = []
        self.body_size = 0
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: dict[str, Any]) -> None:
        flow = self.conn.flow
        if flow.write_paused and not self.disconnected:
            await flow.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
            self.started = True
            self.waiting_for_continue = False
            self._start(message["status"], message.get("headers", ()))
            return
        if self.complete:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")
        if kind != "http.response.body":
            raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        out: list[bytes] = []
        if self.head is not None:
            out.append(self.head)
            self.head = None
        if self.head_only:
            pass
        elif self.chunked:
            if body:
                out += (b"%x\r\n" % len(body), body, b"\r\n")
            if not more_body:
                out.append(b"0\r\n\r\n")
        elif body:
            self.length_left -= len(body)
            if self.length_left < 0:
                raise RuntimeError("Response content longer than Content-Length")
            out.append(body)
        if out:
            self.conn.write(out)
            if not self.head_only:
                self.sent += len(body)
        if not more_body:
            if self.length_left and not self.head_only:
                raise RuntimeError("Response content shorter than Content-Length")
            self.complete = True
            self.wake()
            if not self.keep_alive:
                self.conn.close()
            self.conn.response_complete(self)

    def _start(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.status = status
        lines = [_STATUS_LINES[status][:-2]]
        for name, value in self.conn.server_state.default_headers:
            lines.append(name + b": " + value)
        length: int | None = None
        close = False
        for name, value in headers:
            if name not in _names_seen:
                name = _check_name(name)
            if name in _FRAMING:
                if name == b"content-length":
                    if length is None and not self.chunked:
                        length = int(value)
                elif name == b"transfer-encoding":
                    if value.lower() == b"chunked" and length is None:
                        self.chunked = True
                elif b"close" in [t.strip() for t in value.lower().split(b",")]:
                    self.keep_alive = False
                    close = True
            lines.append(name + b": " + value)
        if not self.keep_alive and not close:
            lines.append(b"connection: close")
        if length is not None:
            self.length_left = length
        elif not self.chunked and not self.head_only and status not in _NO_BODY_STATUSES:
            self.chunked = True
            lines.append(b"transfer-encoding: chunked")
        lines += (b"", b"")
        head = _CR_LF.join(lines)
        # No control character but the CR LF that end lines: a value carrying CR LF and a header line
        # of its own (say from a client's response-content-type) is refused.
        breaks = len(lines) - 1
        if (len(head.translate(None, _CONTROLS)) != len(head) - 2 * breaks or head.count(b"\n") != breaks
                or head.count(b"\r") != breaks):
            raise RuntimeError("Invalid HTTP response header value.")
        self.head = head


def access_record(scope: dict[str, Any], fields: AccessFields, status: int, sent: int, received: int,
                  start: float, seconds: float, records: Records) -> AccessRecord:
    """The record of a request that ended (``start``: when its head arrived, ``seconds``: how long it
    took): what the HTTP layer saw, and the ``fields`` its app filled. The path and user agent are left ""
    when no sink of ``records`` reads them (the metrics alone: a presigned URL's query costs microseconds
    to redact)."""
    client = scope.get("client")
    path = agent = ""
    if records.text:
        query = scope["query_string"]
        path = scope["raw_path"].decode("latin-1")
        if query:
            path += "?" + redact_query(query.decode("latin-1"))
        for name, value in scope["headers"]:
            if name == b"user-agent":
                agent = value.decode("latin-1")
                break
    # positional, in the fields' order (time, request id, remote, principal, access key, api, operation,
    # bucket, key, method, path, HTTP version, status, bytes sent and received, duration, user agent,
    # region, worker, error code): a third of the cost of keywords
    return AccessRecord(
        start, fields.request_id, client[0] if client else "", fields.principal, fields.access_key, fields.api,
        fields.operation, fields.bucket, fields.key, scope["method"], path, scope["http_version"], status, sent,
        received, round(seconds * 1000, 3) if records.text else seconds * 1000, agent, records.region,
        records.worker, fields.error_code)


def _check_name(name: bytes) -> bytes:
    """``name`` lowercased, a token (RuntimeError if not), and remembered as checked."""
    name = name.lower()
    if _TOKEN.fullmatch(name) is None:
        raise RuntimeError("Invalid HTTP response header name.")
    if len(_names_seen) < 1024:
        _names_seen.add(name)
    return name
