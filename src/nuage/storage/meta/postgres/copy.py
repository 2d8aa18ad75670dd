"""Copy a SQLite metadata database into an empty PostgreSQL database (``nuage db copy``): every table of
the schema, in one transaction (all or nothing), with COPY. Object rows keep their sequence numbers,
outbox rows their ids; the object files stay where they are (the data folder)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from nuage.storage.meta.postgres.codec import blob_param
from nuage.storage.meta.postgres.db import CONNECT_TIMEOUT, migrate, sqlite_numbers

IDENTITIES = {"objects": "seq", "repl_outbox": "id", "repl_failures": "id"}
NOT_COPIED = {"schema_version", "sqlite_sequence"}


class CopyError(Exception):
    """The copy cannot be made (the message says why); nothing was written."""


def _columns(src: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in src.execute(f'PRAGMA table_info("{table}")')]


def _objects(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """SQLite's ``segments`` holds JSON text, or the bytes of an object kept in its row: PostgreSQL keeps
    those in ``inline_data`` (``segments`` NULL)."""
    for row in rows:
        segments = row[11]
        if isinstance(segments, bytes):
            yield (*row[:11], None, *row[12:], segments)
        else:
            yield (*row, None)


def _parts(rows: Iterator[tuple[Any, ...]], blob_at: int) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield (*row[:blob_at], blob_param(str(row[blob_at])), *row[blob_at + 1:])


def copy_sqlite(source: Path, url: str, on_table: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Copy the SQLite database ``source`` into the PostgreSQL database ``url`` (migrated first, and
    which must hold no metadata yet). Returns the rows copied per table."""
    if not source.is_file():
        raise CopyError(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        versions = {int(r[0]) for r in src.execute("SELECT version FROM schema_version")}
        if versions != set(sqlite_numbers()):
            raise CopyError("the SQLite database is not at the latest schema: run `nuage db migrate --data ...` "
                            "(or start that gateway once) first")
        tables = [str(r[0]) for r in src.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
                  if r[0] not in NOT_COPIED]
        migrate(url)
        counts: dict[str, int] = {}
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT) as dst, dst.transaction():
            for table in tables:
                if dst.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone() != (True,):
                    continue
                raise CopyError(f"the PostgreSQL database is not empty (table {table}): copy into a new database")
            for table in tables:
                columns = _columns(src, table)
                rows: Iterator[tuple[Any, ...]] = iter(src.execute(f"SELECT {', '.join(columns)} FROM {table}"))
                if table == "objects":
                    rows, columns = _objects(rows), [*columns, "inline_data"]
                elif table == "parts":
                    rows = _parts(rows, columns.index("blob"))
                count = 0
                with dst.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                counts[table] = count
                if on_table is not None:
                    on_table(table, count)
            for table, column in IDENTITIES.items():   # new rows continue after the copied ones
                dst.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                            f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}")
        return counts
    finally:
        src.close()
