"""docs/postgresql.md, step by step, with the real command lines: a role and a database made with psql and
createdb, `nuage db check` and `nuage db migrate`, a gateway on PostgreSQL, a SQLite deployment moved with
`nuage db copy`, and two gateways on one database and one data folder. Only what names this machine
changes: the throw-away cluster's address instead of 127.0.0.1:5432, a temporary folder instead of
/srv/nuage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import unique_bucket_name
from tests.support.postgres import SUPERUSER, PostgresCluster
from tests.support.server import NuageServer


def nuage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nuage.cli.main", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def as_superuser(pg: PostgresCluster, tool: str, *args: str) -> None:
    """`sudo -u postgres TOOL ...` of the doc: here the cluster's superuser over its TCP port."""
    done = subprocess.run([str(pg.bindir / tool), "-h", "127.0.0.1", "-p", str(pg.port), "-U", SUPERUSER, *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_postgresql_guide_runs_as_written(pg: PostgresCluster, tmp_path: Path) -> None:
    # Setting up: a role and a database of its own
    role, dbname = "nuage_doc", "nuage_doc"
    as_superuser(pg, "psql", "-d", "postgres", "-c", f"CREATE ROLE {role} LOGIN PASSWORD 'change-me'")
    as_superuser(pg, "createdb", "-O", role, dbname)
    url = f"postgresql://{role}:change-me@127.0.0.1:{pg.port}/{dbname}"

    # Schema migrations: check says what is missing (exit 1), migrate applies it, check is then content
    missing = nuage("db", "check", "--db", url)
    assert missing.returncode == 1, missing.stdout + missing.stderr
    assert nuage("db", "migrate", "--db", url).returncode == 0
    done = nuage("db", "check", "--db", url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "change-me" not in done.stdout + done.stderr

    # Moving a SQLite deployment onto PostgreSQL: stop it, copy its metadata into an empty database
    data = tmp_path / "srv-nuage"
    sqlite = NuageServer(data).start()
    bucket = unique_bucket_name("doc")
    sqlite.client().create_bucket(Bucket=bucket)
    sqlite.client().put_object(Bucket=bucket, Key="kept.txt", Body=b"from SQLite")
    assert sqlite.stop() == 0, sqlite.log()
    assert nuage("db", "check", "--data", str(data)).returncode == 0   # without --db: the SQLite database
    as_superuser(pg, "createdb", "-O", role, "nuage_moved")
    moved = f"postgresql://{role}:change-me@127.0.0.1:{pg.port}/nuage_moved"
    copied = nuage("db", "copy", "--from", f"sqlite:{data}", "--to", moved)
    assert copied.returncode == 0, copied.stdout + copied.stderr

    # Several gateways: the same data folder and database, the first one started alone
    first = NuageServer(data, db=moved).start()
    second = NuageServer(data, db=moved).start()
    try:
        for gateway in (first, second):
            body = gateway.client().get_object(Bucket=bucket, Key="kept.txt")["Body"].read()
            assert body == b"from SQLite"
        first.client().put_object(Bucket=bucket, Key="new.txt", Body=b"through one")
        assert second.client().get_object(Bucket=bucket, Key="new.txt")["Body"].read() == b"through one"
    finally:
        codes = [first.stop(), second.stop()]
    assert codes == [0, 0], first.log() + second.log()
