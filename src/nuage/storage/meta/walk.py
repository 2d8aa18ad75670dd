"""The walk of an ordered listing (UTF-8 byte order) with prefix, delimiter and marker, for both metadata
backends: which key range to fetch next, and what each fetched batch yields.

Every fetch reads an index range; a common prefix is emitted once and the walk jumps past all keys under
it, so listing cost follows the page size, not the bucket size. After such a jump the next fetch is small
(the next key often rolls up into another prefix); runs of plain entries grow it back to a full batch.
The backends only run the fetches (SQLite in a thread, PostgreSQL awaited).
"""

from __future__ import annotations

from collections.abc import Sequence

BATCH = 1000
SMALL_BATCH = 16


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no bound)."""
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < 0x10FFFF:
            nxt = last + 1
            if 0xD800 <= nxt <= 0xDFFF:
                nxt = 0xE000
            return "".join(chars) + chr(nxt)
    return None


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    idx = key.find(delimiter, len(prefix))
    if idx < 0:
        return None
    return key[: idx + len(delimiter)]


class Walk:
    """Fetch ``(start, inclusive, upper, limit)`` while not ``done``, and hand each batch's keys to
    :meth:`step`."""

    def __init__(self, prefix: str, delimiter: str, marker: str | None) -> None:
        self.prefix, self.delimiter, self.marker = prefix, delimiter, marker
        self.upper = successor(prefix) if prefix else None
        self.start: str | None = marker if marker is not None and marker >= prefix else None
        self.inclusive = False
        if self.start is None and prefix:
            self.start, self.inclusive = prefix, True
        self.limit = BATCH if not delimiter else SMALL_BATCH
        self.done = False

    def step(self, keys: Sequence[str]) -> list[tuple[str, int | None]]:
        """What a batch yields, in order: ``(key, its index in the batch)`` for an entry, ``(common prefix,
        None)`` for a prefix; and where the next fetch starts."""
        out: list[tuple[str, int | None]] = []
        if not keys:
            self.done = True
            return out
        for i, key in enumerate(keys):
            cp = common_prefix(key, self.prefix, self.delimiter)
            if cp is None:
                out.append((key, i))
                continue
            if self.marker is None or cp > self.marker:
                out.append((cp, None))
            nxt = successor(cp)
            if nxt is None:
                self.done = True
            else:
                self.start, self.inclusive, self.limit = nxt, True, SMALL_BATCH
            return out
        if len(keys) < self.limit:
            self.done = True
        else:
            self.start, self.inclusive = keys[-1], False
            self.limit = min(BATCH, self.limit * 4)
        return out
