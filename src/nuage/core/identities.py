"""Who an access key belongs to, with a cache: signature checks run on every request and must not cost a
metadata query each time. The cache is kept while the metadata store's IAM version stays the same
(``MetadataStore.iam_version``: any change of keys, users, groups, policies or accounts, through any worker
process or gateway, changes it) and is emptied as soon as it changes. On SQLite every process sees the
change at its next request; on PostgreSQL when the change's notification arrives (at its commit).
Entries older than ``ttl`` seconds are read again whatever happens (for what no version announces:
notifications lost while a gateway's listening connection is down, a change made by hand in the database).

An :class:`Identity` is the full answer the protocol layers need: the account (tenant) the key belongs
to, with its 12-digit account id and its canonical user id (what buckets and objects record as their
owner), and the user inside it (``user_name`` is None for the account's root user). The identity-based
policies of a user (its inline policies and those of its groups) come from :meth:`Identities.policies`.

On the event loop, use :meth:`Identities.resolve` and :meth:`Identities.verify`: a key found in the cache is
answered at once, and one that is not (never seen by this gateway, or the cache emptied by a change) is
read on a thread. The synchronous :meth:`Identities.lookup` would read it on the loop itself, and while the
database does not answer that stalls every other request of the process for as long as a connection is
waited for (the PostgreSQL pool's timeout, 5 s).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from nuage.core.policy import Policy, Principal
from nuage.core.policy.model import root_arn, user_arn
from nuage.errors import AccessDenied
from nuage.storage.meta.base import MetadataStore


def account_id_for(canonical_id: str) -> str:
    """A stable 12-digit account id for a canonical id (used for accounts that predate the accounts table)."""
    return str(int(hashlib.sha256(canonical_id.encode()).hexdigest(), 16) % 10**12).zfill(12)


@dataclass(frozen=True)
class Identity:
    access_key: str
    secret: str
    account_id: str
    canonical_id: str
    display_name: str
    user_name: str | None = None      # None: the account's root user
    user_id: str | None = None
    path: str = "/"
    suspended: bool = False           # the account is suspended: its keys are refused (AccessDenied)

    @property
    def is_root(self) -> bool:
        return self.user_name is None

    @property
    def owner_id(self) -> str:
        """What buckets and objects record as their owner: the account's canonical id."""
        return self.canonical_id

    @property
    def arn(self) -> str:
        if self.user_name is None:
            return root_arn(self.account_id)
        return user_arn(self.account_id, self.user_name, self.path)

    def principal(self) -> Principal:
        return self._principal

    @cached_property
    def _principal(self) -> Principal:   # an Identity is immutable, and so is its Principal
        if self.user_name is None:
            return Principal.root(self.account_id, self.canonical_id)
        return Principal.user(self.account_id, self.user_name, user_id=self.user_id,
                              canonical_id=self.canonical_id, path=self.path)


#: Kept for callers written before accounts existed.
Credential = Identity

IdentitySource = Callable[[str], Identity | None]
PolicySource = Callable[[Identity], list[Policy]]
SecretLookup = Callable[[str], str | None]
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class _NotCached(Exception):   # not an error: Identities.verify reads the key on a thread, then checks again
    def __init__(self, access_key: str) -> None:
        super().__init__(access_key)
        self.access_key = access_key


def _usable_secret(ident: Identity | None) -> str | None:
    if ident is not None and ident.suspended:
        raise AccessDenied("The account of this access key is suspended.")
    return ident.secret if ident else None


