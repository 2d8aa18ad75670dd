"""Who an access key belongs to, with a cache: signature checks run on every request and must not cost a
metadata query each time. The cache is kept while the metadata store's IAM version stays the same
(``MetadataStore.iam_version``: any change of keys, users, groups, policies or accounts, through any worker
process or gateway, changes it) and is emptied as soon as it changes. On SQLite every process sees the
change at its next request; on PostgreSQL when the change's notification arrives (at its commit), and
while a gateway does not listen for notifications nothing is cached. Whatever happens, no entry is used
after ``ttl`` seconds.

An :class:`Identity` is the full answer the protocol layers need: the account (tenant) the key belongs
to, with its 12-digit account id and its canonical user id (what buckets and objects record as their
owner), and the user inside it (``user_name`` is None for the account's root user). The identity-based
policies of a user (its inline policies and those of its groups) come from :meth:`Identities.policies`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

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


class Identities:
    def __init__(self, meta: MetadataStore, *, ttl: float = 1.0, max_entries: int = 10_000,
                 source: IdentitySource | None = None, policy_source: PolicySource | None = None) -> None:
        self.meta = meta
        self.ttl = ttl
        self.max_entries = max_entries
        self._source = source or self._legacy
        self._policy_source = policy_source
        self._version: Callable[[], int | None] = meta.iam_version if meta is not None else _unchanging
        self._cache: dict[str, tuple[float, Identity | None]] = {}
        self._policies: dict[tuple[str, str | None], tuple[float, list[Policy]]] = {}
        # Bumped by every emptying: a lookup that read the store before a change stores nothing after it.
        self._gen = 0
        self._seen: int | None = None     # the IAM version the entries were read at
        self._lock = threading.Lock()

    def _current(self) -> tuple[int, bool]:
        """(the generation, whether entries may be kept), after emptying the cache when the IAM changed."""
        version = self._version()
        with self._lock:
            if version is None or version != self._seen:
                self._clear()
                self._seen = version
            return self._gen, version is not None

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

    def lookup(self, access_key: str) -> Identity | None:
        gen, keep = self._current()
        now = time.monotonic()
        hit = self._cache.get(access_key)
        if hit is not None and hit[0] > now:
            return hit[1]
        ident = self._source(access_key)
        with self._lock:
            if keep and gen == self._gen:
                if len(self._cache) >= self.max_entries:
                    self._cache.clear()
                self._cache[access_key] = (now + self.ttl, ident)
        return ident

    def secret(self, access_key: str) -> str | None:
        """The secret of a usable key; a key of a suspended account is refused with AccessDenied."""
        ident = self.lookup(access_key)
        if ident is not None and ident.suspended:
            raise AccessDenied("The account of this access key is suspended.")
        return ident.secret if ident else None

    def policies(self, ident: Identity) -> list[Policy]:
        """The identity-based policies that apply to a caller (none for an account's root user)."""
        if ident.user_name is None or self._policy_source is None:
            return []
        gen, keep = self._current()
        now = time.monotonic()
        key = (ident.account_id, ident.user_name)
        hit = self._policies.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = self._policy_source(ident)
        with self._lock:
            if keep and gen == self._gen:
                if len(self._policies) >= self.max_entries:
                    self._policies.clear()
                self._policies[key] = (now + self.ttl, found)
        return found

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
