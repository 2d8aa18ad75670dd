"""Wake-ups across gateways: a write that adds replication outbox rows sends ``NOTIFY nuage_outbox`` in its
own transaction (PostgreSQL delivers it at the commit); every gateway listens on a connection of its own
and wakes its replication shipper, so rows written through any gateway reach the one shipping them."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import psycopg

from nuage.storage.meta.postgres.db import CONNECT_TIMEOUT, AConn

log = logging.getLogger("nuage.notify")

OUTBOX_CHANNEL = "nuage_outbox"
RETRY = 1.0          # seconds before listening again after the connection was lost


async def outbox_changed(conn: AConn) -> None:
    """Inside a write transaction that added outbox rows."""
    await conn.execute("SELECT pg_notify(%s, '')", (OUTBOX_CHANNEL,))


class Listener:
    """A thread that calls ``wake()`` on every notification of a channel, and once after each (re)connection
    (notifications sent while it was not listening are lost; the wake-up makes up for them)."""

    def __init__(self, url: str, channel: str, wake: Callable[[], None]) -> None:
        self._url = url
        self._channel = channel
        self._wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"nuage-listen-{channel}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self._wake()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._wake()
            except psycopg.Error as exc:
                log.warning("listening on %s: %s; again in %s s", self._channel,
                            str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__, RETRY)
                self._stop.wait(RETRY)
            except Exception:   # a failing wake-up must not end the listening
                log.exception("listening on %s", self._channel)
                self._stop.wait(RETRY)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(RuntimeError):
            self._thread.join(timeout=5)
