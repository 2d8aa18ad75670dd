"""`nuage query` prints every row of a large result (issue 17, finding 9): ``--format csv > out.csv`` writes
all 200,000 rows (streamed, not the first 1,000 without a word), ``--format json`` all of them too; with
``--max-rows``, and in a table, the rows left out are said on stderr. The real command, as a process, against
a real server."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

ROWS = 200_000


@pytest.fixture(scope="module")
def big_sql(server: NuageServer) -> str:
    """A query of 200,000 rows (two rows of a small CSV object times a range of 100,000)."""
    bucket = unique_bucket_name("rows")
    s3 = server.client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="two.csv", Body=b"a,label\n1,one\n2,\"two, quoted\"\n")
    return (f"SELECT r.range AS n, s.a, s.label FROM 's3://{bucket}/two.csv' s, range({ROWS // 2}) r "
            f"ORDER BY n, a")


def nuage_query(server: NuageServer, args: list[str], out: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NUAGE_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    with out.open("wb") as stdout:        # nuage query ... > out
        done = subprocess.run([sys.executable, "-m", "nuage.cli.main", "query", *args], stdout=stdout,
                              stderr=subprocess.PIPE, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done


def expected(n: int) -> list[list[str]]:
    return [[str(n), "1", "one"], [str(n), "2", "two, quoted"]]


def test_csv_has_every_row(server: NuageServer, big_sql: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = nuage_query(server, ["--format", "csv", big_sql], out)
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["n", "a", "label"]
    assert len(rows) == ROWS + 1, len(rows)
    assert rows[1:3] == expected(0) and rows[-2:] == expected(ROWS // 2 - 1)
    assert sorted({int(r[0]) for r in rows[1:]}) == list(range(ROWS // 2))
    assert b"left out" not in done.stderr


def test_csv_max_rows_says_what_it_left_out(server: NuageServer, big_sql: str, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = nuage_query(server, ["--format", "csv", "--max-rows", "10", big_sql], out)
    with out.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["n", "a", "label"] and len(rows) == 11
    assert rows[1:3] == expected(0)
    assert f"{ROWS - 10:,} of {ROWS:,} rows left out" in done.stderr.decode()


def test_json_has_every_row(server: NuageServer, big_sql: str, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    nuage_query(server, ["--format", "json", big_sql], out)
    rows: list[dict[str, Any]] = json.loads(out.read_bytes())
    assert len(rows) == ROWS
    assert rows[-1] == {"n": ROWS // 2 - 1, "a": 2, "label": "two, quoted"}


def test_table_says_what_it_left_out(server: NuageServer, big_sql: str, tmp_path: Path) -> None:
    done = nuage_query(server, [big_sql], tmp_path / "out.txt")
    assert f"{ROWS - 1000:,} of {ROWS:,} rows left out" in done.stderr.decode()
    assert "--format csv" in done.stderr.decode()
