"""SQLite part of replication: outbox rows written inside the object write's own transaction,
their removal once shipped, replica versions applied with the source's version id, and counts
for operators."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nuage.storage.meta.extra import COMPLETED, FAILED, PENDING, REPLICA, replication_entries
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
from nuage.storage.meta.sqlite import objects
from nuage.storage.meta.sqlite.codec import OBJECT_COLUMNS, object_from_row, object_params
from nuage.types import NULL_VERSION

T = TypeVar("T")
ConfigReader = Callable[[sqlite3.Connection, str, str], str | None]
INSERT_ROW = ("INSERT INTO repl_outbox (bucket, key, version_id, op, rule_id, dest_bucket, created) "
              "VALUES (?,?,?,?,?,?,?)")



def set_status(conn: sqlite3.Connection, seq: int, status: str) -> None:
    """Set the replication status entry of a version's ``extra`` map (by its row)."""
    row = conn.execute("SELECT meta FROM objects WHERE seq=?", (seq,)).fetchone()
    if row is None:
        return
    meta = json.loads(row[0])
    meta.setdefault("x", {}).update(replication_entries(status))
    conn.execute("UPDATE objects SET meta=? WHERE seq=?", (json.dumps(meta, separators=(",", ":")), seq))


class SQLiteReplicationStore:
    def __init__(self, read: Callable[[], sqlite3.Connection],
                 write: Callable[[Callable[[sqlite3.Connection], Any]], Awaitable[Any]],
                 config: ConfigReader, router: Router | None = None) -> None:
        """``router`` picks the outbox rows of a change; without one (no region registry) no change is
        journalled."""
        self._read = read
        self._write = write
        self._config = config
        self._router = router
        self._notify: Callable[[], None] | None = None
        self._queued = False

    # -- inside the write transactions of the store (writer thread) -------------------------------
    def journal(self, conn: sqlite3.Connection, rec: ObjectRecord, op: str) -> None:
        """Add the outbox rows a committed change needs. Free when the bucket has no replication
        configuration: one lookup in the store's exact config cache."""
        router = self._router
        if router is None:
            return
        config = self._config(conn, rec.bucket, REPLICATION_CONFIG)
        if config is None or rec.version_id == NULL_VERSION or rec.facts.replication == REPLICA:
            return
        targets = router(config, rec, op)
        if not targets:
            return
        now = time.time()
        conn.executemany(INSERT_ROW, [(rec.bucket, rec.key, rec.version_id, op, rule, dest, now)
                                      for rule, dest in targets])
        if op == OP_PUT and not rec.delete_marker:
            set_status(conn, rec.seq, PENDING)
            rec.extra.update(replication_entries(PENDING))
        self._queued = True

    def after_commit(self) -> None:
        if self._queued:
            self._queued = False
            if self._notify is not None:
                self._notify()

    # -- the shipping worker --------------------------------------------------------------------
    def set_notify(self, notify: Callable[[], None] | None) -> None:
        """``notify`` is called (on the writer thread) after a commit that added outbox rows."""
        self._notify = notify

    def pending(self, limit: int) -> list[OutboxRow]:
        rows = self._read().execute(f"SELECT {OUTBOX_COLUMNS} FROM repl_outbox ORDER BY id LIMIT ?", (limit,))
        return [outbox_row(r) for r in rows]

    async def done(self, row: OutboxRow) -> None:
        await self._write(lambda conn: self._finish(conn, row, None))

    async def failed(self, row: OutboxRow, error: str) -> None:
        await self._write(lambda conn: self._finish(conn, row, error))

    def _finish(self, conn: sqlite3.Connection, row: OutboxRow, error: str | None) -> None:
        if conn.execute("DELETE FROM repl_outbox WHERE id=?", (row.id,)).rowcount == 0:
            return
        rec = objects.by_version(conn, row.bucket, row.key, row.version_id)
        if error is not None:
            conn.execute("INSERT INTO repl_failures (bucket, key, version_id, rule_id, dest_bucket, error, at) "
                         "VALUES (?,?,?,?,?,?,?)",
                         (row.bucket, row.key, row.version_id, row.rule_id, row.dest_bucket, error, time.time()))
            if rec is not None and not rec.delete_marker:
                set_status(conn, rec.seq, FAILED)
            return
        if rec is None or rec.delete_marker or rec.facts.replication != PENDING:
            return
        left = conn.execute("SELECT 1 FROM repl_outbox WHERE bucket=? AND key=? AND version_id=? AND op=? LIMIT 1",
                            (row.bucket, row.key, row.version_id, OP_PUT)).fetchone()
        if left is None:
            set_status(conn, rec.seq, COMPLETED)

    async def attempt_failed(self, row: OutboxRow, error: str) -> None:
        await self._write(lambda conn: conn.execute(
            "UPDATE repl_outbox SET attempts=attempts+1, last_error=? WHERE id=?", (error[:500], row.id)))

    # -- operators ------------------------------------------------------------------------------
    def backlog(self) -> list[Backlog]:
        rows = self._read().execute(
            "SELECT bucket, rule_id, dest_bucket, COUNT(*), MIN(created), MAX(attempts), "
            "(SELECT last_error FROM repl_outbox i WHERE i.bucket=o.bucket AND i.rule_id=o.rule_id "
            " AND i.last_error IS NOT NULL ORDER BY i.id DESC LIMIT 1) "
            "FROM repl_outbox o GROUP BY bucket, rule_id, dest_bucket ORDER BY bucket, rule_id")
        return [Backlog(str(r[0]), str(r[1]), str(r[2]), int(r[3]), r[4], int(r[5]), r[6]) for r in rows]

    def failures(self) -> list[FailureCount]:
        rows = self._read().execute(
            "SELECT bucket, rule_id, dest_bucket, COUNT(*), MAX(at), "
            "(SELECT error FROM repl_failures i WHERE i.bucket=f.bucket AND i.rule_id=f.rule_id "
            " ORDER BY i.id DESC LIMIT 1) FROM repl_failures f GROUP BY bucket, rule_id, dest_bucket "
            "ORDER BY bucket, rule_id")
        return [FailureCount(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[5]), float(r[4])) for r in rows]

    async def enqueue_existing(self, bucket: str) -> int:
        """Journal every stored version of a bucket (ExistingObjectReplication), oldest first."""
        def tx(conn: sqlite3.Connection) -> int:
            count = 0
            for row in conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? ORDER BY seq",
                                    (bucket,)).fetchall():
                rec = object_from_row(row)
                if rec.facts.replication in (None, FAILED):
                    self.journal(conn, rec, OP_PUT)
                    count += 1
            return count
        return int(await self._write(tx))

    # -- the destination --------------------------------------------------------------------------
    async def apply_replica(self, rec: ObjectRecord) -> tuple[bool, list[str]]:
        """Store a replica with its source's version id as the key's latest version. Idempotent:
        False (and nothing changed) when that version is there already."""
        def tx(conn: sqlite3.Connection) -> tuple[bool, list[str]]:
            if objects.by_version(conn, rec.bucket, rec.key, rec.version_id) is not None:
                return False, []
            current = objects.latest(conn, rec.bucket, rec.key)
            if current is not None:
                conn.execute("UPDATE objects SET is_latest=0 WHERE seq=?", (current.seq,))
            rec.is_latest = True
            cur = conn.execute(objects.INSERT_OBJECT, object_params(rec))
            rec.seq = int(cur.lastrowid or 0)
            objects.adjust_usage(conn, rec.bucket, rec.size, 1)
            objects.register_blobs(conn, [s.blob for s in rec.segments])
            objects.register_chunk_crcs(conn, [(s.blob, s.chunk_crcs) for s in rec.segments])
            return True, []
        result: tuple[bool, list[str]] = await self._write(tx)
        return result

    async def replica_tags(self, bucket: str, key: str, version_id: str, tags: dict[str, str]) -> bool:
        def tx(conn: sqlite3.Connection) -> bool:
            return conn.execute("UPDATE objects SET tags=? WHERE bucket=? AND key=? AND version_id=? "
                                "AND delete_marker=0", (json.dumps(tags), bucket, key, version_id)).rowcount > 0
        return bool(await self._write(tx))
