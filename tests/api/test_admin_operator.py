"""The operator's experience of `nuage admin` (issue 17, finding 7), through the real CLI against a real server:
every --help without a key or a server, sizes with units, both sets of key variables (for `nuage query` too),
deleting a tenant, listing and revoking its keys, and every tenant's usage at once."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from nuage.cli.admin import admin as admin_group
from nuage.cli.main import main
from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, SQLITE_ONLY, NuageServer
from tests.support.tenant_removal import removal_holds
from tests.support.workers import on_worker, start_workers

KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NUAGE_ROOT_ACCESS_KEY", "NUAGE_ROOT_SECRET_KEY")
AWS_PAIR = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
ROOT_PAIR = {"NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}


def invoke(args: list[str], **env: str) -> Result:
    """`nuage ARGS` with only the key variables given here (the others removed from the environment)."""
    environment: dict[str, str | None] = {name: None for name in KEY_VARIABLES}
    environment.update(env)
    return CliRunner().invoke(main, args, env=environment)


def admin(server: NuageServer, *args: str) -> Result:
    """`nuage admin ARGS` with the operator's key in both pairs of variables (tests of the variables below)."""
    return invoke(["admin", *args], NUAGE_ENDPOINT=server.endpoint, **AWS_PAIR, **ROOT_PAIR)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def admin_json(server: NuageServer, *args: str) -> Any:
    return json.loads(ok(admin(server, "--json", *args)))


def refused(result: Result, code: str) -> str:
    """The one-line error of a refused command (exit 1), naming ``code``."""
    assert result.exit_code == 1, result.output
    assert f"Error: {code}: " in result.output and "Traceback" not in result.output, result.output
    assert result.output.strip().count("\n") == 0, result.output
    return result.output


