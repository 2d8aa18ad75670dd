"""Failed sign-ins are limited: after ``limit`` failures for one name (access key, or account and user)
from one client address within ``window`` seconds, further attempts are refused (429) until the oldest
failure leaves the window. Kept in memory, per gateway."""

from __future__ import annotations

import time
from collections import deque

MAX_TRACKED = 10_000


class Throttle:
    def __init__(self, limit: int = 10, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and found[0] <= now - self.window:
            found.popleft()
        if not found:
            del self._failures[key]
        return found

    def blocked(self, client: str, name: str) -> bool:
        return len(self._recent((client, name), time.monotonic())) >= self.limit

    def failed(self, client: str, name: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= MAX_TRACKED:
            self._failures.clear()
        self._recent((client, name), now)
        self._failures.setdefault((client, name), deque()).append(now)

    def succeeded(self, client: str, name: str) -> None:
        self._failures.pop((client, name), None)
