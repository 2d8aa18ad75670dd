"""The users and keys page: IAM users with their keys and access level, made and changed through the IAM
API as the signed-in user (an IAM user without IAM permissions is refused, as by the IAM API)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def test_create_user_with_access_and_a_key_that_works(server: NuageServer, console: ConsoleClient) -> None:
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    page = console.get("/users")
    assert page.status == 200 and "Your access keys" in page.text and ACCESS_KEY in page.text
    name = f"alice-{uuid.uuid4().hex[:6]}"
    page = console.post("/users/create", {"name": name, "access": "read-only"})
    assert page.status == 303, page.text
    iam = server.client("iam")
    assert name in [u["UserName"] for u in iam.list_users()["Users"]]
    assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["console-access"]
    page = console.post("/users/keys/create", {"user": name})
    assert page.status == 200
    access = re.search(r'id="new-access-key">([^<]+)<', page.text)
    secret = re.search(r'id="new-secret-key">([^<]+)<', page.text)
    assert access and secret
    s3 = server.client(access_key=access.group(1), secret_key=secret.group(1))
    s3.list_buckets()                                      # read-only: may list
    try:
        s3.create_bucket(Bucket=f"nope-{uuid.uuid4().hex[:8]}")
        raise AssertionError("a read-only user created a bucket")
    except s3.exceptions.ClientError as err:
        assert err.response["Error"]["Code"] == "AccessDenied"
    page = console.get("/users")
    block = page.text.split(f'data-user="{name}"', 1)[1].split("</article>", 1)[0]
    assert 'value="read-only" selected' in block and access.group(1) in block
    # read-write, then deactivate the key, then delete the user with its keys and policies
    assert console.post("/users/access", {"name": name, "access": "read-write"}).status == 303
    assert 'value="read-write" selected' in console.get("/users").text.split(f'data-user="{name}"', 1)[1]
    page = console.post("/users/keys/update", {"user": name, "key": access.group(1), "status": "Inactive"})
    assert page.status == 303
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    assert console.post("/users/delete", {"name": name}).status == 303
    assert name not in [u["UserName"] for u in iam.list_users()["Users"]]
    page = console.post("/users/create", {"name": "bad name!", "access": "none"})
    assert page.status == 400 and "not created" in page.text


def test_a_user_without_iam_permissions_sees_only_its_keys_and_is_refused(server: NuageServer, s3: Any) -> None:
    user = make_user(server, READ_ONLY_POLICY, "plain")
    console = ConsoleClient(server.console_endpoint)
    console.sign_in(user.access_key, user.secret_key)
    page = console.get("/users")
    assert page.status == 200
    assert "You may not list the users of this account" in page.text
    page = console.post("/users/create", {"name": "mallory", "access": "read-write"})
    assert page.status == 403 and "AccessDenied" in page.text
    assert "mallory" not in [u["UserName"] for u in server.client("iam").list_users()["Users"]]
    page = console.post("/users/keys/delete", {"key": user.access_key})
    assert page.status == 409 and "signed in with" in page.text
