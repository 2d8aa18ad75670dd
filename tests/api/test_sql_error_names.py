"""A SQL job or an S3 Select that fails on a bad object names the object (s3://bucket/key) in its error, never
a path of the server: not the blob file DuckDB read, not the copy made for it (an inline object, a BZIP2
object decompressed, a scan range cut out), in whatever form DuckDB wrote the path (issue 17, finding 8).

The server runs on a data folder given as a relative path, as ``nuage serve --data nuage-data`` does, while
DuckDB writes some paths absolute."""

from __future__ import annotations

import bz2
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.api.test_query import call
from tests.support.server import NuageServer

BUCKET = "errors"
NOT_PARQUET = b"PAR1" + b"this is not a Parquet file " * 2000 + b"PAR1"     # a blob file of its own
SMALL_NOT_PARQUET = b"tiny, not Parquet"                                    # kept in the row: copied
BAD_JSON = b'{"a": 1}\n' * 3000 + b'{"a": \n'


@pytest.fixture(scope="module")
def relative(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    data = Path(os.path.relpath(tmp_path_factory.mktemp("names") / "nuage-data"))
    assert not data.is_absolute()
    server = NuageServer(data).start()
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    for key, body in (("bad.parquet", NOT_PARQUET), ("small.parquet", SMALL_NOT_PARQUET),
                      ("bad.json", BAD_JSON), ("bad.json.bz2", bz2.compress(BAD_JSON))):
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    yield server
    assert server.stop() == 0


def assert_names_only(message: str, server: NuageServer, key: str) -> None:
    assert f"s3://{BUCKET}/{key}" in message, message
    data = server.data_dir
    for server_path in (str(data), str(data.resolve()), "blobs/", "scratch", "/tmp", "<internal>", os.getcwd()):
        assert server_path not in message, (server_path, message)


@pytest.mark.parametrize("key", ["bad.parquet", "small.parquet"])
def test_a_failing_sql_job_names_the_object(relative: NuageServer, key: str) -> None:
    status, job = call(relative, "POST", "/query/jobs",
                       {"sql": f"SELECT * FROM 's3://{BUCKET}/{key}'", "wait": 30})
    assert status == 201 and job["status"] == "failed", job
    assert job["error"]["code"] == "InvalidDataSource", job
    assert_names_only(job["error"]["message"], relative, key)
    status, again = call(relative, "GET", f"/query/jobs/{job['id']}")
    assert status == 200 and again["error"] == job["error"]


@pytest.mark.parametrize(("key", "serialization", "extra"), [
    ("bad.parquet", {"Parquet": {}}, {}),
    ("bad.json", {"JSON": {"Type": "LINES"}}, {}),
    ("bad.json.bz2", {"JSON": {"Type": "LINES"}, "CompressionType": "BZIP2"}, {}),      # a decompressed copy
    ("bad.json", {"JSON": {"Type": "LINES"}}, {"ScanRange": {"Start": 0, "End": 1 << 20}}),   # a cut copy
])
def test_a_failing_select_names_the_object(relative: NuageServer, key: str, serialization: dict[str, Any],
                                            extra: dict[str, Any]) -> None:
    s3 = relative.client()
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        answer = s3.select_object_content(Bucket=BUCKET, Key=key, Expression="SELECT * FROM S3Object",
                                          ExpressionType="SQL", InputSerialization=serialization,
                                          OutputSerialization={"CSV": {}}, **extra)
        for _ in answer["Payload"]:
            pass
    error = caught.value.response["Error"]
    assert error["Code"] in ("InvalidDataSource", "JSONParsingError"), error
    assert_names_only(error["Message"], relative, key)