def new_tenant(server: NuageServer, prefix: str = "t") -> tuple[str, dict[str, Any]]:
    """A tenant created through the CLI, with its first root key."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    ok(admin(server, "tenant", "create", name))
    return name, admin_json(server, "tenant", "key", "create", name)


def s3_error(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as exc:
        call()
    return str(exc.value.response["Error"]["Code"])


# -- --help of every command, without a key and without a server -----------------------------------------------
def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


ADMIN_PATHS = _command_paths(admin_group)


@pytest.mark.parametrize("path", ADMIN_PATHS, ids=["admin " + " ".join(p) for p in ADMIN_PATHS])
def test_help_needs_no_key_and_no_server(path: tuple[str, ...]) -> None:
    result = invoke(["admin", *path, "--help"], NUAGE_ENDPOINT="http://127.0.0.1:9")   # nothing listens there
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ") and "Traceback" not in result.output, result.output


def test_help_lists_the_new_commands_and_the_key_variables() -> None:
    assert ADMIN_PATHS.count(("tenant", "delete")) == ADMIN_PATHS.count(("keys", "list")) == 1
    assert ("keys", "revoke") in ADMIN_PATHS
    text = ok(invoke(["admin", "--help"]))
    assert "AWS_ACCESS_KEY_ID" in text and "NUAGE_ROOT_ACCESS_KEY" in text
    assert "GiB" in ok(invoke(["admin", "quota", "set", "--help"]))


def test_a_command_without_a_key_says_what_to_set() -> None:
    result = invoke(["admin", "tenant", "list"], NUAGE_ENDPOINT="http://127.0.0.1:9")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "AWS_ACCESS_KEY_ID" in result.output and "AWS_SECRET_ACCESS_KEY" in result.output, result.output


# -- sizes with units -------------------------------------------------------------------------------------------
SIZES = {"10G": 10 * 1024**3, "10GiB": 10 * 1024**3, "10GB": 10 * 1000**3, "500M": 500 * 1024**2,
         "500MB": 500 * 1000**2, "1.5T": int(1.5 * 1024**4), "2TB": 2 * 1000**4, "64KiB": 65536,
         "1048576": 1048576, "0": 0}


@pytest.mark.parametrize(("text", "expected"), SIZES.items(), ids=list(SIZES))
def test_quota_sizes_take_units(server: NuageServer, text: str, expected: int) -> None:
    name, _ = new_tenant(server, "size")
    ok(admin(server, "quota", "set", "--tenant", name, "--max-bytes", text))
    assert admin_json(server, "usage", "--tenant", name)["quota"]["max_bytes"] == expected


@pytest.mark.parametrize("text", ["10X", "ten", "-5", "1.5", "10 G B", ""])
def test_a_bad_size_is_a_one_line_usage_error(server: NuageServer, text: str) -> None:
    name, _ = new_tenant(server, "badsize")
    result = admin(server, "quota", "set", "--tenant", name, "--max-bytes", text)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--max-bytes" in errors[0] and "Traceback" not in result.output, result.output
    assert "GiB" in errors[0], result.output   # the error says which units there are
    assert admin_json(server, "usage", "--tenant", name)["quota"]["max_bytes"] is None


# -- the key variables: AWS_* (documented) and NUAGE_ROOT_*, for nuage admin and nuage query ----------------------
@pytest.mark.parametrize("pair", [AWS_PAIR, ROOT_PAIR], ids=["AWS_*", "NUAGE_ROOT_*"])
def test_admin_and_query_read_both_key_variables(server: NuageServer, pair: dict[str, str]) -> None:
    listing = json.loads(ok(invoke(["admin", "--json", "tenant", "list"], NUAGE_ENDPOINT=server.endpoint, **pair)))
    assert listing["tenants"]
    jobs = invoke(["query", "--jobs", "--endpoint", server.endpoint], **pair)
    assert jobs.exit_code == 0 and "ID" in jobs.output, jobs.output


def test_the_aws_pair_comes_first_and_pairs_never_mix(server: NuageServer) -> None:
    wrong = {"NUAGE_ROOT_ACCESS_KEY": "AKIAWRONGWRONGWRONG1", "NUAGE_ROOT_SECRET_KEY": "wrong" * 8}
    ok(invoke(["admin", "tenant", "list"], NUAGE_ENDPOINT=server.endpoint, **AWS_PAIR, **wrong))
    # an AWS access key without its secret is not completed with NUAGE_ROOT_SECRET_KEY
    result = invoke(["admin", "tenant", "list"], NUAGE_ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=ACCESS_KEY,
                    NUAGE_ROOT_ACCESS_KEY=ACCESS_KEY, NUAGE_ROOT_SECRET_KEY=SECRET_KEY)
    assert result.exit_code == 2 and "AWS_SECRET_ACCESS_KEY" in result.output, result.output
    # options win over the environment
    ok(invoke(["admin", "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "tenant", "list"],
              NUAGE_ENDPOINT=server.endpoint, **wrong))


# -- deleting a tenant --------------------------------------------------------------------------------------------
def test_tenant_delete_refuses_while_it_owns_buckets_then_removes_everything(server: NuageServer) -> None:
    name, root = new_tenant(server, "gone")
    s3 = server.client(access_key=root["access_key"], secret_key=root["secret_key"])
    iam = server.client("iam", access_key=root["access_key"], secret_key=root["secret_key"])
    iam.create_user(UserName="dev")
    user_key = iam.create_access_key(UserName="dev")["AccessKey"]
    iam.put_user_policy(UserName="dev", PolicyName="all", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="dev")
    buckets = [unique_bucket_name("gone"), unique_bucket_name("gone")]
    for bucket in buckets:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=buckets[0], Key="k", Body=b"data")
    user_s3 = server.client(access_key=user_key["AccessKeyId"], secret_key=user_key["SecretAccessKey"])
    assert user_s3.get_object(Bucket=buckets[0], Key="k")["Body"].read() == b"data"

    message = refused(admin(server, "tenant", "delete", name), "DeleteConflict")
    assert "2 buckets" in message and "delete them first" in message
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == sorted(buckets)   # nothing was removed
    assert user_s3.get_object(Bucket=buckets[0], Key="k")["Body"].read() == b"data"

    s3.delete_object(Bucket=buckets[0], Key="k")
    for bucket in buckets:
        s3.delete_bucket(Bucket=bucket)
    deleted = admin_json(server, "tenant", "delete", name)
    assert (deleted["name"], deleted["users"], deleted["groups"], deleted["policies"], deleted["keys"]) == (
        name, 1, 1, 1, 2)
    for client in (s3, user_s3):
        assert s3_error(client.list_buckets) == "InvalidAccessKeyId"
    iam_after = server.client("iam", access_key=root["access_key"], secret_key=root["secret_key"])
    assert s3_error(iam_after.list_users) == "InvalidClientTokenId"   # IAM's name for an unknown key
    assert name not in [t["name"] for t in admin_json(server, "tenant", "list")["tenants"]]
    refused(admin(server, "keys", "list", "--tenant", name), "NoSuchEntity")
    refused(admin(server, "tenant", "delete", name), "NoSuchEntity")
    # the name is free again, for a new tenant with nothing of the old one's
    ok(admin(server, "tenant", "create", name))
    assert admin_json(server, "keys", "list", "--tenant", name)["keys"] == []


def test_the_operator_account_cannot_be_deleted(server: NuageServer) -> None:
    owner = server.client().list_buckets()["Owner"]["ID"]
    operator = next(t for t in admin_json(server, "tenant", "list")["tenants"] if t["canonical_id"] == owner)
    refused(admin(server, "tenant", "delete", operator["account_id"]), "OperatorAccount")
    ok(admin(server, "tenant", "list"))


# -- a tenant's keys: list and revoke -------------------------------------------------------------------------------
def test_keys_list_shows_every_key_without_secrets_and_revoke_deletes_one(server: NuageServer) -> None:
    name, root = new_tenant(server, "keys")
    iam = server.client("iam", access_key=root["access_key"], secret_key=root["secret_key"])
    iam.create_user(UserName="ci")
    first = iam.create_access_key(UserName="ci")["AccessKey"]
    second = iam.create_access_key(UserName="ci")["AccessKey"]
    iam.update_access_key(UserName="ci", AccessKeyId=second["AccessKeyId"], Status="Inactive")

    listing = admin_json(server, "keys", "list", "--tenant", name)
    got = {(k["access_key"], k["user"], k["status"]) for k in listing["keys"]}
    assert got == {(root["access_key"], None, "Active"), (first["AccessKeyId"], "ci", "Active"),
                   (second["AccessKeyId"], "ci", "Inactive")}
    assert all(isinstance(k["created"], float) for k in listing["keys"])
    table = ok(admin(server, "keys", "list", "--tenant", name))
    text = json.dumps(listing) + table
    for secret in (root["secret_key"], first["SecretAccessKey"], second["SecretAccessKey"]):
        assert secret not in text
    assert "secret" not in text.lower()
    assert "(root)" in table and "Inactive" in table and first["AccessKeyId"] in table

    user_s3 = server.client(access_key=first["AccessKeyId"], secret_key=first["SecretAccessKey"])
    assert s3_error(user_s3.list_buckets) == "AccessDenied"   # authenticated: a user without policy
    revoked = admin_json(server, "keys", "revoke", first["AccessKeyId"])
    assert (revoked["tenant"], revoked["user"], revoked["deleted"]) == (name, "ci", True)
    assert s3_error(user_s3.list_buckets) == "InvalidAccessKeyId"
    assert first["AccessKeyId"] not in json.dumps(admin_json(server, "keys", "list", "--tenant", name))
    s3 = server.client(access_key=root["access_key"], secret_key=root["secret_key"])
    s3.list_buckets()   # the tenant's other keys still work
    refused(admin(server, "keys", "revoke", first["AccessKeyId"]), "NoSuchEntity")
    refused(admin(server, "keys", "revoke", "AKIANOSUCHKEY0000000"), "NoSuchEntity")
    # the key the operator signs with is not revoked by its own request
    refused(admin(server, "keys", "revoke", ACCESS_KEY), "OperatorKey")
    ok(admin(server, "tenant", "list"))


# -- every tenant's usage -------------------------------------------------------------------------------------------
def test_usage_without_tenant_lists_every_tenant(server: NuageServer) -> None:
    tenants = []
    for size in (3, 7):
        name, root = new_tenant(server, "use")
        s3 = server.client(access_key=root["access_key"], secret_key=root["secret_key"])
        bucket = unique_bucket_name("use")
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="k", Body=b"x" * size)
        tenants.append((name, size))
    ok(admin(server, "quota", "set", "--tenant", tenants[0][0], "--max-bytes", "1KiB"))
    listing = admin_json(server, "usage")
    by_name = {t["name"]: t for t in listing["tenants"]}
    for name, size in tenants:
        assert (by_name[name]["bytes"], by_name[name]["objects"], len(by_name[name]["buckets"])) == (size, 1, 1)
    assert by_name[tenants[0][0]]["quota"]["max_bytes"] == 1024
    rows = [line.split() for line in ok(admin(server, "usage")).splitlines()]
    assert rows[0] == ["TENANT", "ACCOUNT", "STATUS", "BUCKETS", "BYTES", "OBJECTS", "MAX", "BYTES", "MAX", "OBJECTS"]
    first, second = (by_name[name] for name, _ in tenants)
    assert [first["name"], first["account_id"], "Active", "1", "3", "1", "1024", "-"] in rows
    assert [second["name"], second["account_id"], "Active", "1", "7", "1", "-", "-"] in rows


# -- several worker processes: a revoked key and a deleted tenant's keys are refused by the other worker too ----------
def test_revoke_and_delete_hold_across_worker_processes(tmp_path: Path) -> None:
    """The admin calls land on either worker (the CLI opens its own connections), the keys are used on worker 1:
    three rounds make it all but certain that some changes were made on worker 0. On SQLite the other worker
    sees a change at its next request; on PostgreSQL when the change's notification arrives."""
    bound = 0.5 if os.environ.get("NUAGE_TEST_DB") == "postgresql" else 0.0
    srv = start_workers(tmp_path / "data")
    conn = on_worker(srv, 1)
    try:
        for _ in range(3):
            removal_holds(srv, (srv, conn), bound)
    finally:
        conn.close()
        assert srv.stop() == 0, srv.log()


