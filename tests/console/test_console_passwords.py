"""Console passwords of IAM users: set on the users page (argon2id hashes in the metadata store), sign-in
with account, user name and password; wrong or stale passwords are refused with one message."""

from __future__ import annotations

import re
import sqlite3
import uuid

from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

WRONG = "The account, user name or password is not right."


def root_console(server: NuageServer) -> tuple[ConsoleClient, str]:
    console = ConsoleClient(server.console_endpoint)
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    found = re.search(r"Account <code>(\d{12})</code>", console.get("/users").text)
    assert found is not None
    return console, found.group(1)


def test_password_sign_in(server: NuageServer) -> None:
    root, account = root_console(server)
    user = make_user(server, READ_ONLY_POLICY, "pw")
    page = root.post("/users/password", {"name": user.name, "password": "short"})
    assert page.status == 400 and "10 to 256 characters" in page.text
    assert root.post("/users/password", {"name": user.name, "password": "correct horse battery"}).status == 303
    block = root.get("/users").text.split(f'data-user="{user.name}"', 1)[1].split("</article>", 1)[0]
    assert "(set)" in block
    with sqlite3.connect(server.data_dir / "meta.sqlite3") as db:
        (hashed,) = db.execute("SELECT hash FROM console_passwords WHERE user_name=?", (user.name,)).fetchone()
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed

    console = ConsoleClient(server.console_endpoint)
    console.get("/login")
    for account_name, name, password in ((account, user.name, "wrong password!"), (account, "nobody", "x" * 12),
                                         ("000000000000", user.name, "correct horse battery")):
        page = console.post("/login/password", {"account": account_name, "user": name, "password": password})
        assert page.status == 401 and WRONG in page.text
    page = console.post("/login/password", {"account": account, "user": user.name,
                                            "password": "correct horse battery"})
    assert page.status == 303 and page.location == "/buckets"
    page = console.get("/buckets")
    assert page.status == 200 and user.name in page.text
    assert "Create a bucket" not in page.text          # the read-only policy applies

    # a user without an active key cannot use the console
    iam = server.client("iam")
    iam.update_access_key(UserName=user.name, AccessKeyId=user.access_key, Status="Inactive")
    other = ConsoleClient(server.console_endpoint)
    other.get("/login")
    page = other.post("/login/password", {"account": account, "user": user.name, "password": "correct horse battery"})
    assert page.status == 401 and "no active access key" in page.text


def test_removed_and_stale_passwords_are_refused(server: NuageServer) -> None:
    root, account = root_console(server)
    name = f"temp-{uuid.uuid4().hex[:6]}"
    iam = server.client("iam")
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    assert root.post("/users/password", {"name": name, "password": "a long enough one"}).status == 303
    console = ConsoleClient(server.console_endpoint)
    console.get("/login")
    creds = {"account": account, "user": name, "password": "a long enough one"}
    assert console.post("/login/password", creds).status == 303
    # removed
    assert root.post("/users/password", {"name": name, "remove": "1"}).status == 303
    fresh = ConsoleClient(server.console_endpoint)
    fresh.get("/login")
    assert fresh.post("/login/password", creds).status == 401
    # set again, then the user is deleted and made anew (through the IAM API): the old password is void
    assert root.post("/users/password", {"name": name, "password": "a long enough one"}).status == 303
    for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)
    iam.create_user(UserName=name)
    iam.create_access_key(UserName=name)
    assert fresh.post("/login/password", creds).status == 401
    # only the account root (or iam:UpdateLoginProfile) sets passwords
    plain = make_user(server, READ_ONLY_POLICY, "plain")
    other = ConsoleClient(server.console_endpoint)
    other.sign_in(plain.access_key, plain.secret_key)
    other.get("/users")
    page = other.post("/users/password", {"name": name, "password": "taking it over"})
    assert page.status == 403
