"""Accounts, IAM users, groups, inline policies and access keys in SQLite (migration 0003)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from nuage.storage.meta.iam import ACCOUNT_REMOVAL, AccountRecord, AccountRemoval, GroupRecord, KeyRecord, UserRecord

Write = Callable[[Callable[[sqlite3.Connection], None]], object]
ACCOUNT = "account_id, canonical_id, name, status, created"
USER = "account_id, name, user_id, path, created"
GROUP = "account_id, name, group_id, path, created"
KEY = "access_key, account_id, user_name, secret, status, created"


def _run(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> None:
    conn.execute(sql, params)


class SQLiteIAMStore:
    def __init__(self, read: Callable[[], sqlite3.Connection],
                 write: Write) -> None:
        self._read = read
        self._write = write

    # -- accounts
    def get_account(self, account_id: str) -> AccountRecord | None:
        row = self._read().execute(f"SELECT {ACCOUNT} FROM accounts WHERE account_id=?", (account_id,)).fetchone()
        return AccountRecord(*row) if row else None

    def account_by_canonical(self, canonical_id: str) -> AccountRecord | None:
        row = self._read().execute(f"SELECT {ACCOUNT} FROM accounts WHERE canonical_id=?",
                                   (canonical_id,)).fetchone()
        return AccountRecord(*row) if row else None

    def list_accounts(self) -> list[AccountRecord]:
        return [AccountRecord(*r) for r in self._read().execute(f"SELECT {ACCOUNT} FROM accounts ORDER BY created")]

    def create_account(self, rec: AccountRecord) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"INSERT INTO accounts ({ACCOUNT}) VALUES (?,?,?,?,?)",
                             (rec.account_id, rec.canonical_id, rec.name, rec.status, rec.created))
            except sqlite3.IntegrityError as exc:
                raise ValueError(rec.account_id) from exc
        self._write(tx)

    def set_account_status(self, account_id: str, status: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("UPDATE accounts SET status=? WHERE account_id=?", (status, account_id)).rowcount == 0:
                raise KeyError(account_id)
        self._write(tx)

    def delete_account(self, account_id: str, canonical_id: str) -> AccountRemoval:
        found: list[AccountRemoval] = []

        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM accounts WHERE account_id=?", (account_id,)).fetchone() is None:
                raise KeyError(account_id)
            buckets = conn.execute("SELECT COUNT(*) FROM buckets WHERE owner=?", (canonical_id,)).fetchone()[0]
            if buckets:
                found.append(AccountRemoval(int(buckets)))
                return
            counts = {}
            for what, sql in ACCOUNT_REMOVAL:
                counts[what] = conn.execute(sql, (account_id,)).rowcount
            found.append(AccountRemoval(0, counts["users"], counts["groups"], counts["policies"], counts["keys"]))
        self._write(tx)
        return found[0]

    # -- access keys
    def get_key(self, access_key: str) -> KeyRecord | None:
        row = self._read().execute(f"SELECT {KEY} FROM access_keys WHERE access_key=?", (access_key,)).fetchone()
        return KeyRecord(*row) if row else None

    def put_key(self, rec: KeyRecord) -> None:
        self._write(lambda conn: _run(conn,
            f"INSERT OR REPLACE INTO access_keys ({KEY}) VALUES (?,?,?,?,?,?)",
            (rec.access_key, rec.account_id, rec.user_name, rec.secret, rec.status, rec.created)))

    def list_keys(self, account_id: str, user_name: str | None) -> list[KeyRecord]:
        if user_name is None:
            rows = self._read().execute(f"SELECT {KEY} FROM access_keys WHERE account_id=? AND user_name IS NULL "
                                        "ORDER BY created", (account_id,))
        else:
            rows = self._read().execute(f"SELECT {KEY} FROM access_keys WHERE account_id=? AND user_name=? "
                                        "ORDER BY created", (account_id, user_name))
        return [KeyRecord(*r) for r in rows]

    def set_key_status(self, access_key: str, status: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("UPDATE access_keys SET status=? WHERE access_key=?", (status, access_key)).rowcount == 0:
                raise KeyError(access_key)
        self._write(tx)

    def delete_key(self, access_key: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM access_keys WHERE access_key=?", (access_key,)).rowcount == 0:
                raise KeyError(access_key)
        self._write(tx)

    # -- users
    def get_user(self, account_id: str, name: str) -> UserRecord | None:
        row = self._read().execute(f"SELECT {USER} FROM iam_users WHERE account_id=? AND name=?",
                                   (account_id, name)).fetchone()
        return UserRecord(*row) if row else None

    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]:
        rows = self._read().execute(f"SELECT {USER} FROM iam_users WHERE account_id=? ORDER BY name", (account_id,))
        return [u for u in (UserRecord(*r) for r in rows) if u.path.startswith(path_prefix)]

    def create_user(self, rec: UserRecord) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"INSERT INTO iam_users ({USER}) VALUES (?,?,?,?,?)",
                             (rec.account_id, rec.name, rec.user_id, rec.path, rec.created))
            except sqlite3.IntegrityError as exc:
                raise ValueError(rec.name) from exc
        self._write(tx)

    def delete_user(self, account_id: str, name: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM iam_users WHERE account_id=? AND name=?", (account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("DELETE FROM iam_group_members WHERE account_id=? AND user_name=?", (account_id, name))
        self._write(tx)

    # -- groups
    def get_group(self, account_id: str, name: str) -> GroupRecord | None:
        row = self._read().execute(f"SELECT {GROUP} FROM iam_groups WHERE account_id=? AND name=?",
                                   (account_id, name)).fetchone()
        return GroupRecord(*row) if row else None

    def create_group(self, rec: GroupRecord) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(f"INSERT INTO iam_groups ({GROUP}) VALUES (?,?,?,?,?)",
                             (rec.account_id, rec.name, rec.group_id, rec.path, rec.created))
            except sqlite3.IntegrityError as exc:
                raise ValueError(rec.name) from exc
        self._write(tx)

    def add_member(self, account_id: str, group: str, user: str) -> None:
        self._write(lambda conn: _run(conn, "INSERT OR IGNORE INTO iam_group_members VALUES (?,?,?)",
                                              (account_id, group, user)))

    def list_groups(self, account_id: str, path_prefix: str = "/") -> list[GroupRecord]:
        rows = self._read().execute(f"SELECT {GROUP} FROM iam_groups WHERE account_id=? ORDER BY name",
                                    (account_id,))
        return [g for g in (GroupRecord(*r) for r in rows) if g.path.startswith(path_prefix)]

    def delete_group(self, account_id: str, name: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM iam_groups WHERE account_id=? AND name=?", (account_id, name)).rowcount == 0:
                raise KeyError(name)
            conn.execute("DELETE FROM iam_group_members WHERE account_id=? AND group_name=?", (account_id, name))
        self._write(tx)

    def remove_member(self, account_id: str, group: str, user: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM iam_group_members WHERE account_id=? AND group_name=? AND user_name=?",
                            (account_id, group, user)).rowcount == 0:
                raise KeyError(user)
        self._write(tx)

    def members_of(self, account_id: str, group: str) -> list[str]:
        rows = self._read().execute("SELECT user_name FROM iam_group_members WHERE account_id=? AND group_name=? "
                                    "ORDER BY user_name", (account_id, group))
        return [r[0] for r in rows]

    def rename_user(self, account_id: str, name: str, new_name: str, new_path: str) -> None:
        """Rename and/or move a user; its keys, inline policies and group memberships follow."""
        def tx(conn: sqlite3.Connection) -> None:
            try:
                if conn.execute("UPDATE iam_users SET name=?, path=? WHERE account_id=? AND name=?",
                                (new_name, new_path, account_id, name)).rowcount == 0:
                    raise KeyError(name)
            except sqlite3.IntegrityError as exc:
                raise ValueError(new_name) from exc
            conn.execute("UPDATE access_keys SET user_name=? WHERE account_id=? AND user_name=?",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_policies SET holder=? WHERE account_id=? AND kind='user' AND holder=?",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_group_members SET user_name=? WHERE account_id=? AND user_name=?",
                         (new_name, account_id, name))
        self._write(tx)

    def rename_group(self, account_id: str, name: str, new_name: str, new_path: str) -> None:
        """Rename and/or move a group; its inline policies and members follow."""
        def tx(conn: sqlite3.Connection) -> None:
            try:
                if conn.execute("UPDATE iam_groups SET name=?, path=? WHERE account_id=? AND name=?",
                                (new_name, new_path, account_id, name)).rowcount == 0:
                    raise KeyError(name)
            except sqlite3.IntegrityError as exc:
                raise ValueError(new_name) from exc
            conn.execute("UPDATE iam_policies SET holder=? WHERE account_id=? AND kind='group' AND holder=?",
                         (new_name, account_id, name))
            conn.execute("UPDATE iam_group_members SET group_name=? WHERE account_id=? AND group_name=?",
                         (new_name, account_id, name))
        self._write(tx)

    def groups_of(self, account_id: str, user: str) -> list[str]:
        rows = self._read().execute("SELECT group_name FROM iam_group_members WHERE account_id=? AND user_name=? "
                                    "ORDER BY group_name", (account_id, user))
        return [r[0] for r in rows]

    # -- inline policies
    def put_policy(self, account_id: str, kind: str, holder: str, name: str, document: str) -> None:
        self._write(lambda conn: _run(conn, "INSERT OR REPLACE INTO iam_policies VALUES (?,?,?,?,?)",
                                              (account_id, kind, holder, name, document)))

    def get_policy(self, account_id: str, kind: str, holder: str, name: str) -> str | None:
        row = self._read().execute("SELECT document FROM iam_policies WHERE account_id=? AND kind=? AND holder=? "
                                   "AND policy_name=?", (account_id, kind, holder, name)).fetchone()
        return str(row[0]) if row else None

    def list_policies(self, account_id: str, kind: str, holder: str) -> list[tuple[str, str]]:
        rows = self._read().execute("SELECT policy_name, document FROM iam_policies WHERE account_id=? AND kind=? "
                                    "AND holder=? ORDER BY policy_name", (account_id, kind, holder))
        return [(r[0], r[1]) for r in rows]

    def delete_policy(self, account_id: str, kind: str, holder: str, name: str) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM iam_policies WHERE account_id=? AND kind=? AND holder=? AND policy_name=?",
                            (account_id, kind, holder, name)).rowcount == 0:
                raise KeyError(name)
        self._write(tx)

    # -- keys stored in clear by older versions (table credentials), moved here encrypted at start
    def legacy_credentials(self) -> list[tuple[str, str, str, str]]:
        rows = self._read().execute("SELECT access_key, secret, owner_id, display_name FROM credentials")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def drop_legacy_credential(self, access_key: str) -> None:
        self._write(lambda conn: _run(conn, "DELETE FROM credentials WHERE access_key=?", (access_key,)))
