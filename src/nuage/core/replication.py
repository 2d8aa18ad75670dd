"""Bucket replication in the core: the configuration model (rules), the router that picks the rules
a change matches (called inside the write transaction), the wire form of a version, and applying a
replica on the destination. No HTTP here: shipping lives in :mod:`nuage.replication`."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from nuage.core.bucket_config import ConfigKind, read, write
from nuage.core.ingest import MAX_OBJECT_SIZE, Integrity, ingest
from nuage.core.objects import ObjectService
from nuage.core.policy.actions import object_arn
from nuage.core.replication_consent import Consent, Source, apply_actions
from nuage.core.sse import SERVER_ALGORITHMS, BlobCipher, SSESpec
from nuage.errors import (
    AccessDenied,
    InvalidReplicationRule,
    InvalidRequest,
    MalformedDocument,
    ReplicaBodyIncomplete,
    VersionNotFound,
)
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.extra import REPLICA, received_replica, replica_entries
from nuage.storage.meta.records import BucketRecord, ObjectRecord, Segment
from nuage.storage.meta.replication import OP_TAGS, REPLICATION_CONFIG
from nuage.types import VERSIONING_ENABLED, BucketName, ObjectKey, VersionId

ENABLED = "Enabled"
DISABLED = "Disabled"
ARN_PREFIX = "arn:aws:s3:::"


@dataclass(frozen=True)
class Rule:
    id: str
    destination_arn: str
    priority: int = 0
    status: str = ENABLED
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    storage_class: str | None = None
    delete_markers: bool = False            # DeleteMarkerReplication Status Enabled
    existing_objects: bool = False          # ExistingObjectReplication Status Enabled
    filter_form: str = "filter"             # "filter" (V2 schema), "prefix" (V1: Rule/Prefix) or "none"
    delete_marker_given: bool = True
    account: str | None = None              # Destination/Account, echoed
    owner_override: bool = False            # Destination/AccessControlTranslation Owner=Destination

    @property
    def destination_bucket(self) -> str:
        return self.destination_arn[len(ARN_PREFIX):]

    def matches(self, rec: ObjectRecord) -> bool:
        if self.status != ENABLED or not rec.key.startswith(self.prefix):
            return False
        return all(rec.tags.get(k) == v for k, v in self.tags)


@dataclass(frozen=True)
class ReplicationConfig:
    role: str
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps({"role": self.role, "rules": [asdict(r) for r in self.rules]})

    @classmethod
    def from_json(cls, raw: str) -> ReplicationConfig:
        doc = json.loads(raw)
        rules = []
        for r in doc["rules"]:
            r["tags"] = tuple(tuple(t) for t in r.get("tags", ()))
            rules.append(Rule(**r))
        return cls(str(doc.get("role", "")), tuple(rules))

    def validate(self) -> None:
        """The checks AWS makes on a configuration's rules (InvalidRequest / InvalidArgument)."""
        if not self.rules:
            raise MalformedDocument("The replication configuration must have at least one rule.")
        if len(self.rules) > 1000:
            raise InvalidRequest("A replication configuration can have up to 1,000 rules.")
        ids = [r.id for r in self.rules]
        if len(set(ids)) != len(ids):
            raise InvalidReplicationRule("Rule Id must be unique.")
        v2 = [r for r in self.rules if r.filter_form == "filter"]
        if v2 and len(v2) != len(self.rules):
            raise InvalidReplicationRule("Rules in one configuration must all use Filter or all use Prefix.")
        priorities = [r.priority for r in v2]
        if len(set(priorities)) != len(priorities):
            raise InvalidReplicationRule("Found duplicate priority " + str(
                next(p for p in priorities if priorities.count(p) > 1)) + " in the rules")
        for r in self.rules:
            if len(r.id) > 255:
                raise InvalidReplicationRule("The ID of a rule can be up to 255 characters.")
            if not r.destination_arn.startswith(ARN_PREFIX) or not r.destination_bucket:
                raise InvalidReplicationRule("Invalid bucket ARN.")
            if r.filter_form == "filter" and not r.delete_marker_given:
                raise InvalidRequest("DeleteMarkerReplication must be specified for this version of Cross "
                                     "Region Replication configuration schema.")
            if r.owner_override and not r.account:
                raise InvalidRequest("Destination Account is required when AccessControlTranslation is specified.")
            if r.tags and r.delete_markers:
                raise InvalidRequest("Delete marker replication is not supported if any Tag filter is "
                                     "specified. Please refer to S3 Developer Guide for more information.")


_PARSED: dict[str, ReplicationConfig] = {}


def parsed(raw: str) -> ReplicationConfig:
    config = _PARSED.get(raw)
    if config is None:
        if len(_PARSED) > 1000:
            _PARSED.clear()
        config = _PARSED[raw] = ReplicationConfig.from_json(raw)
    return config


