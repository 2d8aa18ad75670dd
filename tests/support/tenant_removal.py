"""Checks that revoking a key and deleting a tenant through `nuage admin` on one process hold on another, which
had the keys cached: used with two worker processes of one `nuage serve --workers 2` (SQLite) and with two
gateways on one PostgreSQL (tests/pg/test_admin_gateways.py). The admin commands run through the real CLI
against ``changing``; the tenant's keys are used on a connection pinned to one process of ``using``."""

from __future__ import annotations

import http.client
import json
import time
import uuid

from click.testing import CliRunner

from nuage.cli.main import main
from tests.support import rawhttp
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def _admin(server: NuageServer, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["admin", "--json", *args], env={
        "NUAGE_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.output)
    return answer


def _list_buckets(server: NuageServer, conn: http.client.HTTPConnection, key: tuple[str, str]) -> rawhttp.Reply:
    conn.request("GET", "/", headers=rawhttp.sign(server, "GET", "/", access_key=key[0], secret_key=key[1]))
    resp = conn.getresponse()
    return rawhttp.Reply(resp.status, resp.headers, resp.read())


def _until(server: NuageServer, conn: http.client.HTTPConnection, key: tuple[str, str], expected: int,
           bound: float) -> rawhttp.Reply:
    deadline = time.monotonic() + bound
    while True:
        reply = _list_buckets(server, conn, key)
        if reply.status == expected or time.monotonic() >= deadline:
            return reply
        time.sleep(0.01)


def removal_holds(changing: NuageServer, using: tuple[NuageServer, http.client.HTTPConnection],
                  bound: float = 0.0) -> None:
    """A tenant's two root keys, used (so cached) on ``using``: one revoked, then the tenant deleted, through
    ``changing``; each key answers InvalidAccessKeyId on ``using`` within ``bound`` seconds (0: at once)."""
    server, conn = using
    name = f"gone-{uuid.uuid4().hex[:8]}"
    _admin(changing, "tenant", "create", name)
    keys = []
    for _ in range(2):
        created = _admin(changing, "tenant", "key", "create", name)
        keys.append((str(created["access_key"]), str(created["secret_key"])))
    for key in keys:
        assert _until(server, conn, key, 200, 1.0).status == 200   # known there now
    _admin(changing, "keys", "revoke", keys[1][0])
    revoked = _until(server, conn, keys[1], 403, bound)
    assert (revoked.status, revoked.code) == (403, "InvalidAccessKeyId"), revoked.body
    assert _list_buckets(server, conn, keys[0]).status == 200     # the other key still works
    _admin(changing, "tenant", "delete", name)
    deleted = _until(server, conn, keys[0], 403, bound)
    assert (deleted.status, deleted.code) == (403, "InvalidAccessKeyId"), deleted.body
