"""Bucket records and bucket configurations, cached by each gateway: they are read on every request and
change rarely. A change sends a notification in its transaction (notify.BUCKETS_CHANNEL); every gateway
forgets the bucket's entries when it arrives, the writing gateway at once after its commit.

Nothing is cached while the gateway is not listening (notifications would be missed), and no entry is
used after MAX_AGE seconds whatever happens: a change through one gateway applies on the others within
milliseconds when notifications flow, and within MAX_AGE seconds in any case. A generation counter, bumped
by every invalidation, keeps a read that raced a change from caching what the change replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

MAX_AGE = 1.0
MAX_ENTRIES = 100_000


class BucketCache(Generic[K, V]):
    """Entries keyed by ``K``, grouped by the bucket ``bucket_of`` tells."""

    def __init__(self, bucket_of: Callable[[K], str]) -> None:
        self._bucket_of = bucket_of
        self._entries: dict[str, dict[K, tuple[float, V]]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self._gen = 0
        self.listening = False

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        bucket = self._bucket_of(key)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(bucket, {}).get(key) if self.listening else None
            gen = self._gen
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        with self._lock:
            if self.listening and gen == self._gen:
                if self._size >= MAX_ENTRIES:
                    self._entries.clear()
                    self._size = 0
                entries = self._entries.setdefault(bucket, {})
                self._size += key not in entries
                entries[key] = (now + MAX_AGE, value)
        return value

    def forget(self, bucket: str) -> None:
        """The bucket changed (any thread)."""
        with self._lock:
            self._gen += 1
            self._size -= len(self._entries.pop(bucket, {}))

    def set_listening(self, listening: bool) -> None:
        """Whether notifications arrive; every change of state drops every entry."""
        with self._lock:
            self._gen += 1
            self._entries.clear()
            self._size = 0
            self.listening = listening
