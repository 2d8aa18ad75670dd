"""The SQLite writer thread: group commit, one failing write rolled back alone, and a write whose
caller is cancelled still commits as a whole."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from nuage.storage.meta.sqlite.db import Writer, connect


def _rows(path: Path) -> list[int]:
    conn = connect(path, fsync=False)
    try:
        return sorted(r[0] for r in conn.execute("SELECT v FROM t"))
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.sqlite3"
    conn = connect(path, fsync=False)
    conn.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)")
    conn.close()
    return path


def test_concurrent_writes_commit_and_a_failure_stays_alone(db: Path) -> None:
    writer = Writer(db, fsync=False)

    def insert(v: int) -> object:
        def tx(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t VALUES (?)", (v,))
            if v == 7:
                raise ValueError("seven")
            return v
        return tx

    async def main() -> list[object]:
        return await asyncio.gather(*(writer.run(insert(v)) for v in range(20)),  # type: ignore[arg-type]
                                    return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        writer.close()
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i != 7] == [v for v in range(20) if v != 7]
    assert _rows(db) == [v for v in range(20) if v != 7]


def test_a_cancelled_caller_does_not_undo_its_write(db: Path) -> None:
    writer = Writer(db, fsync=False)

    def slow_insert(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t VALUES (1)")

    async def main() -> None:
        task = asyncio.create_task(writer.run(slow_insert))
        await asyncio.sleep(0)          # queued
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await writer.run(lambda conn: conn.execute("SELECT count(*) FROM t").fetchone()[0]) == 1

    try:
        asyncio.run(main())
    finally:
        writer.close()
    assert _rows(db) == [1]
