"""The SQLite metadata store: the default, embedded implementation of MetadataStore."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from nuage.errors import BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty, BucketNotFound
from nuage.storage.blobs.inline import is_inline
from nuage.storage.meta import metering
from nuage.storage.meta.budgets import BudgetStore
from nuage.storage.meta.invoices import InvoiceStore
from nuage.storage.meta.metering import BucketBytes, MeterRow, MeterTotal
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
from nuage.storage.meta.sqlite import console, integrity, listing, multipart, objects
from nuage.storage.meta.sqlite.cluster_state import IAMBeacon, console_state
from nuage.storage.meta.sqlite.db import Readers, Writer, connect, migrate
from nuage.storage.meta.sqlite.iam import SQLiteIAMStore
from nuage.storage.meta.sqlite.jobs import SQLiteJobStore
from nuage.storage.meta.sqlite.replication import SQLiteReplicationStore

_MISSING = object()
MAX_CACHED_OBJECTS = 2048   # latest-version records kept for reads
MAX_CACHED_INLINE = 16 * 1024   # ... whose bytes, when kept in the row, are at most this long
MAX_CACHED_BLOBS = 4096         # blobs whose chunk CRCs are kept for range reads
MAX_CACHED_CRCS = 1024          # ... when they have at most this many chunks
BUCKET_COLUMNS = "name, owner, region, created, versioning, object_lock"


def evidence_name(item: ScrubItem) -> str:
    """The quarantine row's name of a blob: its id, ``row:<seq>`` for bytes kept in an object's row, or
    ``part:<upload id>:<digest>`` for a small part's."""
    if not is_inline(item.blob):
        return item.blob
    if item.seq is not None:
        return f"row:{item.seq}"
    return f"part:{item.version_id}:{hashlib.sha256(item.blob.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def _bucket(row: tuple[object, ...]) -> BucketRecord:
    return BucketRecord(str(row[0]), str(row[1]), str(row[2]), float(row[3]),  # type: ignore[arg-type]
                        str(row[4]), bool(row[5]))


#: the server-side encryptions whose data keys the server's master key seals (nuage.core.sse)
MASTER_SEALED = ("AES256", "aws:kms", "aws:kms:dsse")


