"""`nuage backup` and `nuage restore` (issue 17): an online backup taken while 8 writers PUT, overwrite and
delete, restored into a new folder and served from there. Every object acknowledged before the backup began
and left alone since reads back byte-identical; an object written while the backup ran is one of the
states it went through (absent, or whole); nothing listed is unreadable. And the refusals: a non-empty
destination, a restore into a folder with data, a damaged or newer backup: one-line errors."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.support.server import SQLITE_ONLY, NuageServer
from tests.support.workers import wait_for_workers

pytestmark = SQLITE_ONLY   # the backup holds (and the corruption tests damage) the SQLite file itself

WRITERS = 8
KEYS_PER_WRITER = 12
STILL_KEYS = 24            # written once before the backup, never touched again
STRAYS = 10_000            # unreferenced files (as crashes leave): pinning them all takes a while, and writes
                           # committed meanwhile must still be in the backup
ABSENT = None              # the state of a key with no object


def nuage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUAGE_")}
    return subprocess.run([sys.executable, "-m", "nuage.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def body_for(rng: random.Random, tag: str) -> bytes:
    """Bytes that name their write; small ones stay in the metadata row, larger ones become blob files."""
    size = rng.choice((50, 900, 24 * 1024, 70 * 1024, 300 * 1024))
    head = f"{tag};".encode()
    return (head * (size // len(head) + 1))[:size]


@dataclass
class Op:
    state: bytes | None    # the object after this write (None: deleted)
    started: float
    acked: float | None    # None: failed or unanswered


def writer(client: Any, bucket: str, n: int, stop: threading.Event, history: dict[str, list[Op]]) -> None:
    rng = random.Random(n)
    count = 0
    while not stop.is_set():
        key = f"w{n}/k{rng.randrange(KEYS_PER_WRITER)}"
        count += 1
        delete = rng.random() < 0.15
        state = None if delete else body_for(rng, f"{key}#{count}")
        op = Op(state, time.monotonic(), None)
        history[key].append(op)   # each key has one writer: its operations are in order
        try:
            if delete:
                client.delete_object(Bucket=bucket, Key=key)
            else:
                client.put_object(Bucket=bucket, Key=key, Body=state)
            op.acked = time.monotonic()
        except Exception:   # noqa: BLE001 - an unanswered write may or may not have happened: both allowed
            pass


def allowed_states(ops: list[Op], backup_began: float, backup_ended: float) -> list[bytes | None]:
    """What a consistent snapshot taken between the two instants may hold for a key: the state after the
    last write acknowledged before the backup began, or after any later write sent before it ended."""
    last = max((i for i, op in enumerate(ops) if op.acked is not None and op.acked < backup_began), default=-1)
    states: list[bytes | None] = [ops[last].state if last >= 0 else ABSENT]
    states += [op.state for op in ops[last + 1:] if op.started < backup_ended]
    return states


@pytest.mark.parametrize("workers", [1, 2])
def test_an_online_backup_under_write_load_restores_every_acknowledged_object(tmp_path: Path, workers: int) -> None:
    data = tmp_path / "data"
    # two workers remove a replaced blob at once too (no grace): the backup may not count on the grace
    srv = NuageServer(data, workers=workers, env={"NUAGE_SHARED_DELETE_GRACE": "0"}).start()
    wait_for_workers(srv, workers)
    restored: NuageServer | None = None
    try:
        s3 = srv.client()
        bucket = unique_bucket_name("backup")
        s3.create_bucket(Bucket=bucket)
        rng = random.Random(7)
        still = {f"still/{i}": body_for(rng, f"still/{i}") for i in range(STILL_KEYS)}
        for key, body in still.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        s3.put_object(Bucket=bucket, Key="sealed", Body=b"s" * 50_000, ServerSideEncryption="AES256")
        still["sealed"] = b"s" * 50_000   # opened with the master key, which the backup must hold
        iam = srv.client("iam")
        iam.create_user(UserName="reader")
        iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket",
                                                    "Resource": f"arn:aws:s3:::{bucket}"}]}))
        user_key = iam.create_access_key(UserName="reader")["AccessKey"]   # sealed with the IAM key
        strays = data / "blobs" / "ff" / "ff"
        strays.mkdir(parents=True, exist_ok=True)
        for i in range(STRAYS):
            (strays / f"ffff{i:028x}").touch()
        history: dict[str, list[Op]] = {f"w{n}/k{i}": [] for n in range(WRITERS) for i in range(KEYS_PER_WRITER)}
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(srv.client(), bucket, n, stop, history))
                   for n in range(WRITERS)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            began = time.monotonic()
            run = nuage("backup", str(tmp_path / "backup"), "--data", str(data))
            ended = time.monotonic()
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("backed up metadata (schema "), run.stdout
        assert "warning" not in run.stderr, run.stderr
        during = sum(1 for ops in history.values() for op in ops if began <= op.started < ended)
        assert during > 0, "no write ran while the backup did: the test proves nothing"
        assert not any(p.name.startswith(".backup-") for p in data.iterdir()), "the staging folder stayed"

        run = nuage("restore", str(tmp_path / "backup"), "--data", str(tmp_path / "restored"))
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("restored metadata (schema "), run.stdout
        assert "warning" not in run.stderr, run.stderr
        # the root key comes from the restored root-credentials.json, not from the environment
        restored = NuageServer(tmp_path / "restored", root_keys_from_env=False).start()
        back = restored.client()
        listed = {o["Key"] for page in back.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                  for o in page.get("Contents", [])}
        bodies = {key: back.get_object(Bucket=bucket, Key=key)["Body"].read() for key in listed}   # all readable
        for key, body in still.items():
            assert bodies.get(key) == body, f"{key}: acknowledged before the backup, not restored intact"
        for key, ops in history.items():
            states = allowed_states(ops, began, ended)
            assert bodies.get(key, ABSENT) in states, f"{key}: restored as a state it never had at the backup"
        assert set(listed) <= set(still) | set(history)
        reader = restored.client(access_key=user_key["AccessKeyId"], secret_key=user_key["SecretAccessKey"])
        assert reader.list_objects_v2(Bucket=bucket, Prefix="still/")["KeyCount"] == STILL_KEYS
        assert not (tmp_path / "restored" / "blobs" / "ff" / "ff").exists(), "unreferenced files were copied"
    finally:
        if restored is not None:
            assert restored.stop() == 0, restored.log()
        assert srv.stop() == 0, srv.log()


def one_line_error(run: subprocess.CompletedProcess[str], *words: str) -> None:
    assert run.returncode == 1, run
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup of a (stopped) data folder that holds one object in a blob file."""
    base = tmp_path_factory.mktemp("backup-errors")
    srv = NuageServer(base / "data").start()
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="kept")
        s3.put_object(Bucket="kept", Key="k", Body=b"x" * 100_000)
    finally:
        assert srv.stop() == 0, srv.log()
    run = nuage("backup", str(base / "backup"), "--data", str(base / "data"))
    assert run.returncode == 0, run.stderr
    assert " 1 blobs (0.1 MB)" in run.stdout, run.stdout
    return base / "backup"


