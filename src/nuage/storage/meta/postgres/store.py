"""The PostgreSQL metadata store: the MetadataStore protocol on a database that several gateways share.

Atomicity across gateways (READ COMMITTED, every write one transaction):
- every write of an object key (PUT, copy, completion, delete, tags, extra entries, replica applies)
  first takes a transaction-scoped advisory lock on (bucket, key), ``pg_advisory_xact_lock``, then reads
  the key's latest version: conditional writes (If-None-Match, If-Match), copy race guards and object
  lock guards see the state they replace, and of racing writers on any gateways exactly one wins. An
  advisory lock rather than ``SELECT ... FOR UPDATE``: a key with no row yet has nothing to lock;
- usage counters change with an upsert whose row lock serializes writers of one bucket, so quota checks
  read exact figures; account quotas add an advisory lock per account (objects.py);
- an upload's row is locked ``FOR UPDATE`` by every write of its parts, its abort and its completion;
- a bucket's row is held ``FOR KEY SHARE`` by object writes and ``FOR UPDATE`` by its deletion.
Object versions, uploads and usage are never cached: what one gateway committed, every gateway reads
next. Bucket records and configurations are cached, each change notified to every gateway (cache.py).
Deadlocks (PostgreSQL aborts one side) are retried.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg_pool import PoolTimeout

from nuage.errors import BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty, BucketNotFound
from nuage.storage.meta import metering
from nuage.storage.meta.budgets import BudgetStore
from nuage.storage.meta.invoices import InvoiceStore
from nuage.storage.meta.metering import BucketBytes, MeterRow, MeterTotal
from nuage.storage.meta.postgres import (
    DatabaseUnavailable,
    console,
    integrity,
    leases,
    listing,
    multipart,
    notify,
    objects,
)
from nuage.storage.meta.postgres.cache import BucketCache
from nuage.storage.meta.postgres.cluster_state import IAM_CHANNEL, IAMChanges, console_state
from nuage.storage.meta.postgres.db import AConn, Conn, Database, first_line, migrate
from nuage.storage.meta.postgres.iam import PostgresIAMStore
from nuage.storage.meta.postgres.jobs import PostgresJobStore
from nuage.storage.meta.postgres.replication import PostgresReplicationStore
from nuage.storage.meta.records import (
    BucketRecord,
    ListPage,
    ObjectRecord,
    PartRecord,
    ScrubItem,
    UploadPage,
    UploadRecord,
    VersionPage,
    WriteCondition,
)
from nuage.storage.meta.replication import OP_PUT, OP_TAGS, Router
from nuage.storage.meta.sqlite.store import MASTER_SEALED, MAX_CACHED_BLOBS, MAX_CACHED_CRCS, evidence_name
from nuage.types import BucketName

T = TypeVar("T")
BUCKET_COLUMNS = "name, owner, region, created, versioning, object_lock"
DEADLOCK_RETRIES = 3
#: held while an invoice is numbered and written: one at a time in the cluster (storage/meta/invoices.py)
INVOICE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('nuage:invoices', 0))"


def _bucket(row: tuple[Any, ...]) -> BucketRecord:
    return BucketRecord(BucketName(row[0]), str(row[1]), str(row[2]), float(row[3]), str(row[4]), bool(row[5]))


class PostgresMetadataStore:
    def __init__(self, url: str, *, replication_router: Router | None = None) -> None:
        try:
            self.schema_version, _ = migrate(url)
            self.db = Database(url)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            # psycopg's first line names the host and port and the cause, never the password
            raise DatabaseUnavailable(f"cannot reach the database: {first_line(exc)}") from None
        self._iam = IAMChanges()   # heard of through notifications (cluster_state.py)
        self.iam = PostgresIAMStore(self.db, self._iam)
        self.replication = PostgresReplicationStore(self.db, replication_router)
        self.jobs = PostgresJobStore(self.db)
        self.console_state = console_state(self.db)   # sign-outs and the sign-in throttle of the console
        self.invoices = InvoiceStore(self.db.read_sync, self.db.write_sync, "%s", INVOICE_LOCK)   # billing
        self.budgets = BudgetStore(self.db.read_sync, self.db.write_sync, "%s")   # budgets (nuage.billing)
        self._chunk_crcs: dict[str, bytes] = {}   # blob id -> its chunk CRCs (small blobs; never stale)
        # bucket records and configurations, kept while notifications tell every change (cache.py)
        self._buckets: BucketCache[str, BucketRecord | None] = BucketCache(lambda name: name)
        self._configs: BucketCache[tuple[str, str], str | None] = BucketCache(lambda key: key[0])
        self._echoes = notify.Echoes()   # bucket writes waiting for their notification to come back
        handlers: dict[str, Callable[[str], None]] = {notify.BUCKETS_CHANNEL: self._bucket_notified,
                                                      IAM_CHANNEL: self._iam.notified}
        if replication_router is not None:
            # outbox rows added through any gateway wake this gateway's shipper (it ships them when it
            # holds the replication lease)
            handlers[notify.OUTBOX_CHANNEL] = lambda _: self.replication.after_commit(True)
        self._listener = notify.Listener(url, handlers, self._listening)

    def close(self) -> None:
        self._listener.close()
        self.db.close()

    def _bucket_changed(self, name: str) -> None:
        self._buckets.forget(name)
        self._configs.forget(name)

    def _bucket_notified(self, payload: str) -> None:
        name, token = notify.parse_bucket_payload(payload)
        self._bucket_changed(name)
        self._echoes.arrived(token)

    def _listening(self, listening: bool) -> None:
        self._buckets.set_listening(listening)
        self._configs.set_listening(listening)
        self._iam.set_listening(listening)
        if listening:   # outbox rows added while nobody listened: look now
            self.replication.after_commit(True)

    async def _bucket_write(self, name: str, fn: Callable[[AConn], Awaitable[T]]) -> T:
        """A write that changes a bucket's record or configuration: every gateway forgets what it cached
        of the bucket (this one at once, the others when the commit's notification reaches them), and the
        write returns once its notification came back here (notify.py: the others have it by then)."""
        token = self._echoes.expect()

        async def tx(conn: AConn) -> T:
            result = await fn(conn)
            await notify.send(conn, notify.BUCKETS_CHANNEL, notify.bucket_payload(name, token))
            return result
        try:
            result = await self._write(tx)
        except BaseException:
            self._echoes.cancel(token)
            raise
        finally:
            self._bucket_changed(name)
        if self._buckets.listening:
            await self._echoes.wait(token)
        else:
            self._echoes.cancel(token)
        return result

    async def once_per_cluster(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``run()`` on one gateway of the cluster at a time (leases.py); until cancelled."""
        await leases.run_once_per_cluster(self.db.url, name, run)

    async def _write(self, fn: Callable[[AConn], Awaitable[T]]) -> T:
        for attempt in range(DEADLOCK_RETRIES):
            try:
                return await self.db.write(fn)
            except psycopg.errors.DeadlockDetected:
                if attempt == DEADLOCK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _journalled(self, fn: Callable[[AConn], Awaitable[tuple[T, bool]]]) -> T:
        """A write that may add outbox rows: the shippers of every gateway are told at the commit."""
        async def tx(conn: AConn) -> tuple[T, bool]:
            result, queued = await fn(conn)
            if queued:
                await notify.send(conn, notify.OUTBOX_CHANNEL)
            return result, queued
        result, queued = await self._write(tx)
        self.replication.after_commit(queued)
        return result

    def iam_version(self) -> int:
        """A number that changes with every change of keys, users, groups, policies or accounts that this
        gateway heard of (and whenever it starts or stops listening for them)."""
        return self._iam.version()

    # -- credentials --------------------------------------------------------------------------------
    def get_credential(self, access_key: str) -> tuple[str, str, str] | None:
        row = self.db.read_sync(lambda conn: conn.execute(
            "SELECT secret, owner_id, display_name FROM credentials WHERE access_key=%s", (access_key,)).fetchone())
        return (str(row[0]), str(row[1]), str(row[2])) if row else None

    def put_credential(self, access_key: str, secret: str, owner_id: str, display_name: str) -> None:
        self.db.write_sync(lambda conn: conn.execute(
            "INSERT INTO credentials VALUES (%s,%s,%s,%s,%s) ON CONFLICT (access_key) DO UPDATE SET "
            "secret=excluded.secret, owner_id=excluded.owner_id, display_name=excluded.display_name, "
            "created=excluded.created", (access_key, secret, owner_id, display_name, time.time())))

    # -- server-side encryption ---------------------------------------------------------------------
    def master_sealed_extra(self) -> dict[str, str] | None:
        """The ``extra`` map of one object version or multipart upload whose data key the server's master key
        sealed (SSE-S3, SSE-KMS), or None when there is none: whether a master key is needed to read them."""
        def q(conn: Conn) -> Any:
            for table in ("objects", "uploads"):
                row = conn.execute(f"SELECT meta FROM {table} WHERE meta LIKE '%%\"sse\":%%' "
                                   f"AND (meta::jsonb -> 'x' ->> 'sse') = ANY(%s) LIMIT 1",
                                   (list(MASTER_SEALED),)).fetchone()
                if row is not None:
                    return row[0]
            return None

        meta = self.db.read_sync(q)
        return dict(json.loads(meta)["x"]) if meta is not None else None

    # -- buckets ------------------------------------------------------------------------------------
    async def get_bucket(self, name: str) -> BucketRecord | None:
        async def q(conn: AConn) -> BucketRecord | None:
            row = await (await conn.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE name=%s", (name,))).fetchone()
            return _bucket(row) if row else None
        return await self._buckets.get(name, lambda: self.db.read(q))

    async def list_buckets(self, owner: str | None = None) -> list[BucketRecord]:
        async def q(conn: AConn) -> list[BucketRecord]:
            if owner is None:
                cur = await conn.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets ORDER BY name")
            else:
                cur = await conn.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE owner=%s ORDER BY name", (owner,))
            return [_bucket(r) for r in await cur.fetchall()]
        return await self.db.read(q)

    async def create_bucket(self, rec: BucketRecord, configs: dict[str, str] | None = None) -> None:
        async def tx(conn: AConn) -> None:
            cur = await conn.execute(
                f"INSERT INTO buckets ({BUCKET_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (name) DO NOTHING",
                (rec.name, rec.owner, rec.region, rec.created, rec.versioning, int(rec.object_lock)))
            if cur.rowcount == 0:
                row = await (await conn.execute("SELECT owner FROM buckets WHERE name=%s", (rec.name,))).fetchone()
                raise BucketAlreadyOwnedByYou() if row is not None and row[0] == rec.owner else BucketAlreadyExists()
            for kind, value in (configs or {}).items():
                await conn.execute("INSERT INTO bucket_configs VALUES (%s,%s,%s)", (rec.name, kind, value))
        await self._bucket_write(rec.name, tx)

    async def delete_bucket(self, name: str) -> list[str]:
        """Delete an empty bucket; its unfinished multipart uploads go with it (as on AWS)."""
        async def tx(conn: AConn) -> list[str]:
            # uploads first, then the bucket: the order in which their other writers lock them
            cur = await conn.execute("SELECT upload_id FROM uploads WHERE bucket=%s ORDER BY upload_id FOR UPDATE",
                                     (name,))
            uploads = [str(r[0]) for r in await cur.fetchall()]
            if await (await conn.execute("SELECT 1 FROM buckets WHERE name=%s FOR UPDATE", (name,))).fetchone() is None:
                raise BucketNotFound()
            if await (await conn.execute("SELECT 1 FROM objects WHERE bucket=%s LIMIT 1", (name,))).fetchone():
                raise BucketNotEmpty()
            released: list[str] = []
            for upload_id in uploads:
                released += await multipart.abort_upload(conn, upload_id)
            await conn.execute("DELETE FROM bucket_configs WHERE bucket=%s", (name,))
            await conn.execute("DELETE FROM bucket_usage WHERE bucket=%s", (name,))
            await conn.execute("DELETE FROM quotas WHERE kind='bucket' AND target=%s", (name,))
            await conn.execute("DELETE FROM buckets WHERE name=%s", (name,))
            return released
        return await self._bucket_write(name, tx)

    async def set_versioning(self, name: str, state: str) -> None:
        async def tx(conn: AConn) -> None:
            if (await conn.execute("UPDATE buckets SET versioning=%s WHERE name=%s", (state, name))).rowcount == 0:
                raise BucketNotFound()
        await self._bucket_write(name, tx)

    async def set_object_lock(self, name: str, enabled: bool) -> None:
        async def tx(conn: AConn) -> None:
            await conn.execute("UPDATE buckets SET object_lock=%s WHERE name=%s", (int(enabled), name))
        await self._bucket_write(name, tx)

    async def get_bucket_config(self, name: str, kind: str) -> str | None:
        async def q(conn: AConn) -> str | None:
            row = await (await conn.execute("SELECT value FROM bucket_configs WHERE bucket=%s AND name=%s",
                                            (name, kind))).fetchone()
            return str(row[0]) if row else None
        return await self._configs.get((name, kind), lambda: self.db.read(q))

    async def put_bucket_config(self, name: str, kind: str, value: str | None) -> None:
        async def tx(conn: AConn) -> None:
            if value is None:
                await conn.execute("DELETE FROM bucket_configs WHERE bucket=%s AND name=%s", (name, kind))
            else:
                await conn.execute("INSERT INTO bucket_configs VALUES (%s,%s,%s) ON CONFLICT (bucket, name) "
                                   "DO UPDATE SET value=excluded.value", (name, kind, value))
        await self._bucket_write(name, tx)

    # -- objects ------------------------------------------------------------------------------------
    async def get_object(self, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord | None:
        if version_id is None:
            return await self.db.read(lambda conn: objects.latest(conn, bucket, key))
        return await self.db.read(lambda conn: objects.by_version(conn, bucket, key, version_id))

    async def put_object(self, rec: ObjectRecord, versioning: str, cond: WriteCondition | None = None,
                         expect_seq: int | bool | None = False) -> tuple[ObjectRecord, list[str]]:
        """Commit a new version. ``expect_seq`` (when not False) guards against a concurrent change."""
        async def tx(conn: AConn) -> tuple[tuple[ObjectRecord, list[str]], bool]:
            if expect_seq is not False:
                await objects.race_guard(conn, rec.bucket, rec.key, expect_seq)
            stored, released = await objects.put_version(conn, rec, versioning, cond)
            return (stored, released), await self.replication.journal(conn, stored, OP_PUT)
        return await self._journalled(tx)

    async def delete_object(self, bucket: str, key: str, version_id: str | None, versioning: str,
                            owner: str, guard: Callable[[ObjectRecord], None] | None = None,
                            ) -> tuple[ObjectRecord | None, list[str]]:
        now = time.time()

        async def tx(conn: AConn) -> tuple[tuple[ObjectRecord | None, list[str]], bool]:
            removed, released = await objects.delete(conn, bucket, key, version_id, versioning, owner, now, guard)
            queued = False
            if version_id is None and removed is not None and removed.delete_marker:
                queued = await self.replication.journal(conn, removed, OP_PUT)   # a new delete marker
            return (removed, released), queued
        return await self._journalled(tx)

    async def set_object_tags(self, bucket: str, key: str, version_id: str | None,
                              tags: dict[str, str]) -> ObjectRecord:
        async def tx(conn: AConn) -> tuple[ObjectRecord, bool]:
            rec = await objects.set_tags(conn, bucket, key, version_id, tags)
            return rec, await self.replication.journal(conn, rec, OP_TAGS)
        return await self._journalled(tx)

    async def update_object_extra(self, bucket: str, key: str, version_id: str | None,
                                  changes: dict[str, str | None],
                                  guard: Callable[[ObjectRecord], None] | None = None) -> ObjectRecord:
        return await self._write(lambda conn: objects.update_extra(conn, bucket, key, version_id, changes, guard))

    async def list_objects(self, bucket: str, prefix: str, delimiter: str, marker: str | None,
                           max_keys: int) -> ListPage:
        return await self.db.read(lambda conn: listing.list_current(conn, bucket, prefix, delimiter, marker, max_keys))

    async def list_versions(self, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                            version_marker: str | None, max_keys: int) -> VersionPage:
        return await self.db.read(lambda conn: listing.list_versions(
            conn, bucket, prefix, delimiter, key_marker, version_marker, max_keys))

    # -- multipart ----------------------------------------------------------------------------------
    async def create_upload(self, rec: UploadRecord) -> None:
        await self._write(lambda conn: multipart.create_upload(conn, rec))

    async def get_upload(self, upload_id: str) -> UploadRecord | None:
        return await self.db.read(lambda conn: multipart.get_upload(conn, upload_id))

    async def put_part(self, part: PartRecord) -> list[str]:
        return await self._write(lambda conn: multipart.put_part(conn, part))

    async def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
        return await self.db.read(lambda conn: multipart.list_parts(conn, upload_id, after, limit))

    async def abort_upload(self, upload_id: str) -> list[str]:
        return await self._write(lambda conn: multipart.abort_upload(conn, upload_id))

    async def complete_upload(self, upload_id: str, rec: ObjectRecord, versioning: str,
                              cond: WriteCondition | None, parts: list[PartRecord]) -> tuple[ObjectRecord, list[str]]:
        async def tx(conn: AConn) -> tuple[tuple[ObjectRecord, list[str]], bool]:
            stored, released = await multipart.complete_upload(conn, upload_id, rec, versioning, cond, parts)
            return (stored, released), await self.replication.journal(conn, stored, OP_PUT)
        return await self._journalled(tx)

    async def list_uploads(self, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                           upload_marker: str | None, max_uploads: int) -> UploadPage:
        return await self.db.read(lambda conn: listing.list_uploads(
            conn, bucket, prefix, delimiter, key_marker, upload_marker, max_uploads))

    # -- usage and quotas ---------------------------------------------------------------------------
    async def set_quota(self, kind: str, target: str, max_bytes: int | None, max_objects: int | None) -> None:
        """Set (or, with both limits None, remove) the quota of a bucket or an account."""
        async def tx(conn: AConn) -> None:
            if max_bytes is None and max_objects is None:
                await conn.execute("DELETE FROM quotas WHERE kind=%s AND target=%s", (kind, target))
            else:
                await conn.execute(
                    "INSERT INTO quotas (kind, target, max_bytes, max_objects) VALUES (%s,%s,%s,%s) "
                    "ON CONFLICT (kind, target) DO UPDATE SET max_bytes=excluded.max_bytes, "
                    "max_objects=excluded.max_objects", (kind, target, max_bytes, max_objects))
        await self._write(tx)

    async def get_quota(self, kind: str, target: str) -> tuple[int | None, int | None] | None:
        async def q(conn: AConn) -> tuple[int | None, int | None] | None:
            row = await (await conn.execute("SELECT max_bytes, max_objects FROM quotas WHERE kind=%s AND target=%s",
                                            (kind, target))).fetchone()
            return (row[0], row[1]) if row else None
        return await self.db.read(q)

    async def bucket_usage(self, bucket: str) -> tuple[int, int]:
        """(bytes, objects) stored in a bucket, every version counted."""
        async def q(conn: AConn) -> tuple[int, int]:
            row = await (await conn.execute("SELECT bytes, objects FROM bucket_usage WHERE bucket=%s",
                                            (bucket,))).fetchone()
            return (int(row[0]), int(row[1])) if row else (0, 0)
        return await self.db.read(q)

    # -- the console (usage samples, console passwords) ------------------------------------------------
    async def bucket_usage_all(self) -> list[tuple[str, int, int]]:
        return await self.db.read(console.bucket_usage_all)

    async def add_usage_samples(self, rows: Sequence[tuple[str, int, int, int, int]], keep_after: int) -> None:
        await self._write(lambda conn: console.add_usage_samples(conn, rows, keep_after))

    async def usage_samples(self, buckets: Sequence[str], since: int) -> list[tuple[str, int, int, int, int]]:
        return await self.db.read(lambda conn: console.usage_samples(conn, buckets, since))

    def get_console_password(self, account_id: str, user_name: str) -> tuple[str, float] | None:
        return self.db.read_sync(lambda conn: console.get_console_password(conn, account_id, user_name))

    def set_console_password(self, account_id: str, user_name: str, hashed: str | None) -> None:
        self.db.write_sync(lambda conn: console.set_console_password(conn, account_id, user_name, hashed))

    # -- metering (migration 0013; statements in nuage.storage.meta.metering) ----------------------------
    async def add_meter_counts(self, rows: Sequence[MeterRow]) -> None:
        """Add counts to their hours' rows, in one transaction (rows in key order: gateways flushing at once
        lock the rows they share in the same order, and wait for each other rather than deadlock)."""
        if not rows:
            return
        ordered = sorted(rows)

        async def tx(conn: AConn) -> None:
            async with conn.cursor() as cur:
                await cur.executemany(metering.pg(metering.ADD), ordered)
        await self._write(tx)

    async def add_meter_samples(self, rows: Sequence[MeterRow], hours: Sequence[int]) -> int:
        """Write samples (storage_byte_hours) of hours that have none yet, and mark ``hours`` as sampled, in one
        transaction; how many rows were new."""
        ordered = sorted(rows)

        async def tx(conn: AConn) -> int:
            for hour in sorted(hours):
                await conn.execute(metering.pg(metering.SAMPLED), (hour,))
            added = 0
            for row in ordered:
                added += (await conn.execute(metering.pg(metering.SAMPLE), row)).rowcount
            return added
        return await self._write(tx)

    async def meter_totals(self, account_id: str | None, start: int, end: int) -> list[MeterTotal]:
        """Each metric summed over the hours in [start, end) (epoch seconds), per account (``account_id``'s
        only, unless None), bucket and region."""
        sql, params = metering.totals(account_id, start, end)
        return metering.total_rows(await self._fetch(metering.pg(sql), params))

    async def meter_hours(self, account_id: str | None, start: int, end: int) -> list[MeterRow]:
        """The metered rows of the hours in [start, end), hour by hour."""
        sql, params = metering.hours(account_id, start, end)
        return metering.hour_rows(await self._fetch(metering.pg(sql), params))

    async def last_storage_sample(self) -> int | None:
        """The last hour that has storage_byte_hours, if any."""
        rows = await self._fetch(metering.pg(metering.LAST_SAMPLE[0]), metering.LAST_SAMPLE[1])
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def storage_bytes(self) -> list[BucketBytes]:
        """Every bucket's bytes now: all its object versions and its unfinished uploads' parts."""
        return metering.storage_rows(await self._fetch(metering.STORAGE, ()))

    async def _fetch(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        async def q(conn: AConn) -> list[tuple[Any, ...]]:
            return list(await (await conn.execute(sql, params)).fetchall())
        return await self.db.read(q)

    # -- damaged blobs (reads and scrubs) -----------------------------------------------------------------
    async def quarantine(self, item: ScrubItem, source: str, detail: str) -> bool:
        """Record a damaged blob and flag its object version; True when it was not recorded before."""
        return await asyncio.to_thread(self.quarantine_sync, item, source, detail)

    def quarantine_sync(self, item: ScrubItem, source: str, detail: str) -> bool:
        now = time.time()

        def tx(conn: Conn) -> bool:
            return integrity.quarantine(conn, item.seq, item.bucket, item.key, item.version_id, evidence_name(item),
                                        source, detail, now)
        return self.db.write_sync(tx)

    def blob_chunk_crcs(self, blob_id: str, first: int, count: int) -> bytes | None:
        """The CRCs of ``count`` chunks of a blob from chunk ``first`` (None: not kept for this blob); those
        of small blobs are kept in memory (a blob's bytes never change, an id is never reused)."""
        crcs = self._chunk_crcs.get(blob_id)
        if crcs is None:
            crcs, part = self.db.read_sync(
                lambda conn: integrity.chunk_crcs(conn, blob_id, first, count, MAX_CACHED_CRCS))
            if crcs is None:
                return part
            if len(self._chunk_crcs) >= MAX_CACHED_BLOBS:
                self._chunk_crcs.clear()
            self._chunk_crcs[blob_id] = crcs
        return crcs[4 * first:4 * (first + count)] if len(crcs) >= 4 * (first + count) else None

    def scrub_objects(self, after_seq: int, limit: int) -> tuple[list[ScrubItem], int]:
        return self.db.read_sync(lambda conn: integrity.object_items(conn, after_seq, limit))

    def scrub_parts(self) -> list[ScrubItem]:
        return self.db.read_sync(integrity.part_items)

    def quarantined(self) -> list[tuple[str, str, str, str, float, str, str]]:
        return self.db.read_sync(integrity.quarantine_rows)

    # -- sweeper support ----------------------------------------------------------------------------
    def blob_referenced(self, blob_id: str) -> bool:
        return self.db.read_sync(lambda conn: conn.execute(
            "SELECT 1 FROM blobs WHERE id=%s", (blob_id,)).fetchone()) is not None

    async def expired_uploads(self, older_than: float) -> list[str]:
        async def q(conn: AConn) -> list[str]:
            cur = await conn.execute("SELECT upload_id FROM uploads WHERE initiated<%s", (older_than,))
            return [str(r[0]) for r in await cur.fetchall()]
        return await self.db.read(q)
