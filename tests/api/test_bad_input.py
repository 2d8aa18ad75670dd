"""Input that once made the server answer 500: paths that are not UTF-8, and a full disk. Each gets the
error S3 (or, for a full disk, MinIO) sends, never an InternalError nor a traceback in the log."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import rawhttp
from tests.support.server import SQLITE_ONLY, NuageServer


@pytest.fixture
def bucket(server: NuageServer) -> str:
    name = f"bad-{uuid.uuid4().hex[:16]}"
    assert rawhttp.request(server, "PUT", f"/{name}").status == 200
    return name


@pytest.mark.parametrize("key", ["%FF%FE", "%C3%28", "ok/%80", "%ED%A0%80"])   # the last: a lone surrogate
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
@pytest.mark.parametrize("signed", [True, False])
def test_a_key_that_is_not_utf8_is_an_invalid_uri(server: NuageServer, bucket: str, key: str, method: str,
                                                  signed: bool) -> None:
    """As S3: 400 InvalidURI, signed or anonymous (before anything looks the key up)."""
    reply = rawhttp.request(server, method, f"/{bucket}/{key}", signed=signed,
                            body=b"x" if method == "PUT" else b"")
    assert reply.status == 400
    if method != "HEAD":
        assert reply.code == "InvalidURI"


def test_a_bucket_name_that_is_not_utf8_is_an_invalid_uri(server: NuageServer) -> None:
    reply = rawhttp.request(server, "GET", "/%FFbucket/key")
    assert reply.status == 400 and reply.code == "InvalidURI"


def test_utf8_keys_still_work(server: NuageServer, bucket: str) -> None:
    path = f"/{bucket}/%C3%A9t%C3%A9%20%F0%9F%8C%A7"   # "été 🌧"
    assert rawhttp.request(server, "PUT", path, body=b"rain").status == 200
    reply = rawhttp.request(server, "GET", path)
    assert reply.status == 200 and reply.body == b"rain"


# -- a full disk ------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs (root can mount one; skipped where mounting is not allowed)."""
    mount = tmp_path / "data"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        why = f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}"
        if os.environ.get("CI"):   # CI runs as root: the full-disk test must run there
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@SQLITE_ONLY
def test_a_full_disk_answers_507_and_the_server_recovers(small_disk: Path) -> None:
    """ENOSPC while writing an object's file, and SQLite's "database or disk is full" while committing
    small (inline) objects: 507 XML InsufficientStorage, which SDKs do not retry blindly (they retry
    500, 502, 503 and 504), the reason logged once and not per request; once space is freed, writes
    succeed again (here: the operator adds space)."""
    srv = NuageServer(small_disk, env={"NUAGE_DIRECT_IO": "0"}).start()
    try:
        assert rawhttp.request(srv, "PUT", "/full").status == 200
        # past the free space by less than what the server reads of a body after an error (so that the
        # client, which sends the whole body before it reads, gets the answer and not a reset)
        stat = os.statvfs(small_disk)
        free = stat.f_bavail * stat.f_frsize
        big = rawhttp.request(srv, "PUT", "/full/big", body=b"b" * (free + 256 * 1024))
        assert big.status == 507 and big.code == "InsufficientStorage", big.body
        # the partial file is gone: what fits is stored
        assert rawhttp.request(srv, "PUT", "/full/fits", body=b"f" * (free // 3)).status == 200
        statuses = []
        for i in range(400):   # small objects (in the metadata rows) until SQLite finds the disk full too
            reply = rawhttp.request(srv, "PUT", f"/full/small-{i}", body=b"s" * 12_000)
            statuses.append(reply.status)
            if reply.status != 200:
                assert reply.status == 507 and reply.code == "InsufficientStorage", reply.body
                if statuses.count(507) >= 3:
                    break
        assert 507 in statuses and 500 not in statuses
        # Full up, SQLite cannot commit even a delete (its write-ahead log needs room): the operator adds
        # space, and the server, which kept running, stores again.
        assert rawhttp.request(srv, "DELETE", "/full/fits").status in (204, 507)
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
        assert rawhttp.request(srv, "PUT", "/full/after", body=b"a" * 10_000).status == 200
        assert rawhttp.request(srv, "GET", "/full/after").body == b"a" * 10_000
        assert rawhttp.request(srv, "PUT", "/full/big", body=b"b" * free).status == 200
    finally:
        srv.stop()
    log = srv.log()
    assert log.count("storage is full") == 1, log[-3000:]
    assert "Traceback" not in log


@pytest.mark.parametrize("value", ["%00", "a%0D%0Ab", "%1F", "%7F"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_response_header_override_with_a_control_character_is_refused(server: NuageServer, bucket: str,
                                                                        value: str, method: str) -> None:
    """response-content-type and the like become response headers, which cannot carry control characters:
    400 InvalidArgument, where the response could not be sent at all (the connection was dropped)."""
    assert rawhttp.request(server, "PUT", f"/{bucket}/k", body=b"x").status == 200
    reply = rawhttp.request(server, method, f"/{bucket}/k?response-content-type={value}")
    assert reply.status == 400
    if method == "GET":
        assert reply.code == "InvalidArgument"
    assert rawhttp.request(server, method, f"/{bucket}/k?response-content-type=text%2Fplain%09x").status == 200


def test_an_empty_iam_user_name_is_refused_not_read_as_the_caller(server: NuageServer) -> None:
    """IAM reads a missing UserName as "the caller"; an empty one is a ValidationError. Read as the caller,
    a form with an empty user field (the console's "delete user") deleted the root's own keys."""
    import botocore.exceptions

    iam = server.client("iam", parameter_validation=False)
    key = iam.create_access_key()["AccessKey"]["AccessKeyId"]   # a second key of the root user
    try:
        with pytest.raises(botocore.exceptions.ClientError) as err:
            iam.delete_access_key(UserName="", AccessKeyId=key)
        assert err.value.response["Error"]["Code"] == "ValidationError"
        with pytest.raises(botocore.exceptions.ClientError) as err:
            iam.update_access_key(UserName="", AccessKeyId=key, Status="Inactive")
        assert err.value.response["Error"]["Code"] == "ValidationError"
        keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys()["AccessKeyMetadata"]}
        assert keys.get(key) == "Active"
    finally:
        iam.delete_access_key(AccessKeyId=key)
