"""Monthly budgets of tenants and their events (migration 0015), the same SQL on both backends.

A budget is one row per account: an amount (decimal text, never a float) in a currency. An event is one
row per (account, month, threshold), inserted with ``ON CONFLICT DO NOTHING``: whichever gateway or
process evaluates the budgets, and however often it restarts, a threshold fires once per tenant and month
(the insert that wrote the row is the one that fired). The rows keep ``emitted``, the time the event was
handed to the notification targets (NULL: not yet): they are the outbox that a notification worker reads
(:meth:`BudgetStore.pending`) and marks (:meth:`BudgetStore.mark_emitted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from nuage.storage.meta.jobs import Runner

BUDGET_COLUMNS = "account_id, amount, currency, updated_at"
EVENT_COLUMNS = "account_id, month, threshold, at, spent, budget, currency, emitted"


class BudgetRecord(NamedTuple):
    account_id: str
    amount: str          # Decimal text, e.g. "100.00"
    currency: str
    updated_at: float


class BudgetEvent(NamedTuple):
    account_id: str
    month: str           # YYYY-MM
    threshold: int       # percent of the budget: 80 or 100
    at: float            # when it fired (epoch seconds)
    spent: str           # the month-so-far total then (Decimal text)
    budget: str          # the budget then (Decimal text)
    currency: str
    emitted: float | None = None   # handed to the notification targets (None: not yet)


def _budget(row: Sequence[Any]) -> BudgetRecord:
    return BudgetRecord(str(row[0]), str(row[1]), str(row[2]), float(row[3]))


def _event(row: Sequence[Any]) -> BudgetEvent:
    return BudgetEvent(str(row[0]), str(row[1]), int(row[2]), float(row[3]), str(row[4]), str(row[5]),
                       str(row[6]), None if row[7] is None else float(row[7]))


class BudgetStore:
    """The budget and budget event rows, through ``read`` and ``write`` runners (``mark``: the parameter
    placeholder, ``?`` or ``%s``). Synchronous: callers on the event loop use a thread."""

    def __init__(self, read: Runner, write: Runner, mark: str) -> None:
        self._read = read
        self._write = write
        self._p = mark

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p)

    # -- budgets ------------------------------------------------------------------------------------------
    def get(self, account_id: str) -> BudgetRecord | None:
        sql = self._sql(f"SELECT {BUDGET_COLUMNS} FROM budgets WHERE account_id=?")
        row = self._read(lambda conn: conn.execute(sql, (account_id,)).fetchone())
        return _budget(row) if row else None

    def put(self, account_id: str, amount: str, currency: str, at: float) -> BudgetRecord:
        """Set (or replace) the account's budget."""
        sql = self._sql(f"INSERT INTO budgets ({BUDGET_COLUMNS}) VALUES (?, ?, ?, ?) ON CONFLICT (account_id) "
                        "DO UPDATE SET amount=excluded.amount, currency=excluded.currency, "
                        "updated_at=excluded.updated_at")
        self._write(lambda conn: conn.execute(sql, (account_id, amount, currency, at)))
        return BudgetRecord(account_id, amount, currency, at)

    def delete(self, account_id: str) -> bool:
        """Remove the account's budget (its events stay); False when it had none."""
        sql = self._sql("DELETE FROM budgets WHERE account_id=?")
        return bool(self._write(lambda conn: conn.execute(sql, (account_id,)).rowcount))

    def all(self) -> list[BudgetRecord]:
        sql = f"SELECT {BUDGET_COLUMNS} FROM budgets ORDER BY account_id"
        return [_budget(r) for r in self._read(lambda conn: conn.execute(sql).fetchall())]

    # -- events -------------------------------------------------------------------------------------------
    def fire(self, event: BudgetEvent) -> bool:
        """Record ``event`` unless its (account, month, threshold) fired before: True when this call wrote it."""
        sql = self._sql(f"INSERT INTO budget_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (account_id, month, threshold) DO NOTHING")
        return bool(self._write(lambda conn: conn.execute(sql, tuple(event)).rowcount))

    def fired(self, account_id: str, month: str) -> set[int]:
        """The thresholds that fired for the account in ``month``."""
        sql = self._sql("SELECT threshold FROM budget_events WHERE account_id=? AND month=?")
        return {int(r[0]) for r in self._read(lambda conn: conn.execute(sql, (account_id, month)).fetchall())}

    def events(self, account_id: str | None, limit: int = 100) -> list[BudgetEvent]:
        """Events, the latest first: one account's, or every account's (None)."""
        if account_id is None:
            sql = self._sql(f"SELECT {EVENT_COLUMNS} FROM budget_events ORDER BY at DESC, account_id, threshold "
                            "DESC LIMIT ?")
            params: tuple[object, ...] = (limit,)
        else:
            sql = self._sql(f"SELECT {EVENT_COLUMNS} FROM budget_events WHERE account_id=? "
                            "ORDER BY at DESC, threshold DESC LIMIT ?")
            params = (account_id, limit)
        return [_event(r) for r in self._read(lambda conn: conn.execute(sql, params).fetchall())]

    def pending(self, limit: int = 100) -> list[BudgetEvent]:
        """Events not handed to the notification targets yet, the oldest first (the outbox)."""
        sql = self._sql(f"SELECT {EVENT_COLUMNS} FROM budget_events WHERE emitted IS NULL ORDER BY at LIMIT ?")
        return [_event(r) for r in self._read(lambda conn: conn.execute(sql, (limit,)).fetchall())]

    def mark_emitted(self, events: Sequence[BudgetEvent], at: float) -> None:
        """Note that ``events`` were handed to the notification targets."""
        sql = self._sql("UPDATE budget_events SET emitted=? WHERE account_id=? AND month=? AND threshold=? "
                        "AND emitted IS NULL")

        def tx(conn: Any) -> None:
            for e in events:
                conn.execute(sql, (at, e.account_id, e.month, e.threshold))
        self._write(tx)
