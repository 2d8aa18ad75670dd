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
