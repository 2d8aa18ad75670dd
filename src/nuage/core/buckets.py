"""Bucket use-cases: create, delete, list, versioning, and the typed bucket configurations
(core/bucket_config.py)."""

from __future__ import annotations

import time
from typing import TypeVar

from nuage.core import memo
from nuage.core.bucket_config import ACL, ConfigKind, read, write
from nuage.core.names import check_bucket_name
from nuage.core.replication import REPLICATION
from nuage.errors import (
    BucketNotFound,
    InvalidBucketState,
    InvalidLocation,
    InvalidVersioningStatus,
)
from nuage.storage.blobs.base import BlobStore
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import BucketRecord
from nuage.types import VERSIONING_ENABLED, VERSIONING_OFF, VERSIONING_SUSPENDED, BucketName

T = TypeVar("T")


class BucketService:
    def __init__(self, meta: MetadataStore, blobs: BlobStore, region: str) -> None:
        self.meta = meta
        self.blobs = blobs
        self.region = region

    async def find(self, name: BucketName) -> BucketRecord | None:
        return await memo.bucket(self.meta, name)

    async def config(self, name: BucketName, kind: ConfigKind[T]) -> T | None:
        """A bucket's configuration of one kind, or None when it has none. No existence check of the
        bucket: the store's config cache answers the hot paths (authorization, CORS) without a query."""
        return await read(self.meta, name, kind)

    async def require(self, name: BucketName, kind: ConfigKind[T]) -> T:
        """The configuration an operation needs: the bucket's error if it does not exist, the kind's
        "not configured" error if it has none."""
        await self.get(name)
        value = await read(self.meta, name, kind)
        if value is None:
            raise kind.missing(name)
        return value

    async def set_config(self, name: BucketName, kind: ConfigKind[T], value: T | None) -> None:
        """Set (None: remove) a configuration of an existing bucket."""
        await self.get(name)
        await write(self.meta, name, kind, value)

    async def get(self, name: BucketName) -> BucketRecord:
        rec = await memo.bucket(self.meta, name)
        if rec is None:
            raise BucketNotFound(bucket=name)
        return rec

    async def list(self, owner: str | None) -> list[BucketRecord]:
        return await self.meta.list_buckets(owner)

    async def create(self, name: BucketName, owner: str, location: str | None, *, object_lock: bool = False,
                     acl: str = "private") -> BucketRecord:
        check_bucket_name(name)
        region = location or self.region
        if location is not None and location != self.region and not (
                location in ("US", "us-east-1") and self.region == "us-east-1"):
            raise InvalidLocation(
                f"The specified location-constraint is not valid for this region ({self.region}).",
                argument="LocationConstraint",
            )
        rec = BucketRecord(name=name, owner=owner, region=self.region if region == "US" else region,
                           created=time.time(),
                           versioning=VERSIONING_ENABLED if object_lock else VERSIONING_OFF,
                           object_lock=object_lock)
        memo.forget(name)
        await self.meta.create_bucket(rec, {ACL.name: ACL.dumps(acl)} if acl != "private" else {})
        return rec

    async def delete(self, name: BucketName) -> None:
        """Delete an empty bucket; its unfinished multipart uploads are aborted with it."""
        memo.forget(name)
        self.blobs.delete(await self.meta.delete_bucket(name))

    async def set_versioning(self, name: BucketName, status: str) -> None:
        rec = await self.get(name)
        if status not in (VERSIONING_ENABLED, VERSIONING_SUSPENDED):
            raise InvalidVersioningStatus("The versioning status is not valid")
        if rec.object_lock and status == VERSIONING_SUSPENDED:
            raise InvalidBucketState("An Object Lock configuration is present on this bucket, so the versioning "
                                     "state cannot be changed.")
        if status == VERSIONING_SUSPENDED and await self.config(name, REPLICATION) is not None:
            raise InvalidBucketState("A replication configuration is present on this bucket, so the versioning "
                                     "state cannot be changed.")
        memo.forget(name)
        await self.meta.set_versioning(name, status)
