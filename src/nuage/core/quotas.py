"""Quotas per tenant (account) and per bucket, in bytes and object count, and the usage they limit.

Usage counts every stored version (delete markers as 0 bytes), as AWS bills storage. The counters live
in the metadata store and change inside the transaction that commits or removes a version; the quota is
checked in that same transaction, so of two racing writers that would exceed it exactly one succeeds.
This module only sets quotas and reports usage.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nuage.errors import BucketNotFound, InvalidArgument
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.iam import AccountRecord

BUCKET, ACCOUNT = "bucket", "account"


@dataclass
class Quota:
    max_bytes: int | None = None
    max_objects: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {"max_bytes": self.max_bytes, "max_objects": self.max_objects}


@dataclass
class BucketUsage:
    name: str
    bytes: int
    objects: int
    quota: Quota

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "bytes": self.bytes, "objects": self.objects, "quota": self.quota.as_dict()}


@dataclass
class TenantUsage:
    account_id: str
    name: str
    status: str
    quota: Quota
    buckets: list[BucketUsage] = field(default_factory=list)
    query_results_bytes: int = 0      # results of SQL jobs kept with their jobs

    @property
    def bytes(self) -> int:
        return sum(b.bytes for b in self.buckets) + self.query_results_bytes

    @property
    def objects(self) -> int:
        return sum(b.objects for b in self.buckets)

    def as_dict(self) -> dict[str, object]:
        return {"account_id": self.account_id, "name": self.name, "status": self.status,
                "bytes": self.bytes, "objects": self.objects, "quota": self.quota.as_dict(),
                "query_results_bytes": self.query_results_bytes, "buckets": [b.as_dict() for b in self.buckets]}


def _check_limit(value: int | None) -> None:
    if value is not None and value < 0:
        raise InvalidArgument("A quota limit must be a non-negative integer.")


#: account id -> bytes of the SQL job results kept for it (they count as stored bytes)
ResultsUsage = Callable[[str], Awaitable[int]]


class Quotas:
    def __init__(self, meta: MetadataStore, results: ResultsUsage | None = None) -> None:
        self.meta = meta
        self.results = results

    async def _quota(self, kind: str, target: str) -> Quota:
        found = await self.meta.get_quota(kind, target)
        return Quota(*found) if found else Quota()

    async def set_account_quota(self, account_id: str, max_bytes: int | None, max_objects: int | None) -> None:
        _check_limit(max_bytes)
        _check_limit(max_objects)
        await self.meta.set_quota(ACCOUNT, account_id, max_bytes, max_objects)

    async def set_bucket_quota(self, bucket: str, max_bytes: int | None, max_objects: int | None) -> None:
        _check_limit(max_bytes)
        _check_limit(max_objects)
        if await self.meta.get_bucket(bucket) is None:
            raise BucketNotFound()
        await self.meta.set_quota(BUCKET, bucket, max_bytes, max_objects)

    async def account_quota(self, account_id: str) -> Quota:
        return await self._quota(ACCOUNT, account_id)

    async def account_bytes(self, account_id: str, canonical_id: str) -> int:
        """Bytes the account stores: every version in its buckets and the SQL job results kept for it."""
        total = await self.results(account_id) if self.results is not None else 0
        for b in await self.meta.list_buckets(canonical_id):
            total += (await self.meta.bucket_usage(b.name))[0]
        return total

    async def bucket_quota(self, bucket: str) -> Quota:
        return await self._quota(BUCKET, bucket)

    async def bucket_usage(self, bucket: str) -> BucketUsage:
        used_bytes, used_objects = await self.meta.bucket_usage(bucket)
        return BucketUsage(bucket, used_bytes, used_objects, await self.bucket_quota(bucket))

    async def tenant_usage(self, account: AccountRecord) -> TenantUsage:
        out = TenantUsage(account.account_id, account.name, account.status,
                          await self._quota(ACCOUNT, account.account_id))
        for b in await self.meta.list_buckets(account.canonical_id):
            out.buckets.append(await self.bucket_usage(b.name))
        if self.results is not None:
            out.query_results_bytes = await self.results(account.account_id)
        return out
