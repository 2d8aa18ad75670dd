"""The metadata store's part for cross-region replication: the outbox, replica writes, and the
record entry that holds a version's replication status (see sqlite/replication.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nuage.storage.meta.records import ObjectRecord
from nuage.types import BucketName, ObjectKey, VersionId

REPLICATION_CONFIG = "replication"     # bucket_configs kind of a bucket's replication configuration
OP_PUT, OP_TAGS = "put", "tags"

#: (configuration document, new version or changed record, op) -> [(rule id, destination bucket)]
Router = Callable[[str, ObjectRecord, str], list[tuple[str, str]]]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    bucket: BucketName
    key: ObjectKey
    version_id: VersionId
    op: str
    rule_id: str
    dest_bucket: str
    created: float
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class Backlog:
    bucket: str
    rule_id: str
    dest_bucket: str
    pending: int
    oldest: float | None
    max_attempts: int
    last_error: str | None


@dataclass(frozen=True)
class FailureCount:
    bucket: str
    rule_id: str
    dest_bucket: str
    failed: int
    last_error: str
    last_at: float


class ReplicationStore(Protocol):
    """Outbox rows are added by the store's own write transactions (through the ``Router`` the store
    was opened with); the shipping worker reads them here and removes each after the destination
    confirmed it."""

    def set_notify(self, notify: Callable[[], None] | None) -> None: ...
    def pending(self, limit: int) -> list[OutboxRow]: ...
    async def done(self, row: OutboxRow) -> None: ...
    async def failed(self, row: OutboxRow, error: str) -> None: ...
    async def attempt_failed(self, row: OutboxRow, error: str) -> None: ...
    def backlog(self) -> list[Backlog]: ...
    def failures(self) -> list[FailureCount]: ...
    async def enqueue_existing(self, bucket: str) -> int: ...
    async def apply_replica(self, rec: ObjectRecord) -> tuple[bool, list[str]]: ...
    async def replica_tags(self, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> bool: ...


#: The columns of an outbox row, in the order :func:`outbox_row` reads them (both backends).
OUTBOX_COLUMNS = "id, bucket, key, version_id, op, rule_id, dest_bucket, created, attempts, last_error"


def outbox_row(r: tuple[Any, ...]) -> OutboxRow:
    return OutboxRow(int(r[0]), BucketName(r[1]), ObjectKey(r[2]), VersionId(r[3]), str(r[4]), str(r[5]), str(r[6]),
                     float(r[7]), int(r[8]), r[9])
