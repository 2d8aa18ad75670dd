"""PostgreSQL part of replication (as sqlite/replication.py): outbox rows written inside the object
write's own transaction, their removal once shipped, replica versions applied with the source's version
id, and counts for operators."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from nuage.storage.meta.extra import COMPLETED, FAILED, PENDING, REPLICA, replication_entries
from nuage.storage.meta.postgres import objects
from nuage.storage.meta.postgres.codec import OBJECT_COLUMNS, object_from_row
from nuage.storage.meta.postgres.db import AConn, Database
from nuage.storage.meta.records import ObjectRecord
from nuage.storage.meta.replication import (
    OP_PUT,
    OUTBOX_COLUMNS,
    REPLICATION_CONFIG,
    Backlog,
    FailureCount,
    OutboxRow,
    Router,
    outbox_row,
)
from nuage.types import NULL_VERSION

INSERT_ROW = ("INSERT INTO repl_outbox (bucket, key, version_id, op, rule_id, dest_bucket, created) "
              "VALUES (%s,%s,%s,%s,%s,%s,%s)")



async def set_status(conn: AConn, seq: int, status: str) -> None:
    """Set the replication status entry of a version's ``extra`` map (by its row)."""
    cur = await conn.execute("SELECT meta FROM objects WHERE seq=%s", (seq,))
    row = await cur.fetchone()
    if row is None:
        return
    meta = json.loads(row[0])
    meta.setdefault("x", {}).update(replication_entries(status))
    await conn.execute("UPDATE objects SET meta=%s WHERE seq=%s", (json.dumps(meta, separators=(",", ":")), seq))