#: A bucket's replication configuration (stored under the name the replication stores' queries use).
REPLICATION: ConfigKind[ReplicationConfig] = ConfigKind(REPLICATION_CONFIG, ReplicationConfig.to_json, parsed)


def route(raw: str, rec: ObjectRecord, op: str) -> list[tuple[str, str]]:
    """The (rule id, destination bucket) pairs a new version, delete marker or tag change goes to:
    per destination, the matching enabled rule of highest priority (as S3 resolves overlaps)."""
    best: dict[str, Rule] = {}
    for rule in parsed(raw).rules:
        if rec.delete_marker and (not rule.delete_markers or rule.tags):
            continue
        if not rule.matches(rec):
            continue
        have = best.get(rule.destination_bucket)
        if have is None or rule.priority > have.priority:
            best[rule.destination_bucket] = rule
    del op
    return [(r.id, dest) for dest, r in best.items()]


# -- the wire form of a version -------------------------------------------------------------------
def to_wire(rec: ObjectRecord, op: str) -> dict[str, Any]:
    """What the destination needs to store a version as its source has it (bytes travel apart)."""
    extra = replica_entries(rec.extra, rec.facts.sse_algorithm in SERVER_ALGORITHMS)
    return {
        "op": op, "key": rec.key, "version_id": rec.version_id, "size": rec.size, "etag": rec.etag,
        "last_modified": rec.last_modified, "owner": rec.owner, "delete_marker": rec.delete_marker,
        "content_type": rec.content_type, "headers": rec.headers, "user_meta": rec.user_meta,
        "checksums": rec.checksums, "checksum_type": rec.checksum_type, "part_sizes": rec.part_sizes,
        "part_checksums": rec.part_checksums, "tags": rec.tags, "storage_class": rec.storage_class,
        "extra": extra,
    }


