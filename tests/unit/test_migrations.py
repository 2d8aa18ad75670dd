"""Numbered schema migrations: unique numbers, applied once, and a missing one is applied even when a
later number already is (two branches that each added a migration)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from importlib import resources
from pathlib import Path

from nuage.storage.meta.sqlite.db import migrate


def _numbers() -> list[int]:
    files = resources.files("nuage.storage.meta").joinpath("migrations").iterdir()
    return sorted(int(f.name.split("_", 1)[0]) for f in files if f.name.endswith(".sql"))


def test_migration_numbers_are_unique() -> None:
    assert [n for n, c in Counter(_numbers()).items() if c > 1] == []


def test_migrate_is_idempotent_and_fills_gaps(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    assert migrate(conn) == max(_numbers())
    assert migrate(conn) == max(_numbers())
    applied = sorted(r[0] for r in conn.execute("SELECT version FROM schema_version"))
    assert applied == _numbers()
    # forget migration 2 (the live-key index) as if this database came from a branch without it
    conn.execute("DROP INDEX objects_live")
    conn.execute("DELETE FROM schema_version WHERE version = 2")
    migrate(conn)
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'objects_live'").fetchone() is not None


def test_objects_stored_before_blob_checksums_read_after_the_upgrade(tmp_path: Path) -> None:
    """A database at schema 7 (objects without a CRC: a row's bytes, a file's [blob, size]) upgrades in
    place; its objects read back with no CRC (unverified) and new ones get theirs."""
    import asyncio

    from nuage.storage.meta.records import ObjectRecord, Segment
    from nuage.storage.meta.sqlite.db import _statements
    from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for f in sorted(resources.files("nuage.storage.meta").joinpath("migrations").iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".sql"):   # the PostgreSQL migrations are in a folder of their own
            continue
        number = int(f.name.split("_", 1)[0])
        if number <= 7:
            for statement in _statements(f.read_text()):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?)", (number,))
    old_columns = ("bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified, owner, meta, "
                   "segments, tags")
    conn.execute(f"INSERT INTO objects ({old_columns}) VALUES ('b','row','null',1,0,5,'e',1.0,'o','{{}}',?,'{{}}')",
                 (b"bytes",))
    conn.execute(f"INSERT INTO objects ({old_columns}) VALUES ('b','file','null',1,0,9,'e',1.0,'o','{{}}',?,'{{}}')",
                 ('[["' + "f" * 32 + '",9]]',))
    conn.close()

    store = SQLiteMetadataStore(path, fsync=False)
    try:
        assert store.schema_version >= 8
        row = asyncio.run(store.get_object("b", "row"))
        file = asyncio.run(store.get_object("b", "file"))
        assert row is not None and [(s.size, s.crc) for s in row.segments] == [(5, None)]
        assert file is not None and [(s.blob, s.size, s.crc) for s in file.segments] == [("f" * 32, 9, None)]
        new = ObjectRecord(bucket="b", key="new", version_id="", size=3, etag="e", last_modified=1.0, owner="o",
                           segments=[Segment("raw:new", 3, 1234)])
        asyncio.run(store.put_object(new, ""))
        got = asyncio.run(store.get_object("b", "new"))
        assert got is not None and got.segments[0].crc == 1234
    finally:
        store.close()
