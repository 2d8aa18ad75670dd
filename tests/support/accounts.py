"""Other accounts (tenants) for access tests: created with `nuage keys add` in the server's data folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.server import NuageServer


@dataclass(frozen=True)
class Account:
    access_key: str
    secret_key: str
    name: str
    canonical_id: str


def add_account(server: NuageServer, name: str | None = None) -> Account:
    """A new account with its own root key, usable at once by the running server."""
    name = name or f"acct-{uuid.uuid4().hex[:8]}"
    access = "AK" + uuid.uuid4().hex[:18].upper()
    secret = uuid.uuid4().hex + uuid.uuid4().hex[:8]
    subprocess.run([sys.executable, "-m", "nuage.cli.main", "keys", "add", "--data", str(server.data_dir),
                    "--access-key", access, "--secret-key", secret, "--name", name],
                   check=True, capture_output=True,
                   env={**os.environ, "NUAGE_DB": server.db} if server.db else None)   # the server's metadata
    return Account(access, secret, name, hashlib.sha256(name.encode()).hexdigest())


def client_for(server: NuageServer, account: Account, service: str = "s3") -> Any:
    return server.client(service, access_key=account.access_key, secret_key=account.secret_key)


def anonymous_client(server: NuageServer) -> Any:
    from botocore import UNSIGNED

    return server.client(signature_version=UNSIGNED)
