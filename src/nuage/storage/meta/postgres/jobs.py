"""SQL job records in PostgreSQL (migrations 0006 and 0011): shared by every gateway, so a job started
through one can be followed and cancelled through another."""

from __future__ import annotations

from nuage.storage.meta.jobs import SQLJobStore
from nuage.storage.meta.postgres.db import Database


class PostgresJobStore(SQLJobStore):
    def __init__(self, db: Database) -> None:
        super().__init__(db.read_sync, db.write_sync, "%s")
