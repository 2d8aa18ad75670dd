"""Accounts (tenants), IAM users, groups, access keys and inline policies: the use-cases behind the IAM
API, the admin API and the CLI, and the identity lookups of request authentication.

Secret keys are stored encrypted (AES-256-GCM, the access key id as associated data) with a server key
that never enters the metadata store: ``NUAGE_IAM_KEY`` (base64 of 32 bytes) or ``DATA/secrets/iam.key``
(mode 0600, created on first use). A stolen metadata file alone does not hand out usable keys.
Signatures computed with a secret are compared in constant time by :mod:`nuage.sigv4`.

Synchronous by design: administrative writes are rare, and lookups are cached by
:class:`nuage.core.identities.Identities`. Protocol layers call these from a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import string
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nuage.core.identities import Identity
from nuage.core.policy import MalformedPolicy, Policy, parse_policy
from nuage.errors import NuageError
from nuage.secretfiles import create_once
from nuage.storage.meta.iam import AccountRecord, GroupRecord, IAMStore, KeyRecord, UserRecord

KEY_PATH = Path("secrets") / "iam.key"   # beside (not inside) keys/, which SSE owns
KEY_ENV = "NUAGE_IAM_KEY"
ACTIVE, INACTIVE, SUSPENDED = "Active", "Inactive", "Suspended"
MAX_KEYS_PER_USER = 2
NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
GROUP_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
POLICY_NAME_RE = re.compile(r"^[\w+=,.@-]{1,128}$")
PATH_RE = re.compile(r"^/([\x21-\x7e]{0,510}/)?$")


# -- domain errors (the IAM API maps them to its codes) ----------------------------------------------
class IAMError(NuageError):
    default_message = "The request could not be completed."


class NoSuchEntity(IAMError):
    default_message = "The requested entity does not exist."


class EntityAlreadyExists(IAMError):
    default_message = "The entity already exists."


class DeleteConflict(IAMError):
    default_message = "The entity cannot be deleted while it has subordinate entities."


class LimitExceeded(IAMError):
    default_message = "A limit was exceeded."


class InvalidInput(IAMError):
    default_message = "Invalid input."


class MalformedPolicyDocument(IAMError):
    default_message = "Syntax errors in policy."


# -- secrets ---------------------------------------------------------------------------------------
class SecretsError(Exception):
    """The IAM key cannot be read, or does not unseal the stored secret keys: the message names the file."""


class SecretBox:
    """Encrypts secret access keys with the server's IAM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the IAM key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def load(cls, data_dir: Path, key_b64: str | None = None) -> SecretBox:
        """From ``key_b64`` (or $NUAGE_IAM_KEY), else DATA/secrets/iam.key, created (0600) when missing (by
        one of the processes that start at once on a new data folder; the others read its key).
        :class:`SecretsError` when the key is not the base64 of 32 bytes."""
        key_b64 = key_b64 or os.environ.get(KEY_ENV) or None
        if key_b64:
            try:
                return cls(base64.b64decode(key_b64, validate=True))
            except (binascii.Error, ValueError):
                raise SecretsError(f"{KEY_ENV} must be the base64 of 32 bytes") from None
        path = data_dir / KEY_PATH
        try:
            raw, _ = create_once(path, base64.b64encode(os.urandom(32)) + b"\n")
        except OSError as exc:
            raise SecretsError(f"cannot read the IAM key {path}: {exc.strerror or exc}") from None
        try:
            return cls(base64.b64decode(raw.strip(), validate=True))
        except (binascii.Error, ValueError):
            raise SecretsError(f"{path} does not hold the IAM key (the base64 of 32 bytes): restore it from "
                               f"a backup, or set {KEY_ENV}") from None

    def seal(self, access_key: str, secret: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, secret.encode(), access_key.encode())).decode()

    def open(self, access_key: str, sealed: str) -> str | None:
        try:
            raw = base64.b64decode(sealed)
            return self._aead.decrypt(raw[:12], raw[12:], access_key.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error):
            return None


def stored_keys(store: IAMStore) -> Iterator[KeyRecord]:
    """Every stored access key (with its sealed secret), account after account: roots' keys, then users'."""
    for account in store.list_accounts():
        yield from store.list_keys(account.account_id, None)
        for user in store.list_users(account.account_id):
            yield from store.list_keys(account.account_id, user.name)


