"""Console passwords of IAM users: argon2id hashes (argon2-cffi) in the table ``console_passwords``.

A person signs in with the account (name or 12-digit id), the user name and the password; the console
then acts with the user's first active access key (its secret never leaves the server), so a password
user needs an active key. A password set before its user was (re)created does not count: deleting a user
and creating another of the same name does not hand over the old password.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nuage.core import iam as core
from nuage.core.iam import IAM
from nuage.storage.meta.base import MetadataStore

MIN_LENGTH = 10
MAX_LENGTH = 256
HASHER = PasswordHasher()
_DUMMY = HASHER.hash("not a password of anyone")


class PasswordError(ValueError):
    pass


@dataclass(frozen=True)
class SignIn:
    access_key: str


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise PasswordError(f"A console password has {MIN_LENGTH} to {MAX_LENGTH} characters.")


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class Passwords:
    def __init__(self, iam: IAM, meta: MetadataStore) -> None:
        self.iam = iam
        self.meta = meta

    def _account(self, name: str) -> str | None:
        accounts = self.iam.store.list_accounts()
        found = next((a for a in accounts if a.name == name), None) or \
            next((a for a in accounts if a.account_id == name), None)
        return found.account_id if found else None

    async def set(self, account_id: str, user_name: str, password: str | None) -> None:
        """Set (or, with None, remove) a user's console password; the user must exist."""
        await asyncio.to_thread(self.iam.user, account_id, user_name)
        if password is None:
            await asyncio.to_thread(self.meta.set_console_password, account_id, user_name, None)
            return
        check_new_password(password)
        hashed = await asyncio.to_thread(HASHER.hash, password)
        await asyncio.to_thread(self.meta.set_console_password, account_id, user_name, hashed)

    async def has(self, account_id: str, user_name: str) -> bool:
        return await asyncio.to_thread(self.meta.get_console_password, account_id, user_name) is not None

    async def sign_in(self, account: str, user_name: str, password: str) -> str:
        """The access key a password sign-in acts with; PasswordError (one message for every failure of
        the name or password, so that it tells nothing about which part was wrong)."""
        return await asyncio.to_thread(self._sign_in, account, user_name, password)

    def _sign_in(self, account: str, user_name: str, password: str) -> str:
        wrong = PasswordError("The account, user name or password is not right.")
        account_id = self._account(account)
        row = self.meta.get_console_password(account_id, user_name) if account_id else None
        if row is None or account_id is None:
            _verify(_DUMMY, password)          # the same work as a real check
            raise wrong
        hashed, updated = row
        try:
            user = self.iam.user(account_id, user_name)
        except core.NoSuchEntity:
            raise wrong from None
        if not _verify(hashed, password) or updated < user.created:
            raise wrong
        active = [k for k in self.iam.list_access_keys(account_id, user_name) if k.status == core.ACTIVE]
        if not active:
            raise PasswordError("This user has no active access key, which the console acts with: ask for one.")
        return sorted(active, key=lambda k: k.created)[0].access_key
