"""Checks that the state every process of a region must agree on holds across processes: console sign-out,
the console's sign-in throttle, and IAM changes (a key disabled, enabled again or deleted). Used with two
worker processes of one `nuage serve --workers 2` (SQLite) and with two gateways on one PostgreSQL.

Console requests each go on a fresh connection, which the kernel hands to either worker; S3 and IAM
requests go on connections pinned to a known worker (tests/support/workers.py)."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support import rawhttp
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

REPLAYS = 24           # fresh connections per check: all of them on one worker of two is a 1 in 2**23 chance
THROTTLE_LIMIT = 10    # the console's failed sign-ins per name and client address


def console_status(server: NuageServer, path: str, cookie: str) -> int:
    """The status of a console GET with ``cookie`` as its session, on a fresh connection."""
    parts = urlsplit(server.console_endpoint)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": f"nuage_console={cookie}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def sign_out_holds(signing: NuageServer, others: list[NuageServer]) -> None:
    """A session signed in and out through ``signing`` is refused by every process of ``others`` (the
    same server for workers), while it worked there before the sign-out."""
    console = ConsoleClient(signing.console_endpoint)
    assert console.sign_in(ACCESS_KEY, SECRET_KEY).status == 303
    assert console.get("/buckets").status == 200
    cookie = console.cookie()
    assert cookie is not None
    for server in others:
        assert [console_status(server, "/buckets", cookie) for _ in range(REPLAYS)] == [200] * REPLAYS
    assert console.post("/logout", {}).status == 303
    for server in others:
        # signed out: every replay goes to the sign-in page, whichever process it reaches
        assert [console_status(server, "/buckets", cookie) for _ in range(REPLAYS)] == [303] * REPLAYS


def throttle_holds(servers: list[NuageServer]) -> None:
    """Failed sign-ins spread over ``servers`` (and over the workers of each) are refused after exactly
    the limit of one process."""
    clients = [ConsoleClient(server.console_endpoint) for server in servers]
    for client in clients:
        assert client.get("/login").status == 200
    name = "AKNOBODY" + uuid.uuid4().hex[:12].upper()
    statuses = [clients[i % len(clients)].post("/login", {"access_key": name, "secret_key": "wrong"}).status
                for i in range(THROTTLE_LIMIT + 6)]
    assert statuses == [401] * THROTTLE_LIMIT + [429] * 6


def throttle_holds_at_once(servers: list[NuageServer], attempts: int = 24) -> None:
    """Failed sign-ins sent all at once, spread over ``servers`` (and over the workers of each), are checked
    no more than the limit."""
    clients = [ConsoleClient(servers[i % len(servers)].console_endpoint) for i in range(attempts)]
    for client in clients:
        assert client.get("/login").status == 200
    name = "AKNOBODY" + uuid.uuid4().hex[:12].upper()
    start = threading.Barrier(attempts)

    def attempt(client: ConsoleClient) -> int:
        start.wait()
        return client.post("/login", {"access_key": name, "secret_key": "wrong"}).status

    with ThreadPoolExecutor(attempts) as pool:
        statuses = sorted(pool.map(attempt, clients))
    assert statuses == [401] * THROTTLE_LIMIT + [429] * (attempts - THROTTLE_LIMIT)


def _iam(server: NuageServer, conn: http.client.HTTPConnection, action: str, **params: str) -> rawhttp.Reply:
    """An IAM API call as the root user, on ``conn``."""
    body = urlencode({"Action": action, "Version": "2010-05-08", **params}).encode()
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "iam", server.region).add_auth(req)
    conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    return rawhttp.Reply(resp.status, resp.headers, resp.read())


def _list_buckets(server: NuageServer, conn: http.client.HTTPConnection, key: tuple[str, str]) -> rawhttp.Reply:
    headers = rawhttp.sign(server, "GET", "/", access_key=key[0], secret_key=key[1])
    conn.request("GET", "/", headers=headers)
    resp = conn.getresponse()
    return rawhttp.Reply(resp.status, resp.headers, resp.read())


def _until(server: NuageServer, conn: http.client.HTTPConnection, key: tuple[str, str], expected: int,
           bound: float, code: str | None = None) -> rawhttp.Reply:
    """ListBuckets with ``key`` on ``conn`` until it answers ``expected`` (with the error ``code``, when
    given), for at most ``bound`` seconds (once when 0); the last answer."""
    deadline = time.monotonic() + bound
    while True:
        reply = _list_buckets(server, conn, key)
        if (reply.status == expected and (code is None or reply.code == code)) or time.monotonic() >= deadline:
            return reply
        time.sleep(0.01)


def key_changes_hold(changing: tuple[NuageServer, http.client.HTTPConnection],
                     using: tuple[NuageServer, http.client.HTTPConnection], bound: float = 0.0) -> None:
    """An IAM user's access key, used through ``using`` (so cached there); disabled, enabled again and
    deleted through ``changing``: each change applies on ``using`` within ``bound`` seconds (0: at its
    next request)."""
    admin, admin_conn = changing
    server, conn = using
    user = f"shared-{uuid.uuid4().hex[:8]}"
    allow = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    assert _iam(admin, admin_conn, "CreateUser", UserName=user).status == 200
    assert _iam(admin, admin_conn, "PutUserPolicy", UserName=user, PolicyName="all",
                PolicyDocument=allow).status == 200
    created = _iam(admin, admin_conn, "CreateAccessKey", UserName=user)
    assert created.status == 200, created.body
    key = (_text(created.body, "AccessKeyId"), _text(created.body, "SecretAccessKey"))
    for srv, c in ((admin, admin_conn), (server, conn)):   # a new key: cached on both now
        assert _until(srv, c, key, 200, 1.0).status == 200

    # each step's answer differs from the one before it (the key deleted after its policy: AccessDenied
    # becomes InvalidAccessKeyId), so waiting for it waits for that change to arrive, not for an old state
    steps = [("UpdateAccessKey", {"Status": "Inactive"}, 403, "InvalidAccessKeyId"),
             ("UpdateAccessKey", {"Status": "Active"}, 200, None),
             ("DeleteUserPolicy", {"PolicyName": "all"}, 403, "AccessDenied"),
             ("DeleteAccessKey", {}, 403, "InvalidAccessKeyId")]
    for action, params, expected, code in steps:
        if action == "DeleteUserPolicy":
            reply = _iam(admin, admin_conn, action, UserName=user, **params)
        else:
            reply = _iam(admin, admin_conn, action, UserName=user, AccessKeyId=key[0], **params)
        assert reply.status == 200, reply.body
        got = _until(server, conn, key, expected, bound, code)
        assert (got.status, got.code) == (expected, code or got.code), (action, got.status, got.body)
    assert _list_buckets(server, conn, key).code == "InvalidAccessKeyId"


def _text(body: bytes, tag: str) -> str:
    start = body.index(f"<{tag}>".encode()) + len(tag) + 2
    return body[start:body.index(f"</{tag}>".encode(), start)].decode()
