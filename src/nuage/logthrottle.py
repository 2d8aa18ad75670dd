"""Log lines that a client or a failing disk can cause on every request, kept to one per interval and kind:
:meth:`LogThrottle.admit` says whether this one is logged and how many of its kind were left out since."""

from __future__ import annotations

import time

__all__ = ["LogThrottle"]


class LogThrottle:
    def __init__(self, every_seconds: float) -> None:
        self.every = every_seconds
        self._last: dict[str, tuple[float, int]] = {}   # kind -> (when last logged, how many left out since)

    def admit(self, kind: str) -> int | None:
        """None when a line of ``kind`` was logged less than the interval ago (this one is counted as left
        out); else how many were left out since the last one (log it, saying so when not 0)."""
        now = time.monotonic()
        last, left_out = self._last.get(kind, (0.0, 0))
        if last and now - last < self.every:
            self._last[kind] = (last, left_out + 1)
            return None
        self._last[kind] = (now, 0)
        return left_out

    def forget(self, kind: str) -> bool:
        """The trouble of ``kind`` is over: its next line is logged at once. True when one was logged."""
        return self._last.pop(kind, None) is not None
