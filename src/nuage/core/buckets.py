"""Bucket use-cases: create, delete, list, versioning, tagging and other stored sub-resources."""

from __future__ import annotations

import json
import time

from nuage.core import memo
from nuage.core.names import check_bucket_name
from nuage.errors import (
    BucketNotFound,
    InvalidBucketState,
    InvalidLocation,
    InvalidVersioningStatus,
    NoSuchBucketConfig,
)
from nuage.storage.blobs.base import BlobStore
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import BucketRecord
from nuage.storage.meta.replication import REPLICATION_CONFIG
from nuage.types import VERSIONING_ENABLED, VERSIONING_OFF, VERSIONING_SUSPENDED


class BucketService:
    def __init__(self, meta: MetadataStore, blobs: BlobStore, region: str) -> None:
        self.meta = meta
        self.blobs = blobs
        self.region = region

    async def find(self, name: str) -> BucketRecord | None:
        return await memo.bucket(self.meta, name)

    async def config(self, name: str, kind: str) -> str | None:
        """A stored sub-resource document of a bucket, or None (no existence check)."""
        return await self.meta.get_bucket_config(name, kind)

    async def get(self, name: str) -> BucketRecord:
        rec = await memo.bucket(self.meta, name)
        if rec is None:
            raise BucketNotFound(bucket=name)
        return rec

    async def list(self, owner: str | None) -> list[BucketRecord]:
        return await self.meta.list_buckets(owner)

    async def create(self, name: str, owner: str, location: str | None, *, object_lock: bool = False,
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
        await self.meta.create_bucket(rec, {"acl": acl} if acl != "private" else {})
        return rec

    async def delete(self, name: str) -> None:
        """Delete an empty bucket; its unfinished multipart uploads are aborted with it."""
        memo.forget(name)
        self.blobs.delete(await self.meta.delete_bucket(name))

    async def set_versioning(self, name: str, status: str) -> None:
        rec = await self.get(name)
        if status not in (VERSIONING_ENABLED, VERSIONING_SUSPENDED):
            raise InvalidVersioningStatus("The versioning status is not valid")
        if rec.object_lock and status == VERSIONING_SUSPENDED:
            raise InvalidBucketState("An Object Lock configuration is present on this bucket, so the versioning "
                                     "state cannot be changed.")
        if status == VERSIONING_SUSPENDED and await self.meta.get_bucket_config(name, REPLICATION_CONFIG):
            raise InvalidBucketState("A replication configuration is present on this bucket, so the versioning "
                                     "state cannot be changed.")
        memo.forget(name)
        await self.meta.set_versioning(name, status)

    # -- stored sub-resources (tagging, policy, cors, ...) as JSON or text documents ---------------
    async def get_config(self, name: str, kind: str) -> str:
        await self.get(name)
        value = await self.meta.get_bucket_config(name, kind)
        if value is None:
            raise NoSuchBucketConfig(kind)
        return value

    async def get_config_or_none(self, name: str, kind: str) -> str | None:
        await self.get(name)
        return await self.meta.get_bucket_config(name, kind)

    async def put_config(self, name: str, kind: str, value: str | None) -> None:
        await self.get(name)
        await self.meta.put_bucket_config(name, kind, value)

    async def get_tags(self, name: str) -> dict[str, str]:
        return dict(json.loads(await self.get_config(name, "tagging")))

    async def set_tags(self, name: str, tags: dict[str, str] | None) -> None:
        await self.put_config(name, "tagging", json.dumps(tags) if tags is not None else None)
