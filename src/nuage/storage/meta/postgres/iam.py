"""Accounts, IAM users, groups, inline policies and access keys in PostgreSQL (migration 0003): the
SQLite IAM store's statements on the synchronous pool. Names compare regardless of case (the
nuage_nocase collation) and list in SQLite's NOCASE order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from nuage.storage.meta.iam import ACCOUNT_REMOVAL, AccountRecord, AccountRemoval, GroupRecord, KeyRecord, UserRecord
from nuage.storage.meta.postgres.cluster_state import IAMChanges
from nuage.storage.meta.postgres.db import Conn, Database

T = TypeVar("T")
ACCOUNT = "account_id, canonical_id, name, status, created"
USER = "account_id, name, user_id, path, created"
GROUP = "account_id, name, group_id, path, created"
KEY = "access_key, account_id, user_name, secret, status, created"
BY_NAME = 'lower(name) COLLATE "C"'


class PostgresIAMStore:
    def __init__(self, db: Database, heard: IAMChanges | None = None) -> None:
        self._db = db
        self._heard = heard   # the notifications of IAM changes this gateway heard (cluster_state.py)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._db.read_sync(lambda conn: conn.execute(sql, params).fetchall())

    def _row(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self._db.read_sync(lambda conn: conn.execute(sql, params).fetchone())

    def _write(self, fn: Callable[[Conn], T]) -> T:
        if self._heard is None:
            return self._db.write_sync(fn)
        return self._heard.write_heard(lambda: self._db.write_sync(fn))

    def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        return self._write(lambda conn: conn.execute(sql, params).rowcount)

    def _insert(self, sql: str, params: tuple[Any, ...], name: str) -> None:
        try:
            self._write(lambda conn: conn.execute(sql, params))
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(name) from exc

    # -- accounts
    def get_account(self, account_id: str) -> AccountRecord | None:
        row = self._row(f"SELECT {ACCOUNT} FROM accounts WHERE account_id=%s", (account_id,))
        return AccountRecord(*row) if row else None

    def account_by_canonical(self, canonical_id: str) -> AccountRecord | None:
        row = self._row(f"SELECT {ACCOUNT} FROM accounts WHERE canonical_id=%s", (canonical_id,))
        return AccountRecord(*row) if row else None

    def list_accounts(self) -> list[AccountRecord]:
        return [AccountRecord(*r) for r in self._rows(f"SELECT {ACCOUNT} FROM accounts ORDER BY created")]

    def create_account(self, rec: AccountRecord) -> None:
        self._insert(f"INSERT INTO accounts ({ACCOUNT}) VALUES (%s,%s,%s,%s,%s)",
                     (rec.account_id, rec.canonical_id, rec.name, rec.status, rec.created), rec.account_id)

    def set_account_status(self, account_id: str, status: str) -> None:
        if self._count("UPDATE accounts SET status=%s WHERE account_id=%s", (status, account_id)) == 0:
            raise KeyError(account_id)

    def delete_account(self, account_id: str, canonical_id: str) -> AccountRemoval:
        def tx(conn: Conn) -> AccountRemoval:
            # the account's row locked first: two removals, or a removal and a status change, take turns
            if conn.execute("SELECT 1 FROM accounts WHERE account_id=%s FOR UPDATE", (account_id,)).fetchone() is None:
                raise KeyError(account_id)
            row = conn.execute("SELECT COUNT(*) FROM buckets WHERE owner=%s", (canonical_id,)).fetchone()
            buckets = int(row[0]) if row else 0
            if buckets:
                return AccountRemoval(buckets)
            counts = {what: conn.execute(sql.replace("?", "%s"), (account_id,)).rowcount
                      for what, sql in ACCOUNT_REMOVAL}
            return AccountRemoval(0, counts["users"], counts["groups"], counts["policies"], counts["keys"])
        return self._write(tx)

    # -- access keys
    def get_key(self, access_key: str) -> KeyRecord | None:
        row = self._row(f"SELECT {KEY} FROM access_keys WHERE access_key=%s", (access_key,))
        return KeyRecord(*row) if row else None

    def put_key(self, rec: KeyRecord) -> None:
        self._write(lambda conn: conn.execute(
            f"INSERT INTO access_keys ({KEY}) VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (access_key) DO UPDATE SET "
            "account_id=excluded.account_id, user_name=excluded.user_name, secret=excluded.secret, "
            "status=excluded.status, created=excluded.created",
            (rec.access_key, rec.account_id, rec.user_name, rec.secret, rec.status, rec.created)))

    def list_keys(self, account_id: str, user_name: str | None) -> list[KeyRecord]:
        if user_name is None:
            rows = self._rows(f"SELECT {KEY} FROM access_keys WHERE account_id=%s AND user_name IS NULL "
                              "ORDER BY created", (account_id,))
        else:
            rows = self._rows(f"SELECT {KEY} FROM access_keys WHERE account_id=%s AND user_name=%s "
                              "ORDER BY created", (account_id, user_name))
        return [KeyRecord(*r) for r in rows]

    def set_key_status(self, access_key: str, status: str) -> None:
        if self._count("UPDATE access_keys SET status=%s WHERE access_key=%s", (status, access_key)) == 0:
            raise KeyError(access_key)

    def delete_key(self, access_key: str) -> None:
        if self._count("DELETE FROM access_keys WHERE access_key=%s", (access_key,)) == 0:
            raise KeyError(access_key)

    # -- users
    def get_user(self, account_id: str, name: str) -> UserRecord | None:
        row = self._row(f"SELECT {USER} FROM iam_users WHERE account_id=%s AND name=%s", (account_id, name))
        return UserRecord(*row) if row else None

    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]:
        rows = self._rows(f"SELECT {USER} FROM iam_users WHERE account_id=%s ORDER BY {BY_NAME}", (account_id,))
        return [u for u in (UserRecord(*r) for r in rows) if u.path.startswith(path_prefix)]

    def create_user(self, rec: UserRecord) -> None:
        self._insert(f"INSERT INTO iam_users ({USER}) VALUES (%s,%s,%s,%s,%s)",
                     (rec.account_id, rec.name, rec.user_id, rec.path, rec.created), rec.name)

    def delete_user(self, account_id: str, name: str) -> None:
        def tx(conn: Conn) -> None:
            if conn.execute("DELETE FROM iam_users WHERE account_id=%s AND name=%s", (account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("DELETE FROM iam_group_members WHERE account_id=%s AND user_name=%s", (account_id, name))
        self._write(tx)

    # -- groups
    def get_group(self, account_id: str, name: str) -> GroupRecord | None:
        row = self._row(f"SELECT {GROUP} FROM iam_groups WHERE account_id=%s AND name=%s", (account_id, name))
        return GroupRecord(*row) if row else None

    def create_group(self, rec: GroupRecord) -> None:
        self._insert(f"INSERT INTO iam_groups ({GROUP}) VALUES (%s,%s,%s,%s,%s)",
                     (rec.account_id, rec.name, rec.group_id, rec.path, rec.created), rec.name)

    def add_member(self, account_id: str, group: str, user: str) -> None:
        self._write(lambda conn: conn.execute(
            "INSERT INTO iam_group_members VALUES (%s,%s,%s) ON CONFLICT DO NOTHING", (account_id, group, user)))

    def list_groups(self, account_id: str, path_prefix: str = "/") -> list[GroupRecord]:
        rows = self._rows(f"SELECT {GROUP} FROM iam_groups WHERE account_id=%s ORDER BY {BY_NAME}", (account_id,))
        return [g for g in (GroupRecord(*r) for r in rows) if g.path.startswith(path_prefix)]

    def delete_group(self, account_id: str, name: str) -> None:
        def tx(conn: Conn) -> None:
            if conn.execute("DELETE FROM iam_groups WHERE account_id=%s AND name=%s",
                            (account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("DELETE FROM iam_group_members WHERE account_id=%s AND group_name=%s", (account_id, name))
        self._write(tx)

    def remove_member(self, account_id: str, group: str, user: str) -> None:
        if self._count("DELETE FROM iam_group_members WHERE account_id=%s AND group_name=%s AND user_name=%s",
                       (account_id, group, user)) == 0:
            raise KeyError(user)

    def members_of(self, account_id: str, group: str) -> list[str]:
        rows = self._rows("SELECT user_name FROM iam_group_members WHERE account_id=%s AND group_name=%s "
                          'ORDER BY lower(user_name) COLLATE "C"', (account_id, group))
        return [r[0] for r in rows]

    def rename_user(self, account_id: str, name: str, new_name: str, new_path: str) -> None:
        """Rename and/or move a user; its keys, inline policies and group memberships follow."""
        def tx(conn: Conn) -> None:
            if conn.execute("UPDATE iam_users SET name=%s, path=%s WHERE account_id=%s AND name=%s",
                            (new_name, new_path, account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("UPDATE access_keys SET user_name=%s WHERE account_id=%s AND user_name=%s",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_policies SET holder=%s WHERE account_id=%s AND kind='user' AND holder=%s",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_group_members SET user_name=%s WHERE account_id=%s AND user_name=%s",
                         (new_name, account_id, name))
        try:
            self._write(tx)
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(new_name) from exc

    def rename_group(self, account_id: str, name: str, new_name: str, new_path: str) -> None:
        """Rename and/or move a group; its inline policies and members follow."""
        def tx(conn: Conn) -> None:
            if conn.execute("UPDATE iam_groups SET name=%s, path=%s WHERE account_id=%s AND name=%s",
                            (new_name, new_path, account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("UPDATE iam_policies SET holder=%s WHERE account_id=%s AND kind='group' AND holder=%s",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_group_members SET group_name=%s WHERE account_id=%s AND group_name=%s",
                         (new_name, account_id, name))
        try:
            self._write(tx)
        except psycopg.errors.UniqueViolation as exc:
            raise ValueError(new_name) from exc

    def groups_of(self, account_id: str, user: str) -> list[str]:
        rows = self._rows("SELECT group_name FROM iam_group_members WHERE account_id=%s AND user_name=%s "
                          'ORDER BY lower(group_name) COLLATE "C"', (account_id, user))
        return [r[0] for r in rows]

    # -- inline policies
    def put_policy(self, account_id: str, kind: str, holder: str, name: str, document: str) -> None:
        self._write(lambda conn: conn.execute(
            "INSERT INTO iam_policies VALUES (%s,%s,%s,%s,%s) ON CONFLICT (account_id, kind, holder, policy_name) "
            "DO UPDATE SET holder=excluded.holder, policy_name=excluded.policy_name, document=excluded.document",
            (account_id, kind, holder, name, document)))

    def get_policy(self, account_id: str, kind: str, holder: str, name: str) -> str | None:
        row = self._row("SELECT document FROM iam_policies WHERE account_id=%s AND kind=%s AND holder=%s "
                        "AND policy_name=%s", (account_id, kind, holder, name))
        return str(row[0]) if row else None

    def list_policies(self, account_id: str, kind: str, holder: str) -> list[tuple[str, str]]:
        rows = self._rows("SELECT policy_name, document FROM iam_policies WHERE account_id=%s AND kind=%s "
                          'AND holder=%s ORDER BY lower(policy_name) COLLATE "C"', (account_id, kind, holder))
        return [(r[0], r[1]) for r in rows]

    def delete_policy(self, account_id: str, kind: str, holder: str, name: str) -> None:
        if self._count("DELETE FROM iam_policies WHERE account_id=%s AND kind=%s AND holder=%s AND policy_name=%s",
                       (account_id, kind, holder, name)) == 0:
            raise KeyError(name)

    # -- keys stored in clear by older versions (table credentials), moved here encrypted at start
    def legacy_credentials(self) -> list[tuple[str, str, str, str]]:
        rows = self._rows("SELECT access_key, secret, owner_id, display_name FROM credentials")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def drop_legacy_credential(self, access_key: str) -> None:
        self._write(lambda conn: conn.execute("DELETE FROM credentials WHERE access_key=%s", (access_key,)))
