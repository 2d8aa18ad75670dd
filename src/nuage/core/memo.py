"""Request-scoped memo of bucket records: one request asks for its bucket several times
(authorization, then the use-case); the answer cannot change meanwhile except through the request
itself, which forgets what it changes. Each request runs in its own task, so a ContextVar scopes it."""

from __future__ import annotations

from contextvars import ContextVar

from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import BucketRecord

_BUCKETS: ContextVar[dict[str, BucketRecord | None] | None] = ContextVar("nuage_bucket_memo", default=None)


def begin_request() -> None:
    """Start a fresh memo for the current task (called once per request by the protocol layer)."""
    _BUCKETS.set({})


async def bucket(meta: MetadataStore, name: str) -> BucketRecord | None:
    memo = _BUCKETS.get()
    if memo is not None and name in memo:
        return memo[name]
    rec = await meta.get_bucket(name)
    if memo is not None:
        memo[name] = rec
    return rec


def forget(name: str) -> None:
    memo = _BUCKETS.get()
    if memo is not None:
        memo.pop(name, None)


def peek(name: str) -> BucketRecord | None:
    """The bucket record this request already read (None: not read, or no such bucket); never a query."""
    memo = _BUCKETS.get()
    return memo.get(name) if memo is not None else None
