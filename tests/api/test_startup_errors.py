"""Issue 17, operator experience: what a command cannot use ends it with one line naming it, never a
traceback. A $NUAGE_* variable that must be a number and is not; a damaged meta.sqlite3 met by `nuage db`
and `nuage scrub`; an empty console.key; a missing keys/master.key while the metadata holds objects that it
encrypted (and, at read time, an object whose data key does not open: a clean 500 and one log line)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.api.test_serve_startup import nuage, refused, serve_args
from tests.support.server import SQLITE_ONLY, NuageServer


# -- $NUAGE_* numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("variable", "value"), [("NUAGE_HTTP_MAX_CONNECTIONS", "abc"), ("NUAGE_WORKERS", "x"),
                                                 ("NUAGE_LIFECYCLE_DAY_SECONDS", "-"), ("NUAGE_INLINE_MAX", "1.5"),
                                                 ("NUAGE_WORKERS", "0"), ("NUAGE_FSYNC", "maybe")])
def test_a_variable_that_is_not_a_number_is_one_line(tmp_path: Path, variable: str, value: str) -> None:
    data = tmp_path / "data"
    env = {variable: value}
    args = [a for a in serve_args(data) if a not in ("--workers", "1")]   # (the flag would win over the variable)
    line = refused(nuage(*args, env_extra=env), f"${variable}", value)
    assert "Traceback" not in line
    assert not data.exists()
    # every command that reads the settings says the same
    refused(nuage("scrub", "--data", str(data), env_extra=env), f"${variable}")
    refused(nuage("db", "check", "--data", str(data), env_extra=env), f"${variable}")
    refused(nuage("keys", "add", "--data", str(data), "--access-key", "AKIAKEYSADDTEST00001", "--secret-key",
                  "s" * 40, "--name", "n", env_extra=env), f"${variable}")
    assert not data.exists()


def test_several_bad_variables_are_all_named(tmp_path: Path) -> None:
    result = nuage(*serve_args(tmp_path / "data"), env_extra={"NUAGE_HTTP_MAX_CONNECTIONS": "abc",
                                                              "NUAGE_SCRUB_RATE": "fast"})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "$NUAGE_HTTP_MAX_CONNECTIONS" in result.stderr and "$NUAGE_SCRUB_RATE" in result.stderr


# -- a damaged meta.sqlite3 -----------------------------------------------------------------------------------
@SQLITE_ONLY
@pytest.mark.parametrize("content", [b"this is not a SQLite database\n" * 200,
                                     b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_metadata_database_is_named_by_every_command(tmp_path: Path, content: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "meta.sqlite3").write_bytes(content)
    for command in (["db", "check"], ["db", "migrate"], ["scrub"], ["scrub", "--json"]):
        refused(nuage(*command, "--data", str(data)), str(data / "meta.sqlite3"))
    assert (data / "meta.sqlite3").read_bytes() == content


# -- an empty console.key -------------------------------------------------------------------------------------
def _started_once(data: Path) -> NuageServer:
    srv = NuageServer(data).start()
    assert srv.stop() == 0
    return srv


@pytest.mark.parametrize("content", [b"", b"short"])
def test_an_empty_console_key_is_refused(tmp_path: Path, content: bytes) -> None:
    data = tmp_path / "data"
    srv = _started_once(data)
    key_file = data / "secrets" / "console.key"
    assert len(key_file.read_bytes()) == 32
    key_file.write_bytes(content)
    for workers in ("1", "2"):
        refused(nuage(*serve_args(data, "--workers", workers, db=srv.db)), str(key_file))
        assert key_file.read_bytes() == content     # nothing made in its place
    refused(nuage(*serve_args(data, db=srv.db), env_extra={"NUAGE_CONSOLE_KEY": "tiny"}), "$NUAGE_CONSOLE_KEY")
    key_file.unlink()    # removed: a new one is made (console users sign in again)
    again = NuageServer(data, port=0).start()
    assert again.stop() == 0
    assert len(key_file.read_bytes()) == 32


# -- a missing master key -------------------------------------------------------------------------------------
def _encrypt_something(srv: NuageServer, what: str) -> None:
    s3 = srv.client()
    s3.create_bucket(Bucket="sealed")
    if what == "upload":   # a multipart upload begun, not completed: its data key is sealed too
        s3.create_multipart_upload(Bucket="sealed", Key="big", ServerSideEncryption="AES256")
    else:
        s3.put_object(Bucket="sealed", Key="k", Body=b"secret bytes", ServerSideEncryption=what)
    s3.put_object(Bucket="sealed", Key="plain", Body=b"plain bytes")


@pytest.mark.parametrize("what", ["AES256", "aws:kms", "upload"])
def test_a_missing_master_key_stops_the_start_up(tmp_path: Path, what: str) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data).start()
    try:
        _encrypt_something(srv, what)
    finally:
        assert srv.stop() == 0
    key_file = data / "keys" / "master.key"
    saved = key_file.read_bytes()
    key_file.unlink()
    for workers in ("1", "2"):
        refused(nuage(*serve_args(data, "--workers", workers, db=srv.db)), str(key_file))
        assert not key_file.exists()      # no new key made in its place
    # restored, the objects read again
    key_file.write_bytes(saved)
    again = NuageServer(data, port=0).start()
    try:
        if what != "upload":
            assert again.client().get_object(Bucket="sealed", Key="k")["Body"].read() == b"secret bytes"
    finally:
        assert again.stop() == 0


def test_a_missing_master_key_is_made_when_nothing_needs_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data).start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="plain")
        s3.put_object(Bucket="plain", Key="k", Body=b"plain bytes")
        # SSE-C objects are sealed with the customer's key, not the master key
        s3.put_object(Bucket="plain", Key="c", Body=b"customer bytes", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(os.urandom(32)).decode()[:32])
    finally:
        assert srv.stop() == 0
    key_file = data / "keys" / "master.key"
    key_file.unlink()
    again = NuageServer(data, port=0).start()
    assert again.stop() == 0
    assert key_file.exists()


def test_a_data_key_that_does_not_open_is_a_clean_internal_error(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data).start()
    try:
        _encrypt_something(srv, "AES256")
    finally:
        assert srv.stop() == 0
    (data / "keys" / "master.key").write_bytes(base64.b64encode(os.urandom(32)) + b"\n")   # another key
    again = NuageServer(data, port=0).start()
    try:
        s3 = again.client()
        sent: list[str] = []     # (the client retries a 500 once: one log line per request)
        s3.meta.events.register("before-send.s3.GetObject", lambda request, **_: sent.append(request.url))
        with pytest.raises(ClientError) as caught:
            s3.get_object(Bucket="sealed", Key="k")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert caught.value.response["Error"]["Code"] == "InternalError"
        assert str(data) not in str(caught.value.response["Error"].get("Message"))
        attempts = len(sent)
        assert s3.get_object(Bucket="sealed", Key="plain")["Body"].read() == b"plain bytes"
    finally:
        assert again.stop() == 0      # (fails on a traceback in the log)
    said = [line for line in again.log().splitlines() if "does not open with this server's master key" in line]
    assert attempts >= 1 and len(said) == attempts, again.log()
    assert again.faults() == []
