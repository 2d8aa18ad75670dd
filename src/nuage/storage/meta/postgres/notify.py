"""Notifications across gateways (LISTEN/NOTIFY). A write sends one inside its own transaction (PostgreSQL
delivers it at the commit, and only then); every gateway listens on a connection of its own:

- ``nuage_outbox``: the write added replication outbox rows; every gateway wakes its shipper, so rows
  written through any gateway reach the one shipping them;
- ``nuage_buckets`` (payload: the bucket's name and a token): a bucket record or configuration changed;
  every gateway forgets what it cached of that bucket (cache.py). The writing gateway answers only once
  its own notification came back to it (``Echoes``): the others, which PostgreSQL notifies at the same
  moment, have then heard of the change too, all but always before its client's next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping

import psycopg

from nuage.storage.meta.postgres.db import CONNECT_TIMEOUT, AConn, first_line

log = logging.getLogger("nuage.notify")

OUTBOX_CHANNEL = "nuage_outbox"
BUCKETS_CHANNEL = "nuage_buckets"
RETRY = 1.0          # seconds before listening again after the connection was lost
CHECK = 1.0          # seconds between checks that the listening connection still works
ECHO_WAIT = 1.0      # seconds a writer waits at most for its notification to come back


async def send(conn: AConn, channel: str, payload: str = "") -> None:
    """Inside a write transaction: delivered to every listener when (and if) it commits."""
    await conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def bucket_payload(bucket: str, token: str) -> str:
    return f"{bucket}\n{token}"   # bucket names have no line breaks


def parse_bucket_payload(payload: str) -> tuple[str, str]:
    bucket, _, token = payload.partition("\n")
    return bucket, token


class Echoes:
    """Writers waiting for their own notification to come back through this gateway's listener."""

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = {}
        self._lock = threading.Lock()

    def expect(self) -> str:
        """A token for the next notification (in the running event loop)."""
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        with self._lock:
            self._waiting[token] = (loop, loop.create_future())
        return token

    def arrived(self, token: str) -> None:
        """From the listener thread."""
        with self._lock:
            entry = self._waiting.pop(token, None)
        if entry is not None:
            loop, future = entry
            with contextlib.suppress(RuntimeError):   # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, future)

    async def wait(self, token: str, timeout: float = ECHO_WAIT) -> None:
        with self._lock:
            entry = self._waiting.get(token)
        try:
            if entry is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(entry[1]), timeout)
        finally:
            with self._lock:
                self._waiting.pop(token, None)

    def cancel(self, token: str) -> None:
        with self._lock:
            self._waiting.pop(token, None)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Listener:
    """A thread that hands every notification of its channels to their handler (with the payload), and
    tells ``on_state`` whether it is listening: True once listening (again), False when the connection
    is lost, since notifications sent meanwhile are lost with it."""

    def __init__(self, url: str, handlers: Mapping[str, Callable[[str], None]],
                 on_state: Callable[[bool], None]) -> None:
        self._url = url
        self._handlers = dict(handlers)
        self._on_state = on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nuage-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                log.warning("listening for notifications: %s; again in %s s", first_line(exc), RETRY)
            except Exception:   # a failing handler must not end the listening
                log.exception("listening for notifications")
            self._on_state(False)
            self._stop.wait(RETRY)

    def _listen(self) -> None:
        # keepalives and a TCP timeout: a connection that silently died is noticed within seconds
        with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, keepalives=1,
                             keepalives_idle=2, keepalives_interval=1, keepalives_count=2,
                             tcp_user_timeout=3000) as conn:
            for channel in self._handlers:
                conn.execute(f"LISTEN {channel}")
            self._on_state(True)
            while not self._stop.is_set():
                for note in conn.notifies(timeout=CHECK):
                    handler = self._handlers.get(note.channel)
                    if handler is not None:
                        handler(note.payload)
                conn.execute("SELECT 1")   # raises once the connection is gone

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=5)