def encode_wire(doc: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def decode_wire(value: str) -> dict[str, Any]:
    doc = json.loads(base64.urlsafe_b64decode(value.encode()))
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    return doc


def replicable(rec: ObjectRecord) -> str | None:
    """Why a version cannot be replicated (None: it can). SSE-C bytes cannot be read without the key."""
    facts = rec.facts
    if facts.sse_algorithm not in (None, *SERVER_ALGORITHMS):
        return "Objects encrypted with customer-provided keys (SSE-C) are not replicated."
    if facts.quarantined:   # retrying cannot mend damaged bytes, and they must not spread
        return "The version's stored bytes failed their integrity check (quarantined); it is not replicated."
    return None


class Replicas:
    """The destination side: store replicas with their source's version ids, idempotently, and only
    with the consent of the destination bucket's owner (see :mod:`nuage.core.replication_consent`)."""

    def __init__(self, meta: MetadataStore, objects: ObjectService) -> None:
        self.meta = meta
        self.objects = objects
        self.consent = Consent(meta)

    async def check(self, bucket: BucketName, source: Source, actions: list[str], resource: str) -> None:
        """What saving a rule asks of its destination: it exists, is versioned, and its owner agreed."""
        b = await self.objects.bucket(bucket)
        if b.versioning != VERSIONING_ENABLED:
            raise InvalidRequest("Destination bucket must have versioning enabled.")
        await self.consent.require(b, source, actions, resource)

    async def apply(self, bucket: BucketName, doc: dict[str, Any], body: AsyncIterator[bytes], *,
                    same_region: bool) -> bool:
        """Store the version ``doc`` describes (bytes from ``body``); False when it is there already.
        ``same_region``: the sender is this region (the source bucket lives here too). Raises
        AccessDenied, before any byte is read, when the destination's owner has not agreed."""
        b = await self.objects.bucket(bucket)
        if b.versioning != VERSIONING_ENABLED:
            raise InvalidRequest("Destination bucket must have versioning enabled.")
        try:
            source = Source.from_wire(doc.get("source"), same_region)
        except ValueError:
            raise AccessDenied("The replica does not say which account replicates it.") from None
        key, version_id = ObjectKey(str(doc["key"])), VersionId(str(doc["version_id"]))
        tags_only = doc.get("op") == OP_TAGS
        await self.consent.require(b, source, apply_actions(
            tags_only=tags_only, delete_marker=bool(doc.get("delete_marker")), has_tags=bool(doc.get("tags")),
            override=source.override), object_arn(bucket, key))
        if tags_only:
            tags = {str(k): str(v) for k, v in dict(doc.get("tags") or {}).items()}
            # only a replica's tags follow its source; the bucket owner's own versions are never touched
            target = await self.meta.get_object(bucket, key, version_id)
            if target is None or target.facts.replication != REPLICA \
                    or not await self.meta.replication.replica_tags(bucket, key, version_id, tags):
                raise VersionNotFound(key=key, version=version_id)
            return True
        if await self.meta.get_object(bucket, key, version_id) is not None:
            async for _ in body:
                pass
            return False
        extra, sse = received_replica({str(k): str(v) for k, v in dict(doc.get("extra") or {}).items()},
                                      b.object_lock)
        size = int(doc["size"])
        rec = ObjectRecord(
            bucket=bucket, key=key, version_id=version_id, size=size if not doc.get("delete_marker") else 0,
            etag=str(doc["etag"]), last_modified=float(doc["last_modified"]),
            owner=await self._owner(b, source, str(doc.get("owner") or "")),
            delete_marker=bool(doc.get("delete_marker")), content_type=doc.get("content_type"),
            headers=dict(doc.get("headers") or {}), user_meta=dict(doc.get("user_meta") or {}),
            checksums=dict(doc.get("checksums") or {}), checksum_type=doc.get("checksum_type"),
            part_sizes=doc.get("part_sizes"), part_checksums=doc.get("part_checksums"),
            tags=dict(doc.get("tags") or {}), storage_class=str(doc.get("storage_class") or "STANDARD"),
            extra=extra,
        )
        blob = None
        if not rec.delete_marker:
            data_key = None
            if sse is not None:
                algorithm, kms_key, bucket_key = sse
                data_key, entries = self.objects.keyring.seal(SSESpec(algorithm, kms_key, None, bucket_key))
                extra.update(entries)
            full = rec.checksum_type == "FULL_OBJECT"
            plain_md5 = ("-" not in rec.etag and sse is None) or (sse is not None and sse[0] == "AES256")
            integrity = Integrity(
                content_md5=base64.b64encode(bytes.fromhex(rec.etag)).decode()
                if plain_md5 and len(rec.etag) == 32 and "-" not in rec.etag else None,
                length=size, algorithms=list(rec.checksums) if full else [],
                expected=dict(rec.checksums) if full else {}, max_size=MAX_OBJECT_SIZE)
            got = await ingest(self.objects.blobs, body, integrity, BlobCipher(data_key) if data_key else None)
            if got.size != size:
                self.objects.blobs.delete([got.blob])
                raise ReplicaBodyIncomplete("The replica's body does not have the size its record announces.")
            if size:
                rec.segments = [Segment(got.blob, size, got.crc, got.chunk_crcs)]
                blob = got.blob
            else:
                self.objects.blobs.delete([got.blob])
        try:
            applied, released = await self.meta.replication.apply_replica(rec)
        except Exception:
            if blob is not None:
                self.objects.blobs.delete([blob])
            raise
        if not applied and blob is not None:
            self.objects.blobs.delete([blob])
        await self.objects.release(released)
        return applied

    async def _owner(self, bucket: BucketRecord, source: Source, source_owner: str) -> str:
        """Who owns a replica. The destination bucket's owner: within one account (canonical ids are per
        region, so the source's would mean nothing in another region), with the owner override (its grant
        was checked), or under BucketOwnerEnforced. Otherwise, as on AWS, the source object's owner."""
        if (not source_owner or source.override or await self.consent.same_account(bucket, source)
                or await self.consent.owner_enforced(bucket)):
            return bucket.owner
        return source_owner


async def get_config(meta: MetadataStore, objects: ObjectService, bucket: BucketName) -> ReplicationConfig:
    await objects.bucket(bucket)
    config = await read(meta, bucket, REPLICATION)
    if config is None:
        raise REPLICATION.missing(bucket)
    return config


async def put_config(meta: MetadataStore, objects: ObjectService, bucket: BucketName, config: ReplicationConfig) -> int:
    """Store a validated configuration; with ExistingObjectReplication, journal the stored versions.
    Returns how many versions were journaled."""
    b = await objects.bucket(bucket)
    if b.versioning != VERSIONING_ENABLED:
        raise InvalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    config.validate()
    await write(meta, bucket, REPLICATION, config)
    if any(r.existing_objects for r in config.rules):
        return await meta.replication.enqueue_existing(bucket)
    return 0


async def delete_config(meta: MetadataStore, objects: ObjectService, bucket: BucketName) -> None:
    await objects.bucket(bucket)
    await write(meta, bucket, REPLICATION, None)




# -- where buckets live ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BucketPlace:
    """Where a bucket lives: its region, that region's endpoint, and its versioning state."""

    bucket: str
    region: str
    endpoint: str
    versioning: str


class BucketLocator(Protocol):
    """Finds a bucket in this region or (asking the registry's peers, cached) in another one."""

    region: str

    async def locate(self, bucket: BucketName) -> BucketPlace | None: ...      # here, else elsewhere()

    async def elsewhere(self, bucket: BucketName) -> BucketPlace | None: ...   # another region (cached)

    async def remote(self, bucket: BucketName) -> BucketPlace | None: ...      # another region (asked now)

    # Whether the owner of a bucket of another region lets ``source`` do ``actions`` on ``resource``
    # (asked of that region now): None when allowed, else (error code, message).
    async def consent(self, place: BucketPlace, source: Source, actions: list[str], resource: str,
                      ) -> tuple[str, str] | None: ...