class SQLiteMetadataStore:
    #: the writer thread (SharedSQLiteMetadataStore's also takes turns with the writers of other processes)
    writer_class: type[Writer] = Writer

    def __init__(self, path: Path, *, fsync: bool = True, replication_router: Router | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        boot = connect(path, fsync=fsync)
        try:
            self.schema_version = migrate(boot)
            # Whether any quota was ever set: until then a PUT has no quota to look up (writer thread only)
            self._quotas_exist = boot.execute("SELECT EXISTS (SELECT 1 FROM quotas)").fetchone()[0] == 1
        finally:
            boot.close()
        # Bucket records are read on every request and change rarely: cached in memory, with a
        # generation bumped by every bucket change (inside its transaction and again after COMMIT)
        # so that a read racing a change never caches what the change replaced.
        self._bucket_cache: dict[str, BucketRecord | None] = {}
        self._config_cache: dict[tuple[str, str], str | None] = {}
        self._bucket_gen = 0
        self._buckets_dirty = False
        # held while a reader stores what it read (after checking the generation) and while the writer
        # bumps it: without it a read that began before a COMMIT could land in the cache just after
        # the COMMIT's clear, and keep answering "no such bucket" for a bucket that now exists
        self._cache_lock = threading.Lock()
        # The latest version of recently read keys (GET and HEAD read it on every request), kept while
        # nothing commits: every COMMIT empties it, and while one is under way reads go to SQLite and
        # keep nothing, so no read ever sees an older version than a read before it. Records handed
        # out are shared: callers never change them. Only this process writes the database.
        self._objects: dict[tuple[str, str], ObjectRecord | None] = {}
        self._objects_gen = 0
        self._chunk_crcs: dict[str, bytes] = {}   # blob id -> its chunk CRCs (small blobs; never stale)
        self._committing = False
        self._writer = self.writer_class(path, fsync=fsync, on_commit=self._after_commit,
                                         commit_window=self._commit_window)
        self._readers = Readers(path, fsync=fsync)
        # every process of the database learns of identity changes through the beacon (cluster_state.py)
        self._iam_beacon = IAMBeacon(path.parent / "locks" / "iam.version")
        self.iam = SQLiteIAMStore(self._readers.get, self._iam_write)
        self.replication = SQLiteReplicationStore(self._readers.get, self._writer.run, self._config_in_tx,
                                                  replication_router)
        self.jobs = SQLiteJobStore(self._readers.get, self._writer.run_sync)   # SQL jobs (nuage.query)
        self.console_state = console_state(self._readers.get, self._writer.run)   # sign-outs, throttle
        self.invoices = InvoiceStore(lambda fn: fn(self._readers.get()), self._writer.run_sync, "?")   # billing
        self.budgets = BudgetStore(lambda fn: fn(self._readers.get()), self._writer.run_sync, "?")   # budgets

    @property
    def writer(self) -> Writer:
        """The writer thread (its queue and group commits, for the metrics)."""
        return self._writer

    def close(self) -> None:
        self._writer.close()
        self._readers.close()
        self._iam_beacon.close()

    @property
    def _r(self) -> sqlite3.Connection:
        return self._readers.get()

    def iam_version(self) -> int:
        """A number that changes with every change of keys, users, groups, policies or accounts."""
        return self._iam_beacon.version()

    def _iam_write(self, fn: Callable[[sqlite3.Connection], None]) -> None:
        try:
            self._writer.run_sync(fn)
        finally:
            self._iam_beacon.changed()

    # -- credentials --------------------------------------------------------------------------------
    def get_credential(self, access_key: str) -> tuple[str, str, str] | None:
        """(secret, owner id, display name) of an access key."""
        row = self._r.execute("SELECT secret, owner_id, display_name FROM credentials WHERE access_key=?",
                              (access_key,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def put_credential(self, access_key: str, secret: str, owner_id: str, display_name: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT OR REPLACE INTO credentials VALUES (?,?,?,?,?)",
                         (access_key, secret, owner_id, display_name, time.time()))
        self._iam_write(tx)

    # -- server-side encryption ---------------------------------------------------------------------
    def master_sealed_extra(self) -> dict[str, str] | None:
        """The ``extra`` map of one object version or multipart upload whose data key the server's master key
        sealed (SSE-S3, SSE-KMS), or None when there is none: whether a master key is needed to read them."""
        for table in ("objects", "uploads"):
            row = self._r.execute(
                f"SELECT meta FROM {table} WHERE meta LIKE '%\"sse\":%' AND json_extract(meta, '$.x.sse') "
                f"IN ({','.join('?' * len(MASTER_SEALED))}) LIMIT 1", MASTER_SEALED).fetchone()
            if row is not None:
                return dict(json.loads(row[0])["x"])
        return None

    # -- buckets ------------------------------------------------------------------------------------
    def _buckets_changed(self) -> None:
        """Called inside a transaction that changes a bucket row (writer thread)."""
        self._buckets_dirty = True
        with self._cache_lock:
            self._bucket_gen += 1
            self._bucket_cache.clear()
            self._config_cache.clear()

    def _after_commit(self) -> None:
        self.replication.after_commit()
        if self._buckets_dirty:
            self._buckets_dirty = False
            with self._cache_lock:
                self._bucket_gen += 1
                self._bucket_cache.clear()
                self._config_cache.clear()

    @contextlib.contextmanager
    def _commit_window(self) -> Iterator[None]:
        """Entered by the writer around each COMMIT (see ``_objects``)."""
        with self._cache_lock:
            self._committing = True
        try:
            yield
        finally:
            with self._cache_lock:
                self._objects_gen += 1
                self._objects.clear()
                self._committing = False

    async def get_bucket(self, name: str) -> BucketRecord | None:
        if name in self._bucket_cache:
            return self._bucket_cache.get(name)   # records are frozen: shared, never copied
        gen = self._bucket_gen
        row = self._r.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE name=?", (name,)).fetchone()
        rec = _bucket(row) if row else None
        with self._cache_lock:
            if gen == self._bucket_gen and len(self._bucket_cache) < 100_000:
                self._bucket_cache[name] = rec
        return rec

    async def list_buckets(self, owner: str | None = None) -> list[BucketRecord]:
        if owner is None:
            rows = self._r.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets ORDER BY name")
        else:
            rows = self._r.execute(f"SELECT {BUCKET_COLUMNS} FROM buckets WHERE owner=? ORDER BY name", (owner,))
        return [_bucket(r) for r in rows]

    async def create_bucket(self, rec: BucketRecord, configs: dict[str, str] | None = None) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT owner FROM buckets WHERE name=?", (rec.name,)).fetchone()
            if row is not None:
                raise BucketAlreadyOwnedByYou() if row[0] == rec.owner else BucketAlreadyExists()
            self._buckets_changed()
            conn.execute(f"INSERT INTO buckets ({BUCKET_COLUMNS}) VALUES (?,?,?,?,?,?)",
                         (rec.name, rec.owner, rec.region, rec.created, rec.versioning, int(rec.object_lock)))
            for kind, value in (configs or {}).items():
                conn.execute("INSERT INTO bucket_configs VALUES (?,?,?)", (rec.name, kind, value))
        await self._writer.run(tx)

    async def delete_bucket(self, name: str) -> list[str]:
        """Delete an empty bucket; its unfinished multipart uploads go with it (as on AWS).
        Returns the blobs released."""
        def tx(conn: sqlite3.Connection) -> list[str]:
            if conn.execute("SELECT 1 FROM buckets WHERE name=?", (name,)).fetchone() is None:
                raise BucketNotFound()
            if conn.execute("SELECT 1 FROM objects WHERE bucket=? LIMIT 1", (name,)).fetchone():
                raise BucketNotEmpty()
            released: list[str] = []
            for (upload_id,) in conn.execute("SELECT upload_id FROM uploads WHERE bucket=?", (name,)).fetchall():
                released += multipart.abort_upload(conn, upload_id)
            conn.execute("DELETE FROM bucket_configs WHERE bucket=?", (name,))
            conn.execute("DELETE FROM bucket_usage WHERE bucket=?", (name,))
            conn.execute("DELETE FROM quotas WHERE kind='bucket' AND target=?", (name,))
            self._buckets_changed()
            conn.execute("DELETE FROM buckets WHERE name=?", (name,))
            return released
        return await self._writer.run(tx)

    async def set_versioning(self, name: str, state: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            self._buckets_changed()
            if conn.execute("UPDATE buckets SET versioning=? WHERE name=?", (state, name)).rowcount == 0:
                raise BucketNotFound()
        await self._writer.run(tx)

    async def set_object_lock(self, name: str, enabled: bool) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            self._buckets_changed()
            conn.execute("UPDATE buckets SET object_lock=? WHERE name=?", (int(enabled), name))
        await self._writer.run(tx)

    async def get_bucket_config(self, name: str, kind: str) -> str | None:
        cached = self._config_cache.get((name, kind), _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        gen = self._bucket_gen
        row = self._r.execute("SELECT value FROM bucket_configs WHERE bucket=? AND name=?", (name, kind)).fetchone()
        value = str(row[0]) if row else None
        with self._cache_lock:
            if gen == self._bucket_gen and len(self._config_cache) < 100_000:
                self._config_cache[(name, kind)] = value
        return value

    def _config_in_tx(self, conn: sqlite3.Connection, name: str, kind: str) -> str | None:
        """A bucket config read inside a write transaction (writer thread), through the same cache."""
        cached = self._config_cache.get((name, kind), _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        row = conn.execute("SELECT value FROM bucket_configs WHERE bucket=? AND name=?", (name, kind)).fetchone()
        value = str(row[0]) if row else None
        if not self._buckets_dirty and len(self._config_cache) < 100_000:
            self._config_cache[(name, kind)] = value
        return value

    async def put_bucket_config(self, name: str, kind: str, value: str | None) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            self._buckets_changed()
            if value is None:
                conn.execute("DELETE FROM bucket_configs WHERE bucket=? AND name=?", (name, kind))
            else:
                conn.execute("INSERT OR REPLACE INTO bucket_configs VALUES (?,?,?)", (name, kind, value))
        await self._writer.run(tx)

    # -- objects ------------------------------------------------------------------------------------
    async def get_object(self, bucket: str, key: str, version_id: str | None = None) -> ObjectRecord | None:
        if version_id is None:
            return self._latest(bucket, key)
        return objects.by_version(self._r, bucket, key, version_id)

    def _latest(self, bucket: str, key: str) -> ObjectRecord | None:
        address = (bucket, key)
        with self._cache_lock:
            cached = _MISSING if self._committing else self._objects.get(address, _MISSING)
            gen = self._objects_gen
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        rec = objects.latest(self._r, bucket, key)
        if rec is not None and rec.size > MAX_CACHED_INLINE and any(is_inline(s.blob) for s in rec.segments):
            return rec   # a large object kept in its row (NUAGE_INLINE_MAX raised): not worth the memory
        with self._cache_lock:
            if gen == self._objects_gen and not self._committing:
                if len(self._objects) >= MAX_CACHED_OBJECTS:
                    self._objects.clear()
                self._objects[address] = rec
        return rec

    async def put_object(self, rec: ObjectRecord, versioning: str, cond: WriteCondition | None = None,
                         expect_seq: int | bool | None = False) -> tuple[ObjectRecord, list[str]]:
        """Commit a new version. ``expect_seq`` (when not False) guards against a concurrent change."""
        def tx(conn: sqlite3.Connection) -> tuple[ObjectRecord, list[str]]:
            if expect_seq is not False:
                objects.race_guard(conn, rec.bucket, rec.key, expect_seq)
            stored, released = objects.put_version(conn, rec, versioning, cond, enforce_quota=self._quotas_exist)
            self.replication.journal(conn, stored, OP_PUT)
            return stored, released
        return await self._writer.run(tx)

    async def delete_object(self, bucket: str, key: str, version_id: str | None, versioning: str,
                            owner: str, guard: Callable[[ObjectRecord], None] | None = None,
                            ) -> tuple[ObjectRecord | None, list[str]]:
        now = time.time()

        def tx(conn: sqlite3.Connection) -> tuple[ObjectRecord | None, list[str]]:
            removed, released = objects.delete(conn, bucket, key, version_id, versioning, owner, now, guard)
            if version_id is None and removed is not None and removed.delete_marker:
                self.replication.journal(conn, removed, OP_PUT)   # a new delete marker
            return removed, released
        return await self._writer.run(tx)

    async def set_object_tags(self, bucket: str, key: str, version_id: str | None,
                              tags: dict[str, str]) -> ObjectRecord:
        def tx(conn: sqlite3.Connection) -> ObjectRecord:
            rec = objects.set_tags(conn, bucket, key, version_id, tags)
            self.replication.journal(conn, rec, OP_TAGS)
            return rec
        return await self._writer.run(tx)

    async def update_object_extra(self, bucket: str, key: str, version_id: str | None,
                                  changes: dict[str, str | None],
                                  guard: Callable[[ObjectRecord], None] | None = None) -> ObjectRecord:
        return await self._writer.run(
            lambda conn: objects.update_extra(conn, bucket, key, version_id, changes, guard))

    async def list_objects(self, bucket: str, prefix: str, delimiter: str, marker: str | None,
                     max_keys: int) -> ListPage:
        return listing.list_current(self._r, bucket, prefix, delimiter, marker, max_keys)

    async def list_versions(self, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                      version_marker: str | None, max_keys: int) -> VersionPage:
        return listing.list_versions(self._r, bucket, prefix, delimiter, key_marker, version_marker, max_keys)

    # -- multipart ----------------------------------------------------------------------------------
    async def create_upload(self, rec: UploadRecord) -> None:
        await self._writer.run(lambda conn: multipart.create_upload(conn, rec))

    async def get_upload(self, upload_id: str) -> UploadRecord | None:
        return multipart.get_upload(self._r, upload_id)

    async def put_part(self, part: PartRecord) -> list[str]:
        return await self._writer.run(lambda conn: multipart.put_part(conn, part))

    async def list_parts(self, upload_id: str, after: int = 0, limit: int = 10000) -> list[PartRecord]:
        return multipart.list_parts(self._r, upload_id, after, limit)

    async def abort_upload(self, upload_id: str) -> list[str]:
        return await self._writer.run(lambda conn: multipart.abort_upload(conn, upload_id))

    async def complete_upload(self, upload_id: str, rec: ObjectRecord, versioning: str,
                              cond: WriteCondition | None, parts: list[PartRecord]) -> tuple[ObjectRecord, list[str]]:
        def tx(conn: sqlite3.Connection) -> tuple[ObjectRecord, list[str]]:
            stored, released = multipart.complete_upload(conn, upload_id, rec, versioning, cond, parts)
            self.replication.journal(conn, stored, OP_PUT)
            return stored, released
        return await self._writer.run(tx)

    async def list_uploads(self, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                     upload_marker: str | None, max_uploads: int) -> UploadPage:
        return listing.list_uploads(self._r, bucket, prefix, delimiter, key_marker, upload_marker, max_uploads)

    # -- usage and quotas ---------------------------------------------------------------------------
    async def set_quota(self, kind: str, target: str, max_bytes: int | None, max_objects: int | None) -> None:
        """Set (or, with both limits None, remove) the quota of a bucket or an account."""
        def tx(conn: sqlite3.Connection) -> None:
            if max_bytes is None and max_objects is None:
                conn.execute("DELETE FROM quotas WHERE kind=? AND target=?", (kind, target))
            else:
                conn.execute("INSERT OR REPLACE INTO quotas (kind, target, max_bytes, max_objects) VALUES (?,?,?,?)",
                             (kind, target, max_bytes, max_objects))
                self._quotas_exist = True
        await self._writer.run(tx)

    async def get_quota(self, kind: str, target: str) -> tuple[int | None, int | None] | None:
        row = self._r.execute("SELECT max_bytes, max_objects FROM quotas WHERE kind=? AND target=?",
                              (kind, target)).fetchone()
        return (row[0], row[1]) if row else None

    async def bucket_usage(self, bucket: str) -> tuple[int, int]:
        """(bytes, objects) stored in a bucket, every version counted."""
        row = self._r.execute("SELECT bytes, objects FROM bucket_usage WHERE bucket=?", (bucket,)).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    # -- the console (usage samples, console passwords) ------------------------------------------------
    async def bucket_usage_all(self) -> list[tuple[str, int, int]]:
        return console.bucket_usage_all(self._r)

    async def add_usage_samples(self, rows: Sequence[tuple[str, int, int, int, int]], keep_after: int) -> None:
        await self._writer.run(lambda conn: console.add_usage_samples(conn, rows, keep_after))

    async def usage_samples(self, buckets: Sequence[str], since: int) -> list[tuple[str, int, int, int, int]]:
        return console.usage_samples(self._r, buckets, since)

    def get_console_password(self, account_id: str, user_name: str) -> tuple[str, float] | None:
        return console.get_console_password(self._r, account_id, user_name)

    def set_console_password(self, account_id: str, user_name: str, hashed: str | None) -> None:
        self._writer.run_sync(lambda conn: console.set_console_password(conn, account_id, user_name, hashed))

    # -- metering (migration 0013; statements in nuage.storage.meta.metering) ----------------------------
    async def add_meter_counts(self, rows: Sequence[MeterRow]) -> None:
        """Add counts to their hours' rows, in one transaction."""
        if rows:
            await self._writer.run(lambda conn: conn.executemany(metering.ADD, rows).rowcount)

    async def add_meter_samples(self, rows: Sequence[MeterRow], hours: Sequence[int]) -> int:
        """Write samples (storage_byte_hours) of hours that have none yet, and mark ``hours`` as sampled, in one
        transaction; how many rows were new."""
        def tx(conn: sqlite3.Connection) -> int:
            conn.executemany(metering.SAMPLED, [(h,) for h in hours])
            return sum(conn.execute(metering.SAMPLE, row).rowcount for row in rows)
        return await self._writer.run(tx)

    async def meter_totals(self, account_id: str | None, start: int, end: int) -> list[MeterTotal]:
        """Each metric summed over the hours in [start, end) (epoch seconds), per account (``account_id``'s
        only, unless None), bucket and region."""
        return metering.total_rows(self._r.execute(*metering.totals(account_id, start, end)).fetchall())

    async def meter_hours(self, account_id: str | None, start: int, end: int) -> list[MeterRow]:
        """The metered rows of the hours in [start, end), hour by hour."""
        return metering.hour_rows(self._r.execute(*metering.hours(account_id, start, end)).fetchall())

    async def last_storage_sample(self) -> int | None:
        """The last hour that has storage_byte_hours, if any."""
        row = self._r.execute(*metering.LAST_SAMPLE).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def storage_bytes(self) -> list[BucketBytes]:
        """Every bucket's bytes now: all its object versions and its unfinished uploads' parts."""
        return metering.storage_rows(self._r.execute(metering.STORAGE).fetchall())

    # -- damaged blobs (reads and scrubs) -----------------------------------------------------------------
    async def quarantine(self, item: ScrubItem, source: str, detail: str) -> bool:
        """Record a damaged blob and flag its object version; True when it was not recorded before."""
        now = time.time()
        return await self._writer.run(lambda conn: integrity.quarantine(
            conn, item.seq, item.bucket, item.key, item.version_id, evidence_name(item), source, detail, now))

    def quarantine_sync(self, item: ScrubItem, source: str, detail: str) -> bool:
        """:meth:`quarantine` for callers outside an event loop (a scrub)."""
        now = time.time()
        return self._writer.run_sync(lambda conn: integrity.quarantine(
            conn, item.seq, item.bucket, item.key, item.version_id, evidence_name(item), source, detail, now))

    def blob_chunk_crcs(self, blob_id: str, first: int, count: int) -> bytes | None:
        """The CRCs of ``count`` chunks of a blob from chunk ``first`` (None: not kept for this blob).
        Those of blobs up to MAX_CACHED_CRCS chunks are kept in memory: a blob's bytes never change, so
        what is kept never goes stale (an id is never reused)."""
        crcs = self._chunk_crcs.get(blob_id)
        if crcs is None:
            crcs, part = objects.chunk_crcs(self._r, blob_id, first, count, MAX_CACHED_CRCS)
            if crcs is None:
                return part
            if len(self._chunk_crcs) >= MAX_CACHED_BLOBS:
                self._chunk_crcs.clear()
            self._chunk_crcs[blob_id] = crcs
        return crcs[4 * first:4 * (first + count)] if len(crcs) >= 4 * (first + count) else None

    def scrub_objects(self, after_seq: int, limit: int) -> tuple[list[ScrubItem], int]:
        return integrity.object_items(self._r, after_seq, limit)

    def scrub_parts(self) -> list[ScrubItem]:
        return integrity.part_items(self._r)

    def quarantined(self) -> list[tuple[str, str, str, str, float, str, str]]:
        """(blob, bucket, key, version id, found, source, detail) of every blob found damaged."""
        return integrity.quarantine_rows(self._r)

    # -- sweeper support ----------------------------------------------------------------------------
    def blob_referenced(self, blob_id: str) -> bool:
        return self._r.execute("SELECT 1 FROM blobs WHERE id=?", (blob_id,)).fetchone() is not None

    async def expired_uploads(self, older_than: float) -> list[str]:
        return [r[0] for r in self._r.execute("SELECT upload_id FROM uploads WHERE initiated<?", (older_than,))]