def test_backup_refuses_a_folder_that_is_not_empty(backed_up: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    one_line_error(nuage("backup", str(dest), "--data", str(backed_up.parent / "data")), "not an empty folder")
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    one_line_error(nuage("backup", str(tmp_path / "new"), "--data", str(tmp_path / "nothing")), "no Nuage data")


def test_restore_refuses_a_folder_with_data(backed_up: Path, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "meta.sqlite3").write_bytes(b"somebody's data")
    one_line_error(nuage("restore", str(backed_up), "--data", str(target)), "not an empty folder")
    assert (target / "meta.sqlite3").read_bytes() == b"somebody's data"
    one_line_error(nuage("restore", str(tmp_path), "--data", str(tmp_path / "t2")), "not a Nuage backup")


def test_restore_refuses_a_damaged_or_newer_backup(backed_up: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    subprocess.run(["cp", "-a", str(backed_up), str(damaged)], check=True)
    meta = damaged / "meta.sqlite3"
    page = sqlite3.connect(meta).execute("PRAGMA page_size").fetchone()[0]
    with open(meta, "r+b") as f:   # the b-tree pages after the first two: garbage in place of cells
        size = f.seek(0, 2)
        for offset in range(2 * page, size, page):
            f.seek(offset + 8)
            f.write(b"\xa5" * (page // 2))
    one_line_error(nuage("restore", str(damaged), "--data", str(tmp_path / "t1")), "integrity check")
    assert not (tmp_path / "t1").exists()

    newer = tmp_path / "newer"
    subprocess.run(["cp", "-a", str(backed_up), str(newer)], check=True)
    with sqlite3.connect(newer / "meta.sqlite3") as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (9999)")
    one_line_error(nuage("restore", str(newer), "--data", str(tmp_path / "t2")), "schema version 9999")
    assert not (tmp_path / "t2").exists()

    run = nuage("restore", str(backed_up), "--data", str(tmp_path / "t3"))   # the intact one restores
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "t3").iterdir()) == [
        "blobs", "keys", "meta.sqlite3", "root-credentials.json", "secrets"]


def test_a_backup_without_blobs_restores_once_the_blob_files_are_copied_in(backed_up: Path, tmp_path: Path) -> None:
    data = backed_up.parent / "data"
    run = nuage("backup", str(tmp_path / "meta-only"), "--data", str(data), "--no-blobs")
    assert run.returncode == 0, run.stderr
    assert "no blobs (--no-blobs)" in run.stdout and "copy the blob files" in run.stderr, run
    assert not (tmp_path / "meta-only" / "blobs").exists()
    run = nuage("restore", str(tmp_path / "meta-only"), "--data", str(tmp_path / "restored"))
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith("warning: 1 blobs the metadata references are not in the backup"), run.stderr
    subprocess.run(["cp", "-a", str(data / "blobs"), str(tmp_path / "restored" / "blobs")], check=True)
    srv = NuageServer(tmp_path / "restored", root_keys_from_env=False).start()
    try:
        assert srv.client().get_object(Bucket="kept", Key="k")["Body"].read() == b"x" * 100_000
    finally:
        assert srv.stop() == 0, srv.log()
