"""Issued invoices (migration 0014) and the store that keeps them, the same SQL on both backends.

An invoice is one row per (tenant, month), written once and never changed: a second issue of the same
month returns the first row. Its number is ``PREFIX-YEAR-SEQUENCE`` (``NUA-2026-000001``), the sequence
gap-free per year of issue across the whole cluster: it is allocated inside the transaction that inserts
the row, after taking the cluster's invoice lock (PostgreSQL: a transaction-scoped advisory lock; SQLite:
the write transaction itself, BEGIN IMMEDIATE, which every process of the database takes in turn). So two
gateways issuing at once get distinct numbers, and two issuing the same month get the same invoice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nuage.storage.meta.jobs import Runner

COLUMNS = "account_id, month, number, issued_at, document"


@dataclass(frozen=True)
class InvoiceRecord:
    account_id: str
    month: str          # YYYY-MM
    number: str
    issued_at: float
    document: str       # JSON text


class InvoiceStore:
    """The invoice rows, through ``read`` and ``write`` runners; ``mark`` is the parameter placeholder and
    ``lock`` a statement that serializes invoice numbering across the cluster (None: the write transaction
    does already)."""

    def __init__(self, read: Runner, write: Runner, mark: str, lock: str | None = None) -> None:
        self._read = read
        self._write = write
        self._p = mark
        self._lock = lock

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    def issue(self, account_id: str, month: str, prefix: str, year: int, issued_at: float,
              render: Callable[[str], str]) -> tuple[InvoiceRecord, bool]:
        """The invoice of ``account_id`` for ``month``: the one issued before if any (and False), else a new
        one numbered now, whose document is ``render(number)`` (and True)."""
        find = self._sql(f"SELECT {COLUMNS} FROM invoices WHERE account_id=? AND month=?")
        last = self._sql("SELECT COALESCE(MAX(seq), 0) FROM invoices WHERE year=?")
        insert = self._sql("INSERT INTO invoices (account_id, month, number, year, seq, issued_at, document) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")

        def tx(conn: Any) -> tuple[InvoiceRecord, bool]:
            if self._lock is not None:
                conn.execute(self._lock)
            row = conn.execute(find, (account_id, month)).fetchone()
            if row is not None:
                return InvoiceRecord(*row), False
            seq = int(conn.execute(last, (year,)).fetchone()[0]) + 1
            number = f"{prefix}-{year:04d}-{seq:06d}"
            inserted = conn.execute(insert, (account_id, month, number, year, seq, issued_at,
                                             render(number))).rowcount
            row = conn.execute(find, (account_id, month)).fetchone()
            return InvoiceRecord(*row), inserted == 1
        return self._write(tx)

    def get(self, account_id: str, month: str) -> InvoiceRecord | None:
        sql = self._sql(f"SELECT {COLUMNS} FROM invoices WHERE account_id=? AND month=?")
        row = self._read(lambda conn: conn.execute(sql, (account_id, month)).fetchone())
        return InvoiceRecord(*row) if row else None

    def list(self, account_id: str) -> list[InvoiceRecord]:
        """The tenant's invoices, the latest month first."""
        sql = self._sql(f"SELECT {COLUMNS} FROM invoices WHERE account_id=? ORDER BY month DESC")
        return [InvoiceRecord(*r) for r in self._read(lambda conn: conn.execute(sql, (account_id,)).fetchall())]
