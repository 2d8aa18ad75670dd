"""S3 Object Lock use-cases: the bucket's lock configuration, and the retention and legal hold of a
version, on top of the bucket and object services. No HTTP here; the rules themselves are in
core/lock_rules.py.
"""

from __future__ import annotations

from nuage.core.buckets import BucketService
from nuage.core.lock_rules import (
    HOLD_STATUSES,
    NOT_LOCK_BUCKET,
    OBJECT_LOCK,
    DefaultRetention,
    LockConfig,
    Retention,
    check_retention_change,
    legal_hold_of,
    now_ms,
    retention_of,
    stored,
)
from nuage.core.objects import ObjectService
from nuage.errors import InvalidArgument, InvalidBucketState, InvalidRequest, MalformedXML
from nuage.storage.meta.extra import legal_hold_change, retention_change
from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.types import VERSIONING_ENABLED, BucketName, ObjectKey, VersionId


class LockService:
    """Object Lock use-cases on top of the bucket and object services."""

    def __init__(self, buckets: BucketService, objects: ObjectService) -> None:
        self.buckets = buckets
        self.objects = objects
        self.meta = objects.meta

    async def _lock_bucket(self, name: BucketName) -> BucketRecord:
        b = await self.buckets.get(name)
        if not b.object_lock:
            raise InvalidRequest(NOT_LOCK_BUCKET)
        return b

    # bucket configuration
    async def get_config(self, bucket: BucketName) -> DefaultRetention | None:
        b = await self.buckets.get(bucket)
        if not b.object_lock:
            raise OBJECT_LOCK.missing(bucket)
        config = await self.buckets.config(bucket, OBJECT_LOCK)
        return config.default if config is not None else None

    async def put_config(self, bucket: BucketName, rule: DefaultRetention | None) -> None:
        b = await self.buckets.get(bucket)
        if not b.object_lock:
            # Object Lock can be turned on for an existing bucket whose versioning is enabled.
            if b.versioning != VERSIONING_ENABLED:
                raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                                         "configuration")
            await self.meta.set_object_lock(bucket, True)
        await self.buckets.set_config(bucket, OBJECT_LOCK, LockConfig(rule))

    # retention
    async def get_retention(self, bucket: BucketName, key: ObjectKey,
                            version_id: VersionId | None) -> tuple[ObjectRecord, Retention | None]:
        await self._lock_bucket(bucket)
        rec = await self.objects.head(bucket, key, version_id)
        return rec, retention_of(rec)

    async def put_retention(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None,
                            retention: Retention | None, bypass_governance: bool) -> ObjectRecord:
        await self._lock_bucket(bucket)
        now = now_ms()
        if retention is not None and retention.until <= now:
            raise InvalidArgument("The retain until date must be in the future!", argument="RetainUntilDate")
        await self.objects.head(bucket, key, version_id)

        def guard(rec: ObjectRecord) -> None:
            check_retention_change(retention_of(rec), retention, bypass_governance, now)

        return await self.meta.update_object_extra(bucket, key, version_id, retention_change(stored(retention)), guard)

    # legal hold
    async def get_legal_hold(self, bucket: BucketName, key: ObjectKey,
                             version_id: VersionId | None) -> tuple[ObjectRecord, str | None]:
        await self._lock_bucket(bucket)
        rec = await self.objects.head(bucket, key, version_id)
        return rec, legal_hold_of(rec)

    async def put_legal_hold(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None,
                             status: str) -> ObjectRecord:
        await self._lock_bucket(bucket)
        if status not in HOLD_STATUSES:
            raise MalformedXML()
        await self.objects.head(bucket, key, version_id)
        return await self.meta.update_object_extra(bucket, key, version_id, legal_hold_change(status))