# -- a tenant named in Chinese: its name in the path of a signed call ------------------------------------------------
def test_a_tenant_named_in_chinese_is_addressed_by_name(server: NuageServer) -> None:
    """botocore signs the admin API's path as every AWS service but S3 does (each segment encoded twice):
    a tenant name outside ASCII in the path must verify as well (it answered SignatureDoesNotMatch)."""
    name = f"云计算-{uuid.uuid4().hex[:6]}"
    ok(admin(server, "tenant", "create", name))
    key = admin_json(server, "tenant", "key", "create", name)
    assert key["access_key"]
    listing = admin_json(server, "keys", "list", "--tenant", name)
    assert [k["access_key"] for k in listing["keys"]] == [key["access_key"]]
    ok(admin(server, "tenant", "suspend", name))
    ok(admin(server, "tenant", "activate", name))
    ok(admin(server, "tenant", "delete", name))


@SQLITE_ONLY
def test_tenant_delete_removes_its_budget_and_keeps_its_invoices(server: NuageServer) -> None:
    """A deleted tenant's budget is no longer evaluated (its row goes with the account); what was billed stays."""
    name, _ = new_tenant(server, "budget")
    ok(admin(server, "budget", name, "--set", "12.50"))
    account = admin_json(server, "tenant", "list")
    account_id = next(t["account_id"] for t in account["tenants"] if t["name"] == name)
    with sqlite3.connect(server.data_dir / "meta.sqlite3") as conn:
        assert conn.execute("SELECT amount FROM budgets WHERE account_id=?", (account_id,)).fetchall() == [("12.50",)]
    ok(admin(server, "tenant", "delete", name))
    with sqlite3.connect(server.data_dir / "meta.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM budgets WHERE account_id=?", (account_id,)).fetchone() == (0,)
