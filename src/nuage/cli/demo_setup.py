"""The set-up steps of `nuage demo`, each through a public API of a running region: the admin API (a tenant,
its first key, its quota), the IAM API (a user, its policy and key: the boto3 ``iam`` client's calls) and
S3 (buckets, versioning, replication, the sample objects), with botocore's clients (a runtime dependency).

Every step can be run again: what exists already is taken as it is (a set-up cut short by Ctrl-C is
finished by the next ``nuage demo --data DIR``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from nuage.cli.admin import AdminClient
from nuage.cli.i18n import _

TENANT = "shop"
USER = "analyst"
SOURCE_BUCKET = "shop-orders"            # in the first region
REPLICA_BUCKET = "shop-orders-replica"   # in the second
REPLICATED_PREFIX = "orders/"
QUOTA_BYTES = 1 << 30
#: object key -> sample file name
OBJECTS = {"orders/orders.csv": "orders.csv", "orders/orders.parquet": "orders.parquet",
           "catalog/products.json": "products.json"}
CONTENT_TYPES = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet", ".json": "application/json"}


@dataclass(frozen=True)
class Region:
    name: str
    endpoint: str
    console: str


@dataclass
class Key:
    access_key: str
    secret_key: str

    def as_dict(self) -> dict[str, str]:
        return {"access_key": self.access_key, "secret_key": self.secret_key}


class State:
    """What the set-up made, kept in ``DATA/demo.json`` (mode 0600: it holds keys) as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def key(self, region: str, who: str) -> Key | None:
        found = self.data.get("keys", {}).get(region, {}).get(who)
        return Key(found["access_key"], found["secret_key"]) if isinstance(found, dict) else None

    def set_key(self, region: str, who: str, key: Key) -> None:
        self.data.setdefault("keys", {}).setdefault(region, {})[who] = key.as_dict()
        self.save()

    @property
    def ready(self) -> bool:
        return bool(self.data.get("ready"))

    def mark_ready(self) -> None:
        self.data["ready"] = True
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(self.data, indent=2) + "\n")
        tmp.replace(self.path)


def root_key(data_dir: Path) -> Key:
    """The region's operator key, which ``nuage serve`` keeps in its data folder."""
    creds = json.loads((data_dir / "root-credentials.json").read_text())
    return Key(creds["access_key"], creds["secret_key"])


def _client(service: str, region: Region, key: Key) -> Any:
    from botocore.config import Config  # type: ignore[import-untyped]
    from botocore.session import get_session  # type: ignore[import-untyped]

    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=10, read_timeout=60)
    return get_session().create_client(service, region_name=region.name, endpoint_url=region.endpoint,
                                       aws_access_key_id=key.access_key, aws_secret_access_key=key.secret_key,
                                       config=config)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def tenant(region: Region, operator: Key, state: State) -> tuple[Key, str]:
    """The tenant (admin API), its quota, and a root key of it (kept in the state); and its account id (the
    same tenant name in both regions is one account for replication)."""
    admin = AdminClient(region.endpoint, operator.access_key, operator.secret_key, region.name)
    try:
        admin.call("POST", "/admin/tenants", {"name": TENANT})
    except click.ClickException as exc:
        if not exc.message.startswith("TenantAlreadyExists"):
            raise
    quota = admin.call("PUT", "/admin/quotas", {"tenant": TENANT, "max_bytes": QUOTA_BYTES, "max_objects": None})
    key = state.key(region.name, "root")
    if key is None:
        made = admin.call("POST", f"/admin/tenants/{TENANT}/keys")
        key = Key(made["access_key"], made["secret_key"])
        state.set_key(region.name, "root", key)
    return key, str(quota["account_id"])


def user(region: Region, owner: Key, state: State) -> Key:
    """The IAM user (IAM API), allowed to list, read and write the demo buckets, and a key of it."""
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    iam = _client("iam", region, owner)
    try:
        iam.create_user(UserName=USER)
    except ClientError as exc:   # the user an earlier run made is fine
        if _code(exc) != "EntityAlreadyExists":
            raise
    buckets = [f"arn:aws:s3:::{b}" for b in (SOURCE_BUCKET, REPLICA_BUCKET)]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning",
                                       "s3:GetReplicationConfiguration"], "Resource": buckets},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
                                       "s3:DeleteObject"], "Resource": [f"{b}/*" for b in buckets]}]}
    iam.put_user_policy(UserName=USER, PolicyName="demo-shop", PolicyDocument=json.dumps(policy))
    key = state.key(region.name, "user")
    if key is None:
        made = iam.create_access_key(UserName=USER)["AccessKey"]
        key = Key(made["AccessKeyId"], made["SecretAccessKey"])
        state.set_key(region.name, "user", key)
    return key


def bucket(region: Region, owner: Key, name: str) -> None:
    """A versioned bucket in the region (S3)."""
    from botocore.exceptions import ClientError

    s3 = _client("s3", region, owner)
    try:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region.name})
    except ClientError as exc:   # the bucket an earlier run made is fine
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def replication(region: Region, owner: Key, account: str) -> None:
    """The rule that ships what is written under ``orders/`` to the replica bucket (S3, as on AWS)."""
    _client("s3", region, owner).put_bucket_replication(Bucket=SOURCE_BUCKET, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{account}:role/demo-replication",
        "Rules": [{"ID": "orders-to-replica", "Priority": 1, "Status": "Enabled",
                   "Filter": {"Prefix": REPLICATED_PREFIX}, "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{REPLICA_BUCKET}"}}]})


def upload(region: Region, owner: Key, files: dict[str, Path]) -> None:
    s3 = _client("s3", region, owner)
    for key, name in OBJECTS.items():
        path = files[name]
        with path.open("rb") as body:
            s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=body, ContentType=CONTENT_TYPES[path.suffix])


def wait_replicated(region: Region, owner: Key, timeout: float = 60.0) -> float:
    """Seconds until every object under the replicated prefix is COMPLETED on the source (confirmed by the
    other region); a ClickException when one FAILED or the time is up."""
    s3 = _client("s3", region, owner)
    keys = [k for k in OBJECTS if k.startswith(REPLICATED_PREFIX)]
    start = time.monotonic()
    while True:
        statuses = {k: s3.head_object(Bucket=SOURCE_BUCKET, Key=k).get("ReplicationStatus") for k in keys}
        if all(s == "COMPLETED" for s in statuses.values()):
            return time.monotonic() - start
        failed = [k for k, s in statuses.items() if s == "FAILED"]
        if failed or time.monotonic() - start > timeout:
            raise click.ClickException(_("replication of {keys} did not complete: {statuses}").format(
                keys=", ".join(failed or keys), statuses=statuses))
        time.sleep(0.05)
