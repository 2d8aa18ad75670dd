"""Requests whose signature (SigV4 or SigV2) was already verified, so that the same request seen again
(a hot object's presigned URL, a client repeating a GET within the second of its X-Amz-Date) is not
verified from scratch.

A verification is a pure function of the request line, the headers, the server's settings and the
secret key, except for the clock: the entry keeps the period in which the request's time is acceptable
(skew and expiry) and the secret it was checked against. A hit re-checks both (so a request past its
expiry, or one signed with a key since deleted or changed, is verified again and refused as before);
failures are never kept. Bounded in entries and in the size of what it keeps."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from .model import AuthResult

MAX_ENTRIES = 4096
MAX_KEY_CHARS = 4096   # a request whose line and headers are longer than this is not kept


@dataclass(frozen=True, slots=True)
class _Entry:
    secret: str
    not_before: datetime
    not_after: datetime
    result: AuthResult


class VerifiedRequests:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def get(self, key: Hashable, now: datetime, lookup_secret: Callable[[str], str | None]) -> AuthResult | None:
        entry = self._entries.get(key)
        if entry is None or not entry.not_before <= now <= entry.not_after:
            return None
        access_key = entry.result.access_key
        if access_key is None or lookup_secret(access_key) != entry.secret:
            return None
        return entry.result

    def put(self, key: Hashable, size: int, secret: str, not_before: datetime, not_after: datetime,
            result: AuthResult) -> None:
        if size > MAX_KEY_CHARS:
            return
        entries = self._entries
        if len(entries) >= self.max_entries and key not in entries:
            entries.popitem(last=False)   # the oldest entry
        entries[key] = _Entry(secret, not_before, not_after, result)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
