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

from nuage.httpserver.cycle import ASGIApp, Cycle, plain_response

__all__ = ["HttpProtocol"]

log = logging.getLogger("nuage.http")

COALESCE_MAX = 64 * 1024   # a larger piece is sent at once
_ASGI = {"version": "3.0", "spec_version": "2.3"}
_METHODS = {m.encode(): m for m in ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")}


class HttpProtocol(asyncio.Protocol):
    """An ``asyncio.Protocol`` for uvicorn's server: the same constructor and ``shutdown`` as uvicorn's
    own HTTP protocols, so ``uvicorn.Server`` binds, serves, counts and drains it as it does those."""

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

    # -- asyncio.Protocol -----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]   # as uvicorn's
        self.server_state.connections.add(self)  # type: ignore[arg-type]   # uvicorn's set of its protocols
        self.transport = transport
        self.flow = FlowControl(transport)
        self.server = get_local_addr(transport)
        self.client = get_remote_addr(transport)
        self.scheme = "https" if is_ssl(transport) else "http"

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)
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
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass   # no protocol to switch to: the request was served as a plain one, the rest is dropped
        except httptools.HttpParserError:
            log.warning("Invalid HTTP request received.")
            self.write([plain_response(400, "Invalid HTTP request received.", self.server_state.default_headers)])
            self.close()

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    # -- writing ------------------------------------------------------------------------------------------
    def write(self, pieces: list[bytes]) -> None:
        """Send ``pieces`` (in order, after what was written before) at the end of this turn of the loop,
        or now when one is large."""
        if self.transport.is_closing():
            return   # closed or closing: nothing more goes out, as a closed transport drops it
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

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
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
        task = self.loop.create_task(cycle.run(self.app))
        task.add_done_callback(tasks.discard)
        tasks.add(task)

    def response_complete(self, cycle: Cycle) -> None:
        """Called by a cycle when its response is sent: the next pipelined request, or idle."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
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
