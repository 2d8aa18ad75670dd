"""The operator's use-cases on whole tenants (accounts): every key of a tenant, revoking any key, deleting a
tenant. The admin API calls them, from a worker thread (they are synchronous, as :mod:`nuage.core.iam` is).

Deleting a tenant is refused while it owns buckets (its data must be removed first, by its owner or by the
operator, through S3): it never removes objects. What goes with the tenant is what lives only inside it:
its root keys, its IAM users with their keys, its groups, inline policies, console passwords and quota,
in one transaction of the metadata store, so that none of its keys authenticates any more.
"""

from __future__ import annotations

from dataclasses import dataclass

from nuage.core.iam import IAM, DeleteConflict, NoSuchEntity
from nuage.storage.meta.iam import AccountRecord, AccountRemoval, KeyRecord


@dataclass(frozen=True)
class KeyInfo:
    """An access key as the operator sees it: never its secret."""
    access_key: str
    account_id: str
    user_name: str | None          # None: the tenant's root user
    status: str
    created: float

    def as_dict(self) -> dict[str, object]:
        return {"access_key": self.access_key, "account_id": self.account_id, "user": self.user_name,
                "status": self.status, "created": self.created}


def _info(key: KeyRecord) -> KeyInfo:
    return KeyInfo(key.access_key, key.account_id, key.user_name, key.status, key.created)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Tenants:
    def __init__(self, iam: IAM) -> None:
        self.iam = iam

    def find(self, name: str) -> AccountRecord:
        """A tenant by its name, else by its 12-digit account id."""
        accounts = self.iam.store.list_accounts()
        for rec in accounts:
            if rec.name == name:
                return rec
        for rec in accounts:
            if rec.account_id == name:
                return rec
        raise NoSuchEntity(f"The tenant {name} cannot be found.")

    def keys(self, account: AccountRecord) -> list[KeyInfo]:
        """The root user's keys, then each IAM user's (users by name), each list oldest first."""
        store = self.iam.store
        found = list(store.list_keys(account.account_id, None))
        for user in store.list_users(account.account_id):
            found += store.list_keys(account.account_id, user.name)
        return [_info(k) for k in found]

    def key(self, access_key: str) -> tuple[KeyInfo, AccountRecord | None]:
        """A key and its tenant (None for a key whose account no longer exists)."""
        key = self.iam.store.get_key(access_key)
        if key is None:
            raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
        return _info(key), self.iam.store.get_account(key.account_id)

    def revoke(self, access_key: str) -> None:
        """Delete a key (IAM's DeleteAccessKey does the same for a key of one's own account)."""
        try:
            self.iam.store.delete_key(access_key)
        except KeyError:
            raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.") from None

    def delete(self, account: AccountRecord) -> AccountRemoval:
        """Remove a tenant with everything inside it; DeleteConflict while it owns buckets."""
        try:
            removal = self.iam.store.delete_account(account.account_id, account.canonical_id)
        except KeyError:
            raise NoSuchEntity(f"The tenant {account.name} cannot be found.") from None
        if not removal.removed:
            raise DeleteConflict(
                f"The tenant {account.name} still owns {_plural(removal.buckets, 'bucket')}: empty and delete "
                f"{'it' if removal.buckets == 1 else 'them'} first (every object version, then the bucket).")
        return removal