def new_access_key() -> str:
    return "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def new_secret_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17))


def new_account_id() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def canonical_for(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


class IAM:
    def __init__(self, store: IAMStore, box: SecretBox) -> None:
        self.store = store
        self.box = box

    # -- accounts ---------------------------------------------------------------------------------
    def ensure_account(self, canonical_id: str, name: str, account_id: str | None = None) -> AccountRecord:
        """The account with this canonical id, created when missing (with ``account_id`` when given)."""
        found = self.store.account_by_canonical(canonical_id)
        if found is not None:
            return found
        for _ in range(10):
            rec = AccountRecord(account_id or new_account_id(), canonical_id, name, ACTIVE, time.time())
            try:
                self.store.create_account(rec)
                return rec
            except ValueError:
                found = self.store.account_by_canonical(canonical_id)
                if found is not None:
                    return found
        raise IAMError("could not allocate an account id")

    def create_account(self, name: str) -> AccountRecord:
        return self.ensure_account(hashlib.sha256(os.urandom(32)).hexdigest(), name)

    def account(self, account_id: str) -> AccountRecord:
        rec = self.store.get_account(account_id)
        if rec is None:
            raise NoSuchEntity(f"The account {account_id} cannot be found.")
        return rec

    def set_account_status(self, account_id: str, status: str) -> None:
        try:
            self.store.set_account_status(account_id, status)
        except KeyError:
            raise NoSuchEntity(f"The account {account_id} cannot be found.") from None

    def put_root_key(self, account: AccountRecord, access_key: str, secret: str) -> None:
        """Add (or replace) a root key of an account."""
        existing = self.store.get_key(access_key)
        if existing is not None and existing.account_id != account.account_id:
            self.store.delete_key(access_key)
        self.store.put_key(KeyRecord(access_key, account.account_id, None, self.box.seal(access_key, secret),
                                     ACTIVE, time.time()))

    def put_user_key(self, account: AccountRecord, user_name: str, access_key: str, secret: str) -> None:
        """Add (or replace) a key of an IAM user of an account, creating the user when missing."""
        user = self.store.get_user(account.account_id, user_name)
        if user is None:
            user = self.create_user(account.account_id, user_name)
        existing = self.store.get_key(access_key)
        if existing is not None:
            self.store.delete_key(access_key)
        self.store.put_key(KeyRecord(access_key, account.account_id, user.name,
                                     self.box.seal(access_key, secret), ACTIVE, time.time()))

    def migrate_legacy(self) -> int:
        """Move keys stored in clear by earlier versions into accounts, encrypted."""
        moved = 0
        for access_key, secret, owner_id, display_name in self.store.legacy_credentials():
            self.put_root_key(self.ensure_account(owner_id, display_name), access_key, secret)
            self.store.drop_legacy_credential(access_key)
            moved += 1
        return moved

    def unseals_stored_keys(self) -> bool | None:
        """Whether the IAM key opens the stored secret keys: None when no key is stored, else True as soon
        as one opens, False when none does (the key file was lost, replaced or belongs to another folder:
        every request signed with a stored key would fail as InvalidAccessKeyId)."""
        tried = False
        for key in stored_keys(self.store):
            if self.box.open(key.access_key, key.secret) is not None:
                return True
            tried = True
        return False if tried else None

    # -- lookups for authentication ----------------------------------------------------------------
    def lookup(self, access_key: str) -> Identity | None:
        key = self.store.get_key(access_key)
        if key is None or key.status != ACTIVE:
            return None
        account = self.store.get_account(key.account_id)
        if account is None or account.status not in (ACTIVE, SUSPENDED):
            return None
        suspended = account.status == SUSPENDED
        secret = self.box.open(access_key, key.secret)
        if secret is None:
            return None
        if key.user_name is None:
            return Identity(access_key, secret, account.account_id, account.canonical_id, account.name,
                            suspended=suspended)
        user = self.store.get_user(account.account_id, key.user_name)
        if user is None:
            return None
        return Identity(access_key, secret, account.account_id, account.canonical_id, account.name,
                        user_name=user.name, user_id=user.user_id, path=user.path, suspended=suspended)

    def identity_policies(self, ident: Identity) -> list[Policy]:
        if ident.user_name is None:
            return []
        docs = [d for _, d in self.store.list_policies(ident.account_id, "user", ident.user_name)]
        for group in self.store.groups_of(ident.account_id, ident.user_name):
            docs += [d for _, d in self.store.list_policies(ident.account_id, "group", group)]
        out: list[Policy] = []
        for doc in docs:
            try:
                out.append(parse_policy(doc, kind="identity"))
            except MalformedPolicy:
                continue
        return out

    # -- users -------------------------------------------------------------------------------------
    def user(self, account_id: str, name: str) -> UserRecord:
        rec = self.store.get_user(account_id, name)
        if rec is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return rec

    def create_user(self, account_id: str, name: str, path: str = "/") -> UserRecord:
        if not NAME_RE.match(name):
            raise InvalidInput(f"The specified value for userName is invalid: {name}")
        if not PATH_RE.match(path):
            raise InvalidInput("The specified value for path is invalid.")
        rec = UserRecord(account_id, name, _new_id("AIDA"), path, time.time())
        try:
            self.store.create_user(rec)
        except ValueError:
            raise EntityAlreadyExists(f"User with name {name} already exists.") from None
        return rec

    def list_users(self, account_id: str, path_prefix: str = "/") -> list[UserRecord]:
        return self.store.list_users(account_id, path_prefix)

    def delete_user(self, account_id: str, name: str) -> None:
        user = self.user(account_id, name)
        if self.store.list_keys(account_id, user.name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if self.store.list_policies(account_id, "user", user.name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.store.groups_of(account_id, user.name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        self.store.delete_user(account_id, user.name)

    def update_user(self, account_id: str, name: str, new_name: str | None, new_path: str | None) -> None:
        user = self.user(account_id, name)
        if new_name is not None and not NAME_RE.match(new_name):
            raise InvalidInput(f"The specified value for newUserName is invalid: {new_name}")
        if new_path is not None and not PATH_RE.match(new_path):
            raise InvalidInput("The specified value for newPath is invalid.")
        try:
            self.store.rename_user(account_id, user.name, new_name or user.name, new_path or user.path)
        except ValueError:
            raise EntityAlreadyExists(f"User with name {new_name} already exists.") from None

    # -- access keys --------------------------------------------------------------------------------
    def create_access_key(self, account_id: str, user_name: str | None) -> tuple[KeyRecord, str]:
        if user_name is not None:
            user_name = self.user(account_id, user_name).name
            if len(self.store.list_keys(account_id, user_name)) >= MAX_KEYS_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
        access, secret = new_access_key(), new_secret_key()
        rec = KeyRecord(access, account_id, user_name, self.box.seal(access, secret), ACTIVE, time.time())
        self.store.put_key(rec)
        return rec, secret

    def list_access_keys(self, account_id: str, user_name: str | None) -> list[KeyRecord]:
        if user_name is not None:
            user_name = self.user(account_id, user_name).name
        return self.store.list_keys(account_id, user_name)

    def _own_key(self, account_id: str, user_name: str | None, access_key: str) -> KeyRecord:
        if user_name is not None:
            user_name = self.user(account_id, user_name).name
        key = self.store.get_key(access_key)
        if (key is None or key.account_id != account_id
                or (key.user_name or "").lower() != (user_name or "").lower()):
            raise NoSuchEntity(f"The Access Key with id {access_key} cannot be found.")
        return key

    def update_access_key(self, account_id: str, user_name: str | None, access_key: str, status: str) -> None:
        if status not in (ACTIVE, INACTIVE):
            raise InvalidInput(f"Invalid status: {status}")
        self.store.set_key_status(self._own_key(account_id, user_name, access_key).access_key, status)

    def delete_access_key(self, account_id: str, user_name: str | None, access_key: str) -> None:
        self.store.delete_key(self._own_key(account_id, user_name, access_key).access_key)

    # -- groups -------------------------------------------------------------------------------------
    def group(self, account_id: str, name: str) -> GroupRecord:
        rec = self.store.get_group(account_id, name)
        if rec is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        return rec

    def create_group(self, account_id: str, name: str, path: str = "/") -> GroupRecord:
        if not GROUP_NAME_RE.match(name):
            raise InvalidInput(f"The specified value for groupName is invalid: {name}")
        if not PATH_RE.match(path):
            raise InvalidInput("The specified value for path is invalid.")
        rec = GroupRecord(account_id, name, _new_id("AGPA"), path, time.time())
        try:
            self.store.create_group(rec)
        except ValueError:
            raise EntityAlreadyExists(f"Group with name {name} already exists.") from None
        return rec

    def add_user_to_group(self, account_id: str, group: str, user: str) -> None:
        g, u = self.group(account_id, group), self.user(account_id, user)
        self.store.add_member(account_id, g.name, u.name)

    def remove_user_from_group(self, account_id: str, group: str, user: str) -> None:
        g, u = self.group(account_id, group), self.user(account_id, user)
        try:
            self.store.remove_member(account_id, g.name, u.name)
        except KeyError:
            raise NoSuchEntity(f"User {u.name} is not in group {g.name}.") from None

    def list_groups(self, account_id: str, path_prefix: str = "/") -> list[GroupRecord]:
        return self.store.list_groups(account_id, path_prefix)

    def group_members(self, account_id: str, group: str) -> tuple[GroupRecord, list[UserRecord]]:
        g = self.group(account_id, group)
        users = [self.store.get_user(account_id, n) for n in self.store.members_of(account_id, g.name)]
        return g, [u for u in users if u is not None]

    def groups_for_user(self, account_id: str, user: str) -> list[GroupRecord]:
        u = self.user(account_id, user)
        groups = [self.store.get_group(account_id, n) for n in self.store.groups_of(account_id, u.name)]
        return [g for g in groups if g is not None]

    def update_group(self, account_id: str, name: str, new_name: str | None, new_path: str | None) -> None:
        g = self.group(account_id, name)
        if new_name is not None and not GROUP_NAME_RE.match(new_name):
            raise InvalidInput(f"The specified value for newGroupName is invalid: {new_name}")
        if new_path is not None and not PATH_RE.match(new_path):
            raise InvalidInput("The specified value for newPath is invalid.")
        try:
            self.store.rename_group(account_id, g.name, new_name or g.name, new_path or g.path)
        except ValueError:
            raise EntityAlreadyExists(f"Group with name {new_name} already exists.") from None

    def delete_group(self, account_id: str, name: str) -> None:
        g = self.group(account_id, name)
        if self.store.members_of(account_id, g.name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if self.store.list_policies(account_id, "group", g.name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        try:
            self.store.delete_group(account_id, g.name)
        except KeyError:
            raise NoSuchEntity(f"The group with name {name} cannot be found.") from None

    # -- inline policies ----------------------------------------------------------------------------
    def _holder(self, account_id: str, kind: str, holder: str) -> str:
        return self.user(account_id, holder).name if kind == "user" else self.group(account_id, holder).name

    def put_policy(self, account_id: str, kind: str, holder: str, name: str, document: str) -> None:
        holder = self._holder(account_id, kind, holder)
        if not POLICY_NAME_RE.match(name):
            raise InvalidInput(f"The specified value for policyName is invalid: {name}")
        try:
            parse_policy(document, kind="identity")
        except MalformedPolicy as exc:
            if type(exc).__name__ == "PolicyTooLarge":
                raise LimitExceeded(exc.message) from exc
            raise MalformedPolicyDocument(exc.message) from exc
        self.store.put_policy(account_id, kind, holder, name, document)

    def get_policy(self, account_id: str, kind: str, holder: str, name: str) -> tuple[str, str, str]:
        """(holder name, policy name, document)."""
        holder = self._holder(account_id, kind, holder)
        for pname, doc in self.store.list_policies(account_id, kind, holder):
            if pname.lower() == name.lower():
                return holder, pname, doc
        raise NoSuchEntity(f"The {kind} policy with name {name} cannot be found.")

    def list_policies(self, account_id: str, kind: str, holder: str) -> list[str]:
        holder = self._holder(account_id, kind, holder)
        return [n for n, _ in self.store.list_policies(account_id, kind, holder)]

    def delete_policy(self, account_id: str, kind: str, holder: str, name: str) -> None:
        holder, pname, _ = self.get_policy(account_id, kind, holder, name)
        self.store.delete_policy(account_id, kind, holder, pname)
