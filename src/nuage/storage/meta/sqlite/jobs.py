"""SQL job records in SQLite (migrations 0006 and 0011): shared by the worker processes of a gateway."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from nuage.storage.meta.jobs import Runner, SQLJobStore

T = TypeVar("T")


class _OnReader:
    """Runs a read on this thread's reader connection."""

    def __init__(self, read: Callable[[], sqlite3.Connection]) -> None:
        self._read = read

    def __call__(self, fn: Callable[[Any], T], /) -> T:
        return fn(self._read())


class SQLiteJobStore(SQLJobStore):
    def __init__(self, read: Callable[[], sqlite3.Connection], write: Runner) -> None:
        super().__init__(_OnReader(read), write, "?")
