"""The SQLite store of a gateway whose database other processes write too (the workers of
``nuage serve --workers N``).

SQLite itself makes that safe: WAL, and the busy timeout that makes each writer wait for the others'
transactions (every process has its own writer thread and group commit; the writers take turns through a
lock file, see TurnTakingWriter). What the single-process store
keeps in memory is another matter: the bucket records and configurations and the latest version of
recently read keys are dropped only by this process's own commits. Here every cached read first asks
SQLite whether anything was committed since this connection last looked (``PRAGMA data_version``, read
from shared memory, no I/O) and drops them all when so; quotas are always checked, as a quota set through
another process is not seen in memory.

Background work (the sweeper, the lifecycle worker, ...) runs in one of the processes at a time: the
holder of a lock file in the data folder (``once_per_cluster``, as the PostgreSQL store's leases).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from nuage.storage.filelease import run_once_per_machine
from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.storage.meta.replication import Router
from nuage.storage.meta.sqlite.db import Item, Writer
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

__all__ = ["SharedSQLiteMetadataStore"]


class TurnTakingWriter(Writer):
    """The writer thread of one process among several: each batch is written holding an exclusive
    ``flock`` on a lock file beside the database. SQLite alone would make the others poll for its lock with
    growing sleeps (up to 100 ms), in which another process often takes it again first; the kernel hands
    the flock over at once, to each waiter in turn. A waiting writer's batch grows meanwhile (group
    commit), so taking turns costs few commits."""

    def __init__(self, path: Path, *, fsync: bool, on_commit: Callable[[], None] | None = None,
                 commit_window: Callable[[], contextlib.AbstractContextManager[None]] | None = None) -> None:
        lock = path.parent / "locks" / "writer.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        self._turn = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        super().__init__(path, fsync=fsync, on_commit=on_commit, commit_window=commit_window)

    def _commit(self, batch: list[Item]) -> None:
        fcntl.flock(self._turn, fcntl.LOCK_EX)
        try:
            super()._commit(batch)
        finally:
            fcntl.flock(self._turn, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        os.close(self._turn)


class SharedSQLiteMetadataStore(SQLiteMetadataStore):
    writer_class = TurnTakingWriter

    def __init__(self, path: Path, *, fsync: bool = True, replication_router: Router | None = None) -> None:
        # id of a connection -> its data_version when it last looked (a connection is one thread's)
        self._versions: dict[int, int] = {}
        self.lock_dir = path.parent / "locks"
        super().__init__(path, fsync=fsync, replication_router=replication_router)

    async def once_per_cluster(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``run()`` in the one process that holds the lock file of ``name``; forever (until cancelled)."""
        await run_once_per_machine(self.lock_dir / f"{name}.lock", run)

    @property
    def _quotas_exist(self) -> bool:
        return True

    @_quotas_exist.setter
    def _quotas_exist(self, _value: bool) -> None:
        pass

    def _drop_if_changed(self, conn: sqlite3.Connection) -> None:
        """Empty the caches when any connection (another process's, or this one's writer) committed since
        ``conn`` last looked."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if self._versions.get(id(conn)) == version:
            return
        self._versions[id(conn)] = version
        with self._cache_lock:
            self._bucket_gen += 1
            self._bucket_cache.clear()
            self._config_cache.clear()
            self._objects_gen += 1
            self._objects.clear()

    async def get_bucket(self, name: str) -> BucketRecord | None:
        self._drop_if_changed(self._r)
        return await super().get_bucket(name)

    async def get_bucket_config(self, name: str, kind: str) -> str | None:
        self._drop_if_changed(self._r)
        return await super().get_bucket_config(name, kind)

    def _config_in_tx(self, conn: sqlite3.Connection, name: str, kind: str) -> str | None:
        self._drop_if_changed(conn)
        return super()._config_in_tx(conn, name, kind)

    def _latest(self, bucket: str, key: str) -> ObjectRecord | None:
        self._drop_if_changed(self._r)
        return super()._latest(bucket, key)