class PostgresReplicationStore:
    def __init__(self, db: Database, router: Router | None = None) -> None:
        self._db = db
        self._router = router
        self._notify: Callable[[], None] | None = None

    # -- inside the write transactions of the store ------------------------------------------------
    async def journal(self, conn: AConn, rec: ObjectRecord, op: str) -> bool:
        """Add the outbox rows a change needs; True when it added some (call ``after_commit`` then)."""
        router = self._router
        if router is None or rec.version_id == NULL_VERSION or rec.facts.replication == REPLICA:
            return False
        cur = await conn.execute("SELECT value FROM bucket_configs WHERE bucket=%s AND name=%s",
                                 (rec.bucket, REPLICATION_CONFIG))
        row = await cur.fetchone()
        if row is None:
            return False
        targets = router(str(row[0]), rec, op)
        if not targets:
            return False
        now = time.time()
        async with conn.cursor() as c:
            await c.executemany(INSERT_ROW, [(rec.bucket, rec.key, rec.version_id, op, rule, dest, now)
                                             for rule, dest in targets])
        if op == OP_PUT and not rec.delete_marker:
            await set_status(conn, rec.seq, PENDING)
            rec.extra.update(replication_entries(PENDING))
        return True

    def after_commit(self, queued: bool) -> None:
        if queued and self._notify is not None:
            self._notify()

    # -- the shipping worker --------------------------------------------------------------------
    def set_notify(self, notify: Callable[[], None] | None) -> None:
        """``notify`` is called after a commit of this gateway that added outbox rows."""
        self._notify = notify

    def pending(self, limit: int) -> list[OutboxRow]:
        rows = self._db.read_sync(lambda conn: conn.execute(
            f"SELECT {OUTBOX_COLUMNS} FROM repl_outbox ORDER BY id LIMIT %s", (limit,)).fetchall())
        return [outbox_row(r) for r in rows]

    async def done(self, row: OutboxRow) -> None:
        await self._db.write(lambda conn: self._finish(conn, row, None))

    async def failed(self, row: OutboxRow, error: str) -> None:
        await self._db.write(lambda conn: self._finish(conn, row, error))

    async def _finish(self, conn: AConn, row: OutboxRow, error: str | None) -> None:
        await objects.lock_key(conn, row.bucket, row.key)
        if (await conn.execute("DELETE FROM repl_outbox WHERE id=%s", (row.id,))).rowcount == 0:
            return
        rec = await objects.by_version(conn, row.bucket, row.key, row.version_id)
        if error is not None:
            await conn.execute(
                "INSERT INTO repl_failures (bucket, key, version_id, rule_id, dest_bucket, error, at) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s)",
                (row.bucket, row.key, row.version_id, row.rule_id, row.dest_bucket, error, time.time()))
            if rec is not None and not rec.delete_marker:
                await set_status(conn, rec.seq, FAILED)
            return
        if rec is None or rec.delete_marker or rec.facts.replication != PENDING:
            return
        cur = await conn.execute("SELECT 1 FROM repl_outbox WHERE bucket=%s AND key=%s AND version_id=%s AND op=%s "
                                 "LIMIT 1", (row.bucket, row.key, row.version_id, OP_PUT))
        if await cur.fetchone() is None:
            await set_status(conn, rec.seq, COMPLETED)

    async def attempt_failed(self, row: OutboxRow, error: str) -> None:
        async def tx(conn: AConn) -> None:
            await conn.execute("UPDATE repl_outbox SET attempts=attempts+1, last_error=%s WHERE id=%s",
                               (error[:500], row.id))
        await self._db.write(tx)

    # -- operators ------------------------------------------------------------------------------
    def backlog(self) -> list[Backlog]:
        rows = self._db.read_sync(lambda conn: conn.execute(
            "SELECT bucket, rule_id, dest_bucket, COUNT(*), MIN(created), MAX(attempts), "
            "(SELECT last_error FROM repl_outbox i WHERE i.bucket=o.bucket AND i.rule_id=o.rule_id "
            " AND i.last_error IS NOT NULL ORDER BY i.id DESC LIMIT 1) "
            "FROM repl_outbox o GROUP BY bucket, rule_id, dest_bucket ORDER BY bucket, rule_id").fetchall())
        return [Backlog(str(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4], int(r[5]), r[6]) for r in rows]

    def failures(self) -> list[FailureCount]:
        rows = self._db.read_sync(lambda conn: conn.execute(
            "SELECT bucket, rule_id, dest_bucket, COUNT(*), MAX(at), "
            "(SELECT error FROM repl_failures i WHERE i.bucket=f.bucket AND i.rule_id=f.rule_id "
            " ORDER BY i.id DESC LIMIT 1) FROM repl_failures f GROUP BY bucket, rule_id, dest_bucket "
            "ORDER BY bucket, rule_id").fetchall())
        return [FailureCount(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[5]), float(r[4])) for r in rows]

    async def enqueue_existing(self, bucket: str) -> int:
        """Journal every stored version of a bucket (ExistingObjectReplication), oldest first."""
        async def tx(conn: AConn) -> tuple[int, bool]:
            count, queued = 0, False
            cur = await conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s ORDER BY seq", (bucket,))
            for row in await cur.fetchall():
                rec = object_from_row(row)
                if rec.facts.replication in (None, FAILED):
                    queued = await self.journal(conn, rec, OP_PUT) or queued
                    count += 1
            return count, queued
        count, queued = await self._db.write(tx)
        self.after_commit(queued)
        return count

    # -- the destination --------------------------------------------------------------------------
    async def apply_replica(self, rec: ObjectRecord) -> tuple[bool, list[str]]:
        """Store a replica with its source's version id as the key's latest version. Idempotent."""
        async def tx(conn: AConn) -> tuple[bool, list[str]]:
            await objects.lock_key(conn, rec.bucket, rec.key)
            if await objects.by_version(conn, rec.bucket, rec.key, rec.version_id) is not None:
                return False, []
            current = await objects.latest(conn, rec.bucket, rec.key)
            if current is not None:
                await conn.execute("UPDATE objects SET is_latest=0 WHERE seq=%s", (current.seq,))
            rec.is_latest = True
            await objects.insert(conn, rec)
            await objects.adjust_usage(conn, rec.bucket, rec.size, 1)
            await objects.register_blobs(conn, [s.blob for s in rec.segments])
            await objects.register_chunk_crcs(conn, [(s.blob, s.chunk_crcs) for s in rec.segments])
            return True, []
        return await self._db.write(tx)

    async def replica_tags(self, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> bool:
        async def tx(conn: AConn) -> bool:
            await objects.lock_key(conn, bucket, key)
            cur = await conn.execute("UPDATE objects SET tags=%s WHERE bucket=%s AND key=%s AND version_id=%s "
                                     "AND delete_marker=0", (json.dumps(tags), bucket, key, version_id))
            return cur.rowcount > 0
        return await self._db.write(tx)
