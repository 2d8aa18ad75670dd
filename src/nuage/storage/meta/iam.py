"""The metadata store's part for accounts and IAM (records and the protocol); see sqlite/iam.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccountRecord:
    account_id: str
    canonical_id: str
    name: str
    status: str
    created: float


@dataclass(frozen=True)
class UserRecord:
    account_id: str
    name: str
    user_id: str
    path: str
    created: float


@dataclass(frozen=True)
class GroupRecord:
    account_id: str
    name: str
    group_id: str
    path: str
    created: float


@dataclass(frozen=True)
class KeyRecord:
    access_key: str
    account_id: str
    user_name: str | None      # None: the account's root user
    secret: str                # encrypted, as stored
    status: str
    created: float


@dataclass(frozen=True)
class AccountRemoval:
    """What :meth:`IAMStore.delete_account` found: nothing was removed when the account owns buckets."""
    buckets: int               # buckets the account owns (the account stays while there are any)
    users: int = 0
    groups: int = 0
    policies: int = 0
    keys: int = 0

    @property
    def removed(self) -> bool:
        return self.buckets == 0


#: the statements that remove an account with everything inside it (SQLite's placeholders), in one transaction
ACCOUNT_REMOVAL = (
    ("keys", "DELETE FROM access_keys WHERE account_id=?"),
    ("policies", "DELETE FROM iam_policies WHERE account_id=?"),
    ("", "DELETE FROM iam_group_members WHERE account_id=?"),
    ("groups", "DELETE FROM iam_groups WHERE account_id=?"),
    ("users", "DELETE FROM iam_users WHERE account_id=?"),
    ("", "DELETE FROM console_passwords WHERE account_id=?"),
    ("", "DELETE FROM quotas WHERE kind='account' AND target=?"),
    ("", "DELETE FROM budgets WHERE account_id=?"),   # its budget events and invoices stay: billing history
    ("", "DELETE FROM accounts WHERE account_id=?"),
)


class IAMStore(Protocol):
    """Synchronous (administrative operations and cached lookups). Writes raise KeyError when a row
    they need is missing and ValueError when a row they add exists already."""

    def get_account(self, account_id: str) -> AccountRecord | None: ...
    def account_by_canonical(self, canonical_id: str) -> AccountRecord | None: ...
    def list_accounts(self) -> list[AccountRecord]: ...
    def create_account(self, rec: AccountRecord) -> None: ...
    def set_account_status(self, account_id: str, status: str) -> None: ...
    def delete_account(self, account_id: str, canonical_id: str) -> AccountRemoval:
        """Remove the account with its keys, users, groups, inline policies, console passwords, quota and budget, in one
        transaction, unless it owns buckets (counted in that transaction): then nothing is removed. KeyError
        when there is no such account."""
        ...

    def get_key(self, access_key: str) -> KeyRecord | None: ...
    def put_key(self, rec: KeyRecord) -> None: ...
    def list_keys(self, account_id: str, user_name: str | None) -> list[KeyRecord]: ...
    def set_key_status(self, access_key: str, status: str) -> None: ...
    def delete_key(self, access_key: str) -> None: ...

    def get_user(self, account_id: str, name: str) -> UserRecord | None: ...
    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]: ...
    def create_user(self, rec: UserRecord) -> None: ...
    def delete_user(self, account_id: str, name: str) -> None: ...

    def get_group(self, account_id: str, name: str) -> GroupRecord | None: ...
    def create_group(self, rec: GroupRecord) -> None: ...
    def add_member(self, account_id: str, group: str, user: str) -> None: ...
    def list_groups(self, account_id: str, path_prefix: str = "/") -> list[GroupRecord]: ...
    def delete_group(self, account_id: str, name: str) -> None: ...
    def remove_member(self, account_id: str, group: str, user: str) -> None: ...
    def members_of(self, account_id: str, group: str) -> list[str]: ...
    def rename_user(self, account_id: str, name: str, new_name: str, new_path: str) -> None: ...
    def rename_group(self, account_id: str, name: str, new_name: str, new_path: str) -> None: ...
    def groups_of(self, account_id: str, user: str) -> list[str]: ...

    def put_policy(self, account_id: str, kind: str, holder: str, name: str, document: str) -> None: ...
    def get_policy(self, account_id: str, kind: str, holder: str, name: str) -> str | None: ...
    def list_policies(self, account_id: str, kind: str, holder: str) -> list[tuple[str, str]]: ...
    def delete_policy(self, account_id: str, kind: str, holder: str, name: str) -> None: ...

    def legacy_credentials(self) -> list[tuple[str, str, str, str]]: ...
    def drop_legacy_credential(self, access_key: str) -> None: ...
