"""Accounts, users, keys and inline policies on a real SQLite store: secrets sealed at rest, lookups,
identity policies, and the errors IAM names."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from nuage.core.iam import (
    IAM,
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
    SecretBox,
)
from nuage.core.identities import Identities
from nuage.errors import AccessDenied
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


@pytest.fixture
def iam(tmp_path: Path) -> Iterator[IAM]:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    yield IAM(meta.iam, SecretBox.load(tmp_path))
    meta.close()


def test_secrets_are_sealed_at_rest(tmp_path: Path, iam: IAM) -> None:
    account = iam.ensure_account("c" * 64, "tenant")
    iam.put_root_key(account, "ROOTKEY", "very-secret-value")
    key, secret = iam.create_access_key(account.account_id, None)
    raw = (tmp_path / "meta.sqlite3").read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("meta*-wal"))
    assert b"very-secret-value" not in raw and secret.encode() not in raw
    assert (tmp_path / "secrets" / "iam.key").stat().st_mode & 0o077 == 0
    found = iam.lookup("ROOTKEY")
    assert found is not None and found.secret == "very-secret-value" and found.is_root
    assert found.account_id == account.account_id and found.canonical_id == "c" * 64
    other_box = IAM(iam.store, SecretBox(b"\0" * 32))
    assert other_box.lookup("ROOTKEY") is None          # the wrong server key opens nothing
    assert iam.lookup(key.access_key) is not None


def test_users_keys_policies_and_errors(iam: IAM) -> None:
    acct = iam.ensure_account("d" * 64, "t").account_id
    iam.create_user(acct, "alice")
    with pytest.raises(EntityAlreadyExists):
        iam.create_user(acct, "ALICE")
    key, _ = iam.create_access_key(acct, "alice")
    iam.create_access_key(acct, "alice")
    with pytest.raises(LimitExceeded):
        iam.create_access_key(acct, "alice")
    ident = iam.lookup(key.access_key)
    assert ident is not None and ident.user_name == "alice" and not ident.is_root
    assert ident.arn == f"arn:aws:iam::{acct}:user/alice"
    with pytest.raises(MalformedPolicyDocument):
        iam.put_policy(acct, "user", "alice", "p", "{")
    iam.put_policy(acct, "user", "alice", "p", POLICY)
    iam.create_group(acct, "readers")
    iam.put_policy(acct, "group", "readers", "g", POLICY)
    iam.add_user_to_group(acct, "readers", "alice")
    assert len(iam.identity_policies(ident)) == 2
    iam.update_access_key(acct, "alice", key.access_key, "Inactive")
    assert iam.lookup(key.access_key) is None
    with pytest.raises(DeleteConflict):
        iam.delete_user(acct, "alice")
    with pytest.raises(NoSuchEntity):
        iam.get_policy(acct, "user", "alice", "nope")
    with pytest.raises(NoSuchEntity):
        iam.user(acct, "bob")


def test_suspended_account_keys_stop_working(iam: IAM) -> None:
    account = iam.create_account("tenant")
    key, _ = iam.create_access_key(account.account_id, None)
    iam.set_account_status(account.account_id, "Suspended")
    found = iam.lookup(key.access_key)
    assert found is not None and found.suspended   # known, but refused with AccessDenied
    identities = Identities(cast(Any, None), source=iam.lookup)
    with pytest.raises(AccessDenied):
        identities.secret(key.access_key)
    iam.set_account_status(account.account_id, "Deleted")
    assert iam.lookup(key.access_key) is None


def test_legacy_clear_text_keys_are_moved(tmp_path: Path, iam: IAM) -> None:
    conn = sqlite3.connect(tmp_path / "meta.sqlite3")
    conn.execute("INSERT INTO credentials VALUES ('OLDKEY', 'old-secret', ?, 'old', 0)", ("e" * 64,))
    conn.commit()
    conn.close()
    assert iam.migrate_legacy() == 1
    found = iam.lookup("OLDKEY")
    assert found is not None and found.secret == "old-secret" and found.canonical_id == "e" * 64
    assert iam.store.legacy_credentials() == []