class Identities:
    def __init__(self, meta: MetadataStore, *, ttl: float = 1.0, max_entries: int = 10_000,
                 source: IdentitySource | None = None, policy_source: PolicySource | None = None) -> None:
        self.meta = meta
        self.ttl = ttl
        self.max_entries = max_entries
        self._source = source or self._legacy
        self._policy_source = policy_source
        self._version: Callable[[], int] = meta.iam_version if meta is not None else _unchanging
        self._cache: dict[str, tuple[float, Identity | None]] = {}
        self._policies: dict[tuple[str, str | None], tuple[float, list[Policy]]] = {}
        # Bumped by every emptying: a lookup that read the store before a change stores nothing after it.
        self._gen = 0
        self._seen: int | None = None     # the IAM version the entries were read at
        self._lock = threading.Lock()
        self._refreshing: set[object] = set()   # entries being read again (by a thread of their own)

    def _current(self) -> int:
        """The generation, after emptying the cache when the IAM version changed."""
        version = self._version()
        if version == self._seen:   # the hot path: nothing changed, no lock taken
            return self._gen
        with self._lock:
            if version != self._seen:
                self._clear()
                self._seen = version
            return self._gen

    def _clear(self) -> None:
        self._gen += 1
        self._cache.clear()
        self._policies.clear()

    def _legacy(self, access_key: str) -> Identity | None:
        found = self.meta.get_credential(access_key)
        if not found:
            return None
        secret, owner_id, display_name = found
        return Identity(access_key, secret, account_id_for(owner_id), owner_id, display_name)

    def _cached(self, table: dict[K, tuple[float, V]], key: K, load: Callable[[], V]) -> V:
        """The entry of ``key``, loaded when missing. An entry older than ``ttl`` is still answered, once, while
        a thread reads it again: a changed IAM version empties the cache (that is what keeps it right), and
        the age limit only covers what no version announces, so it need not make a request wait; nor block
        the event loop while the database does not answer (no change can be made then either)."""
        if self.ttl <= 0:
            return load()
        gen = self._current()
        hit = table.get(key)
        if hit is None:
            value = load()
            self._store(table, key, value, gen)
            return value
        if hit[0] <= time.monotonic():
            self._refresh(table, key, load, gen)
        return hit[1]

    def _store(self, table: dict[K, tuple[float, V]], key: K, value: V, gen: int) -> None:
        with self._lock:
            if gen == self._gen:
                if len(table) >= self.max_entries:
                    table.clear()
                table[key] = (time.monotonic() + self.ttl, value)

    def _refresh(self, table: dict[K, tuple[float, V]], key: K, load: Callable[[], V], gen: int) -> None:
        flight = (id(table), key)
        with self._lock:
            if flight in self._refreshing:
                return
            self._refreshing.add(flight)

        def run() -> None:
            try:
                value = load()
            except Exception:   # noqa: BLE001  the store did not answer: the entry stays, read again after ttl
                with self._lock:
                    hit = table.get(key)
                    if gen == self._gen and hit is not None:
                        table[key] = (time.monotonic() + self.ttl, hit[1])
                return
            finally:
                with self._lock:
                    self._refreshing.discard(flight)
            self._store(table, key, value, gen)
        threading.Thread(target=run, name="nuage-identities", daemon=True).start()

    def lookup(self, access_key: str) -> Identity | None:
        if self.ttl > 0:   # the hot path of _cached (every signed request asks twice): a fresh entry
            self._current()
            hit = self._cache.get(access_key)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        return self._cached(self._cache, access_key, lambda: self._source(access_key))

    def secret(self, access_key: str) -> str | None:
        """The secret of a usable key; a key of a suspended account is refused with AccessDenied."""
        return _usable_secret(self.lookup(access_key))

    def _peek(self, access_key: str) -> tuple[bool, Identity | None]:
        """(True, what the cache holds for the key: an identity or None for an unknown key) when it holds
        something, a user's policies included, without reading the store here (an entry past its age is
        answered while a thread reads it again, as lookup does); (False, None) when the store must be read."""
        if self.ttl <= 0:
            return False, None
        gen = self._current()
        hit = self._cache.get(access_key)
        if hit is None:
            return False, None
        ident = hit[1]
        if (ident is not None and ident.user_name is not None and self._policy_source is not None
                and (ident.account_id, ident.user_name) not in self._policies):
            return False, None
        if hit[0] <= time.monotonic():
            self._refresh(self._cache, access_key, lambda: self._source(access_key), gen)
        return True, ident

    def _load(self, access_key: str) -> Identity | None:
        """The key's identity, and a user's policies, read into the cache (on a thread of the caller's)."""
        ident = self.lookup(access_key)
        if ident is not None and not ident.suspended:
            self.policies(ident)
        return ident

    async def resolve(self, access_key: str) -> Identity | None:
        """:meth:`lookup` for the event loop: at once when the cache holds the key, else read on a thread
        (with the user's policies, which the authorization that follows asks for), so that a key never seen
        by this gateway does not stall the loop while the database is slow or does not answer."""
        found, ident = self._peek(access_key)
        if found:
            return ident
        return await asyncio.to_thread(self._load, access_key)

    async def verify(self, check: Callable[[SecretLookup], T]) -> T:
        """``check(secret)`` (a signature check, given a lookup of secrets like :meth:`secret`) run on the
        event loop; when it asks for a key that the cache does not hold, that key is read on a thread (see
        :meth:`resolve`) and the check runs again with it. A check is a pure function of the request and the
        secret, so running it twice changes nothing."""
        loaded: dict[str, Identity | None] = {}

        def secret(access_key: str) -> str | None:
            if access_key in loaded:
                return _usable_secret(loaded[access_key])
            found, ident = self._peek(access_key)
            if not found:
                raise _NotCached(access_key)
            return _usable_secret(ident)

        while True:
            try:
                return check(secret)
            except _NotCached as miss:
                loaded[miss.access_key] = await asyncio.to_thread(self._load, miss.access_key)

    def policies(self, ident: Identity) -> list[Policy]:
        """The identity-based policies that apply to a caller (none for an account's root user)."""
        source = self._policy_source
        if ident.user_name is None or source is None:
            return []
        return self._cached(self._policies, (ident.account_id, ident.user_name), lambda: source(ident))

    def invalidate(self, access_key: str | None = None) -> None:
        """Forget at once what a change made through this process replaced (the IAM version says it too,
        but this also serves stores that cannot tell)."""
        with self._lock:
            if access_key is None:
                self._clear()
            else:
                self._gen += 1
                self._cache.pop(access_key, None)

    def invalidate_policies(self) -> None:
        with self._lock:
            self._gen += 1
            self._policies.clear()


def _unchanging() -> int:
    return 0
