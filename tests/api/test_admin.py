"""`nuage admin` against a real server: tenants, their first key, suspension, quotas and usage."""

from __future__ import annotations

import json
import uuid
from typing import Any

import click
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from nuage.cli.admin import AdminClient
from nuage.cli.main import main
from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def run(server: NuageServer, *args: str) -> str:
    env = {"NUAGE_ENDPOINT": server.endpoint, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY,
           "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    result = CliRunner().invoke(main, ["admin", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def run_json(server: NuageServer, *args: str) -> Any:
    return json.loads(run(server, "--json", *args))


def test_tenant_lifecycle_with_cli(server: NuageServer) -> None:
    name = f"acme-{uuid.uuid4().hex[:8]}"
    created = run_json(server, "tenant", "create", name)
    assert created["name"] == name and created["status"] == "Active" and len(created["account_id"]) == 12
    assert name in run(server, "tenant", "list")
    key = run_json(server, "tenant", "key", "create", name)
    s3 = server.client(access_key=key["access_key"], secret_key=key["secret_key"])
    bucket = unique_bucket_name("adm")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello")
    assert bucket not in [b["Name"] for b in server.client().list_buckets()["Buckets"]]

    run(server, "quota", "set", "--bucket", bucket, "--max-objects", "1")
    run(server, "quota", "set", "--tenant", name, "--max-bytes", "1000")
    usage = run_json(server, "usage", "--tenant", name)
    assert usage["bytes"] == 5 and usage["objects"] == 1 and usage["quota"]["max_bytes"] == 1000
    assert usage["buckets"] == [{"name": bucket, "bytes": 5, "objects": 1,
                                 "quota": {"max_bytes": None, "max_objects": 1}}]
    table = run(server, "usage", "--tenant", name)
    assert bucket in table and "TOTAL" in table
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="second", Body=b"x")
    assert exc.value.response["Error"]["Code"] == "QuotaExceeded"

    suspended = run_json(server, "tenant", "suspend", name)
    assert suspended["status"] == "Suspended"
    for call in (lambda: s3.list_objects_v2(Bucket=bucket), lambda: s3.list_buckets(),
                 lambda: s3.get_object(Bucket=bucket, Key="hello.txt")):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    iam = server.client("iam", access_key=key["access_key"], secret_key=key["secret_key"])
    with pytest.raises(ClientError) as exc:
        iam.list_users()
    assert (exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied", 403)
    query = AdminClient(server.endpoint, key["access_key"], key["secret_key"], server.region, service="nuage-query")
    with pytest.raises(click.ClickException) as refused:   # the SQL jobs API refuses it too (not a 500)
        query.call("GET", "/query/jobs")
    assert refused.value.message.startswith("AccessDenied:")
    run(server, "tenant", "activate", name)
    assert s3.get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hello"


def test_admin_api_refuses_non_operators(server: NuageServer) -> None:
    name = f"other-{uuid.uuid4().hex[:8]}"
    admin = AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY)
    admin.call("POST", "/admin/tenants", {"name": name})
    key = admin.call("POST", f"/admin/tenants/{name}/keys")
    import click

    with pytest.raises(click.ClickException, match="AccessDenied"):
        AdminClient(server.endpoint, key["access_key"], key["secret_key"]).call("GET", "/admin/tenants")
    with pytest.raises(click.ClickException, match="SignatureDoesNotMatch"):
        AdminClient(server.endpoint, ACCESS_KEY, "wrong" * 8).call("GET", "/admin/tenants")
    with pytest.raises(click.ClickException, match="TenantAlreadyExists"):
        admin.call("POST", "/admin/tenants", {"name": name})
    with pytest.raises(click.ClickException, match="NoSuchEntity"):
        admin.call("POST", "/admin/tenants/no-such-tenant/suspend")
    operator = next(t for t in admin.call("GET", "/admin/tenants")["tenants"]
                    if t["canonical_id"] == server.client().list_buckets()["Owner"]["ID"])
    with pytest.raises(click.ClickException, match="OperatorAccount"):
        admin.call("POST", f"/admin/tenants/{operator['account_id']}/suspend")


def test_bucket_named_admin_still_reaches_s3(server: NuageServer) -> None:
    s3 = server.client()
    try:
        s3.create_bucket(Bucket="admin")
    except ClientError as exc:
        assert exc.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
    s3.put_object(Bucket="admin", Key="tenants", Body=b"data")
    assert s3.get_object(Bucket="admin", Key="tenants")["Body"].read() == b"data"
