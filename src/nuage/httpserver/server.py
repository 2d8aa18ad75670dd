"""uvicorn's server as Nuage runs it: shutdown drops idle keep-alive connections at once, and the signal that
stopped the server is not raised again once it stopped."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn

from nuage.httpserver.protocol import HttpProtocol

__all__ = ["STOP_SIGNALS", "GracefulServer", "request_stop"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_stop_requested: list[int] = []   # the signals that asked this process to stop before its server ran


def request_stop(sig: int, _frame: FrameType | None) -> None:
    """A signal handler for the time before (and after) a server runs: it only records the request, never
    raises (an exception raised by a handler fires in the middle of whatever code runs, a weakref callback
    included, which swallows it); a server started later stops as soon as it has started."""
    _stop_requested.append(sig)


class GracefulServer(uvicorn.Server):
    """uvicorn's server, except that

    - idle keep-alive connections are dropped at once on shutdown: a TLS close waits for the client's
      close_notify, which an idle client never sends;
    - SIGINT and SIGTERM both end ``run()`` by returning, once the server has shut down gracefully, so that
      the caller's clean-up runs (the stores close) and the process exits 0. uvicorn raises the signal again
      after its shutdown: SIGTERM's default action then killed the process before any clean-up (status 143),
      and a Python handler raising SystemExit could fire in the middle of any code (a weakref callback,
      which swallows it)."""

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        for conn in list(self.server_state.connections):
            if isinstance(conn, HttpProtocol):
                conn.drop_if_idle()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():   # (signals reach the main thread only)
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        if _stop_requested:   # asked to stop while it was getting ready: it stops once started
            self.handle_exit(_stop_requested[0], None)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
