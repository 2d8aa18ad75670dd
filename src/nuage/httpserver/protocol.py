"""One HTTP/1.1 connection, as uvicorn's server runs it (``uvicorn.Config(http=HttpProtocol)``): httptools
parses, each request becomes a :class:`~nuage.httpserver.cycle.Cycle` whose ASGI app runs in a task of
its own, requests pipelined behind a running one wait their turn, and an idle keep-alive connection is
closed after ``timeout_keep_alive`` seconds.

It replaces uvicorn's httptools protocol for speed on small requests (see cycle.py for the response
side) and keeps its behaviour where a client can see it.

What a connection writes during one turn of the event loop leaves together at the end of that turn
(:meth:`HttpProtocol.write`), in one ``writev``. Small responses are the bulk of S3 traffic: written at
once, each is a system call and a TCP segment that wakes the client, and under load the server answers
in smaller batches (4 KiB GETs/s: 8,834-8,981 written at once, 8,874-10,042 at the end of the turn,
7,784-8,928 with uvicorn's protocol, alternating runs). Larger pieces (over 64 KiB) go at once, after
what is pending: waiting slows big bodies.

Limits (:class:`~nuage.httpserver.limits.HttpLimits`) are kept with counters as httptools hands the
request over: the URL's length at each piece of it, the size of the headers at each header, the bytes
received while a head is incomplete (httptools gathers a header's value before it hands it over: past
the limit the rest is not fed to it at all). The head's clock is a timer armed only when a head does not
arrive whole in one read (and once when the connection opens, for clients that send nothing).

The keep-alive clock is armed once per idle
stretch, not once per response: uvicorn scheduled a timer at every response and cancelled it at the next
request; here a response notes the time, and one timer per connection, when it fires, closes the
connection or sleeps again for what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.server import ServerState

from nuage.accesslog import Records
from nuage.httpserver.cycle import ASGIApp, Cycle, plain_response
from nuage.httpserver.limits import HttpLimits
from nuage.logthrottle import LogThrottle

__all__ = ["HttpProtocol"]

log = logging.getLogger("nuage.http")

COALESCE_MAX = 64 * 1024   # a larger piece is sent at once
_ASGI = {"version": "3.0", "spec_version": "2.3"}
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")}
# After a refusal: what is still read (and dropped) so that the client reads the answer instead of a reset
LINGER_BYTES = 1024 * 1024
LINGER_SECONDS = 2.0
# The S3 error that SDKs take for "too busy, back off and retry"
_SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
              b"<Message>Please reduce your request rate.</Message></Error>")


_warnings = LogThrottle(10.0)   # each kind of warning about clients once per 10 s at most


def _warn(kind: str, message: str, *args: object) -> None:
    """A warning about a client, logged at most once per interval for each kind (with how many were left
    out): a client sending bad requests on purpose must not flood the log."""
    left_out = _warnings.admit(kind)
    if left_out is None:
        return
    more = f" ({left_out} more since the last such warning)" if left_out else ""
    log.warning(message + more, *args)


class _Refusal(Exception):
    """Raised in a parser callback: the request is answered ``status`` and the connection closed."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class HttpProtocol(asyncio.Protocol):
    """An ``asyncio.Protocol`` for uvicorn's server: the same constructor and ``shutdown`` as uvicorn's
    own HTTP protocols, so ``uvicorn.Server`` binds, serves, counts and drains it as it does those.

    ``limits`` and the count of connections per client address belong to the class: a server takes a
    class of its own from :meth:`configured`."""

    limits = HttpLimits()
    per_client: dict[str, int] = {}
    records: Records | None = None   # the record of each request goes there: access log, metrics (None: off)

    @classmethod
    def configured(cls, limits: HttpLimits, records: Records | None = None) -> type[HttpProtocol]:
        """A protocol class with these limits, a count of connections per client of its own, and the sinks
        the record of each of its requests goes to (the access log, the metrics; None: no record)."""
        return type("HttpProtocol", (cls,), {"limits": limits, "per_client": {}, "records": records})

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not config.loaded:
            config.load()
        self.app: ASGIApp = config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.root_path = config.root_path
        self.keep_alive_seconds = float(config.timeout_keep_alive)
        self.server_state = server_state
        self.app_state = app_state
        self.parser = httptools.HttpRequestParser(self)
        # answer the first of pipelined requests even when data follows a request that closes
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]   # set by connection_made
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        # the request being parsed (the last one) and the one whose app runs (earlier when pipelined)
        self.cycle: Cycle | None = None
        self.running: Cycle | None = None
        self.pipeline: deque[Cycle] = deque()
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.expect_continue = False
        self.pending: list[bytes] | None = None   # written during this turn of the loop, sent at its end
        # keep-alive: when the connection went idle (None: busy), and the timer that checks it
        self.idle_since: float | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        # the head being read: bytes it may still take on the wire, headers' size so far, and when it
        # must be complete (None: not armed)
        limits = self.limits
        self.max_url = limits.max_request_line
        self.max_header = limits.max_header_size
        self.max_headers_size = limits.max_headers_size
        self.max_head = limits.max_head
        self.max_headers = limits.max_headers
        self.in_head = True
        self.fresh = True                   # nothing received yet
        self.head_left = self.max_head
        self.headers_size = 0
        self.head_deadline: float | None = None
        self.head_timer: asyncio.TimerHandle | None = None
        self.client_key: str | None = None  # counted in per_client under this address
        self.lingering: int | None = None   # refused: bytes still read and dropped before closing
        self.eof_sent = False               # refused: the answer and the end of what is written are sent

    # -- asyncio.Protocol -----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]   # as uvicorn's
        self.server_state.connections.add(self)  # type: ignore[arg-type]   # uvicorn's set of its protocols
        self.transport = transport
        self.flow = FlowControl(transport)
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "https" if is_ssl(transport) else "http"
        limits = self.limits
        if limits.max_connections and len(self.server_state.connections) > limits.max_connections:
            _warn("busy", "connection refused: %d connections open", limits.max_connections)
            self._refuse_connection()
            return
        if limits.max_connections_per_client and self.client is not None:
            key = self.client[0]
            count = self.per_client.get(key, 0)
            if count >= limits.max_connections_per_client:
                _warn("client", "connection refused: %d connections open from %s", count, key)
                self._refuse_connection()
                return
            self.per_client[key] = count + 1
            self.client_key = key
        self.head_deadline = self.loop.time() + limits.header_timeout
        self.head_timer = self.loop.call_later(limits.header_timeout, self._head_check)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
        key = self.client_key
        if key is not None:
            self.client_key = None
            left = self.per_client.get(key, 1) - 1
            if left > 0:
                self.per_client[key] = left
            else:
                self.per_client.pop(key, None)
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        for cycle in (self.running, self.cycle):
            if cycle is not None:
                if not cycle.complete:
                    cycle.disconnected = True
                cycle.wake()
        if self.flow is not None:
            self.flow.resume_writing()
        self.pending = None
        if exc is None:
            self.transport.close()
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def eof_received(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self.idle_since = None
        if self.lingering is not None:   # refused: dropped
            self.lingering -= len(data)
            if self.lingering <= 0:
                self.transport.close()
            return
        if self.in_head:
            self.head_left -= len(data)
            if self.head_left < 0:
                self._feed_head(data)
                return
        self._feed(data)
        if self.in_head and self.head_deadline is None and self.lingering is None:
            self._start_head_clock()

    def _feed(self, data: bytes | memoryview) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass   # no protocol to switch to: the request was served as a plain one, the rest is dropped
        except httptools.HttpParserError as exc:
            refusal = exc.__context__
            if isinstance(refusal, _Refusal):
                _warn(str(refusal.status), "request refused (%d): %s", refusal.status, refusal.text)
                self._refuse(refusal.status, refusal.text)
            else:
                _warn("400", "Invalid HTTP request received.")
                self._refuse(400, "Invalid HTTP request received.")

    def _feed_head(self, data: bytes) -> None:
        """``data`` takes a head past what it may take: only what fits is fed; the head is refused when it
        is still incomplete after it."""
        fits = len(data) + self.head_left   # head_left < 0
        view = memoryview(data)
        self._feed(view[:fits])
        if self.lingering is not None or self.transport.is_closing():
            return
        if self.in_head and self.head_left < 0:   # the same head (a new one starts with a full allowance)
            _warn("431", "request refused (431): head over %d bytes", self.limits.max_head)
            self._refuse(431, "Request header fields too large.")
            return
        self._feed(view[fits:])

    def _start_head_clock(self) -> None:
        self.head_deadline = self.loop.time() + self.limits.header_timeout
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.limits.header_timeout, self._head_check)

    def _head_check(self) -> None:
        self.head_timer = None
        deadline = self.head_deadline
        if deadline is None or self.lingering is not None or self.transport.is_closing():
            return   # the head arrived: the next incomplete one arms the clock again
        left = deadline - self.loop.time()
        if self.flow.read_paused or not self.idle():
            # not reading (a pipelined request runs), or a response still going out: the client is not late
            self._start_head_clock()
        elif left > 0:
            self.head_timer = self.loop.call_later(left, self._head_check)
        elif self.fresh:   # nothing was sent: nothing to answer
            self.transport.close()
        else:
            _warn("408", "request refused (408): head incomplete after %g s", self.limits.header_timeout)
            self._refuse(408, "Request timeout: the request's headers did not arrive in time.")

    def _refuse(self, status: int, text: str, body: bytes | None = None) -> None:
        """Answer ``status`` with ``Connection: close`` and stop reading requests: what still arrives is
        dropped (up to a limit, for a moment), then the connection closes. While a response is still
        going out (a request refused behind it) that response is not cut: it is the last one, and the
        connection closes after it without an answer to the refused request."""
        self.lingering = LINGER_BYTES   # nothing more is read from here on
        self.head_deadline = None
        running = self.running
        if running is not None and not running.complete:
            running.keep_alive = False
            self.pipeline.clear()
            return
        transport = self.transport
        if transport.is_closing():
            return
        response = plain_response(status, text, self.server_state.default_headers) if body is None \
            else plain_response(status, body, self.server_state.default_headers, b"application/xml")
        self._flush()
        transport.write(response)
        self.eof_sent = True   # nothing more is written from here on
        if transport.can_write_eof():
            transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()

    def _refuse_connection(self) -> None:
        self._refuse(503, "", _SLOW_DOWN)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    # -- writing ------------------------------------------------------------------------------------------
    def write(self, pieces: list[bytes]) -> None:
        """Send ``pieces`` (in order, after what was written before) at the end of this turn of the loop,
        or now when one is large."""
        if self.transport.is_closing() or self.eof_sent:
            return   # closed or closing (or refused): nothing more goes out, as a closed transport drops it
        large = len(pieces[0]) > COALESCE_MAX if len(pieces) == 1 else sum(map(len, pieces)) > COALESCE_MAX
        pending = self.pending
        if pending is None:
            if large:
                self.transport.writelines(pieces)
                return
            self.pending = pieces
            self.loop.call_soon(self._flush)
        else:
            pending += pieces
            if large:
                self._flush()

    def _flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending and not self.transport.is_closing():
            self.transport.writelines(pending)

    def close(self) -> None:
        """Close the connection after what was written."""
        self._flush()
        self.transport.close()

    # -- httptools callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.url = b""
        self.headers = []
        self.expect_continue = False
        self.in_head = True
        self.fresh = False
        self.head_left = self.max_head
        self.headers_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.max_url:
            raise _Refusal(414, "Request-URI too long.")

    def on_header(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value)
        self.headers_size += size + 4
        if self.headers_size > self.max_headers_size or size > self.max_header:
            raise _Refusal(431, "Request header fields too large.")
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.in_head = False
        self.head_deadline = None
        if len(self.headers) > self.max_headers:
            raise _Refusal(431, "Request header fields too large.")
        parser = self.parser
        raw_method = parser.get_method()
        method = _METHODS.get(raw_method) or raw_method.decode("ascii")
        version = parser.get_http_version()
        url = self.url
        if url[:1] == b"/" and b"#" not in url:   # origin form, nearly always
            raw_path, _, query = url.partition(b"?")
        else:
            parsed = httptools.parse_url(url)
            raw_path, query = parsed.path or b"", parsed.query or b""
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        scope: dict[str, Any] = {
            "type": "http", "asgi": _ASGI, "http_version": version, "server": self.server,
            "client": self.client, "scheme": self.scheme, "method": method, "root_path": self.root_path,
            "path": self.root_path + path, "raw_path": self.root_path.encode("ascii") + raw_path,
            "query_string": query, "headers": self.headers, "state": self.app_state.copy(),
        }
        keep_alive = version != "1.0" and parser.should_keep_alive()
        cycle = self.cycle = Cycle(self, scope, keep_alive, self.expect_continue)
        if self.running is None or self.running.complete:
            self._run(cycle)
        else:   # pipelined behind a request still running
            self.flow.pause_reading()
            self.pipeline.append(cycle)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle is None or cycle.complete:
            return
        cycle.add_body(body)
        if cycle.body_size > HIGH_WATER_LIMIT:
            self.flow.pause_reading()

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.complete:
            cycle.end_body()

    # -- requests ---------------------------------------------------------------------------------------
    def _run(self, cycle: Cycle) -> None:
        self.running = cycle
        tasks = self.server_state.tasks
        records = self.records
        task = self.loop.create_task(cycle.run(self.app) if records is None else cycle.run_logged(self.app, records))
        task.add_done_callback(tasks.discard)
        tasks.add(task)

    def response_complete(self, cycle: Cycle) -> None:
        """Called by a cycle when its response is sent: the next pipelined request, or idle."""
        self.server_state.total_requests += 1
        if self.transport.is_closing() or self.lingering is not None:
            return
        self.flow.resume_reading()
        if self.pipeline:
            self._run(self.pipeline.popleft())
            return
        self.idle_since = self.loop.time()
        if self.idle_timer is None:
            self.idle_timer = self.loop.call_later(self.keep_alive_seconds, self._idle_check)

    def _idle_check(self) -> None:
        self.idle_timer = None
        if self.idle_since is None or self.transport.is_closing():
            return   # busy again: the next response arms the timer
        left = self.idle_since + self.keep_alive_seconds - self.loop.time()
        if left <= 0:
            self.close()
        else:
            self.idle_timer = self.loop.call_later(left, self._idle_check)

    def idle(self) -> bool:
        """No response is being sent (nothing would be cut by closing the connection now)."""
        return self.running is None or self.running.complete

    def drop_if_idle(self) -> None:
        """Shutting down: an idle connection goes now, without waiting for the client (after what was
        written)."""
        if self.idle():
            self._flush()
            self.transport.abort()

    def shutdown(self) -> None:
        """Called by uvicorn's server on shutdown: close now when idle, else after this response."""
        if self.idle():
            self.close()
        elif self.running is not None:
            self.running.keep_alive = False
