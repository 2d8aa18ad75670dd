"""`nuage backup --db postgresql://...` (issue 17): the metadata is PostgreSQL's to back up (pg_dump, run
first), and the command saves the blob files, the keys and the root credentials while the gateway runs,
and says so. pg_restore into a new database plus `nuage restore` into a new folder give a gateway that
serves every object, signed with the restored root key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer


def nuage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUAGE_")}
    return subprocess.run([sys.executable, "-m", "nuage.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_backup_with_pg_dump_restores_on_a_new_database(pg: PostgresCluster, tmp_path: Path) -> None:
    url = pg.create_database()
    srv = NuageServer(tmp_path / "data", db=url).start()
    restored: NuageServer | None = None
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="kept")
        objects = {"row": b"small, kept in the metadata", "file": bytes(range(256)) * 1000,
                   "dir/other": b"z" * 70_000}
        for key, body in objects.items():
            s3.put_object(Bucket="kept", Key=key, Body=body)
        dump = tmp_path / "nuage.dump"
        subprocess.run([str(pg.bindir / "pg_dump"), "-Fc", "-f", str(dump), url], check=True, capture_output=True)
        run = nuage("backup", str(tmp_path / "backup"), "--db", url, "--data", str(tmp_path / "data"))
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("backed up metadata (PostgreSQL: not included), 2 blobs"), run.stdout
        assert "pg_dump" in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert not (tmp_path / "backup" / "meta.sqlite3").exists()
    finally:
        assert srv.stop() == 0, srv.log()
    try:
        new_url = pg.create_database()
        subprocess.run([str(pg.bindir / "pg_restore"), "--no-owner", "-d", new_url, str(dump)], check=True,
                       capture_output=True)
        run = nuage("restore", str(tmp_path / "backup"), "--data", str(tmp_path / "restored"))
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("restored metadata (PostgreSQL: restore it with pg_restore), 2 blobs"), run.stdout
        restored = NuageServer(tmp_path / "restored", db=new_url, root_keys_from_env=False).start()
        back = restored.client()
        for key, body in objects.items():
            assert back.get_object(Bucket="kept", Key=key)["Body"].read() == body, key
    finally:
        if restored is not None:
            assert restored.stop() == 0, restored.log()
