"""SQL jobs through the signed query API and `nuage query`: a prefix of 100 Parquet objects, permission
checks on every object read, results kept with the job or saved as objects, listing and cancelling."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from nuage.cli.main import main
from tests.support.accounts import add_account
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def call(server: NuageServer, method: str, path: str, body: dict[str, Any] | None = None, *,
         keys: tuple[str, str] = (ACCESS_KEY, SECRET_KEY)) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    request = AWSRequest(method=method, url=server.endpoint + path, data=data,
                         headers={"Content-Type": "application/json"} if data else {})
    SigV4Auth(Credentials(*keys), "nuage-query", server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data or None, method=method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, raw.decode() if resp.headers["content-type"] == "text/csv" else json.loads(raw)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def run_job(server: NuageServer, sql: str, output: dict[str, Any] | None = None,
            keys: tuple[str, str] = (ACCESS_KEY, SECRET_KEY)) -> dict[str, Any]:
    status, job = call(server, "POST", "/query/jobs", {"sql": sql, "output": output, "wait": 60}, keys=keys)
    assert status == 201, job
    return dict(job)


@pytest.fixture(scope="module")
def sales(server: NuageServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A bucket with 100 Parquet objects under sales/ (most small enough to be stored inline, every tenth
    a blob file) and the same files on local disk."""
    s3 = server.client()
    bucket = f"sales-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    local = tmp_path_factory.mktemp("sales")
    for i in range(100):
        rows = 4000 if i % 10 == 0 else 20
        path = local / f"part-{i:03d}.parquet"
        duckdb.sql(f"COPY (SELECT 'r' || ((x + {i}) % 4) AS region, (x * 7 + {i}) % 1000 AS amount "
                   f"FROM range({rows}) t(x)) TO '{path}' (FORMAT PARQUET)")
        s3.put_object(Bucket=bucket, Key=f"sales/2015/part-{i:03d}.parquet", Body=path.read_bytes())
    s3.put_object(Bucket=bucket, Key="sales/readme.txt", Body=b"not parquet")
    return bucket, local


def expected(local: Path) -> list[list[Any]]:
    return [list(r) for r in duckdb.sql(f"SELECT region, sum(amount)::BIGINT, count(*) FROM "
                                         f"read_parquet('{local}/*.parquet') GROUP BY 1 ORDER BY 1").fetchall()]


def test_job_over_a_prefix_of_100_parquet_objects(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, local = sales
    job = run_job(server, f"SELECT region, sum(amount)::BIGINT AS total, count(*) AS n "
                          f"FROM 's3://{bucket}/sales/2015/*.parquet' GROUP BY 1 ORDER BY 1")
    assert job["status"] == "succeeded", job
    assert job["objects"] == 100
    assert job["bytes_scanned"] == sum(p.stat().st_size for p in local.glob("*.parquet"))
    assert job["rows"] == 4 and job["columns"] == ["region", "total", "n"]
    assert job["duration_seconds"] > 0
    status, result = call(server, "GET", f"/query/jobs/{job['id']}/result")
    assert status == 200
    assert result == {"columns": ["region", "total", "n"], "rows": expected(local)}
    status, text = call(server, "GET", f"/query/jobs/{job['id']}/result?format=csv")
    assert status == 200
    assert text.splitlines()[0] == "region,total,n"
    status, one = call(server, "GET", f"/query/jobs/{job['id']}")
    assert status == 200 and one["status"] == "succeeded" and one["bytes_scanned"] == job["bytes_scanned"]
    status, listing = call(server, "GET", "/query/jobs")
    assert job["id"] in [j["id"] for j in listing["jobs"]]


def test_reader_functions_and_several_references(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, _ = sales
    s3 = server.client()
    s3.put_object(Bucket=bucket, Key="dim/regions.csv", Body=b"region,name\nr0,north\nr1,south\nr2,east\nr3,west\n")
    job = run_job(server, f"SELECT d.name, count(*) AS n "
                          f"FROM read_parquet('s3://{bucket}/sales/**/part-00?.parquet') s "
                          f"JOIN read_csv('s3://{bucket}/dim/regions.csv', header=true) d USING (region) "
                          f"GROUP BY 1 ORDER BY 1")
    assert job["status"] == "succeeded", job
    assert job["objects"] == 11
    _, result = call(server, "GET", f"/query/jobs/{job['id']}/result")
    assert [r[0] for r in result["rows"]] == ["east", "north", "south", "west"]
    assert sum(r[1] for r in result["rows"]) == 4000 + 9 * 20


def test_a_user_without_read_permission_on_one_object_is_refused(server: NuageServer,
                                                                  sales: tuple[str, Path]) -> None:
    bucket, _ = sales
    iam = server.client("iam")
    user = f"analyst-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="read-sales", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Deny", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{bucket}/sales/2015/part-042.parquet"},
        ]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    keys = (key["AccessKeyId"], key["SecretAccessKey"])
    sql = f"SELECT count(*) FROM 's3://{bucket}/sales/2015/*.parquet'"
    status, err = call(server, "POST", "/query/jobs", {"sql": sql, "wait": 30}, keys=keys)
    assert status == 403
    assert err["error"]["code"] == "AccessDenied" and "part-042.parquet" in err["error"]["message"]
    # the same user reads the objects it may read
    job = run_job(server, f"SELECT count(*) FROM 's3://{bucket}/sales/2015/part-04[0-1].parquet'", keys=keys)
    assert job["status"] == "succeeded" and job["objects"] == 2
    # another account reads nothing of the bucket, and does not see this account's jobs
    other = add_account(server)
    status, err = call(server, "POST", "/query/jobs", {"sql": sql}, keys=(other.access_key, other.secret_key))
    assert status == 403 and err["error"]["code"] == "AccessDenied"
    status, _ = call(server, "GET", f"/query/jobs/{job['id']}", keys=(other.access_key, other.secret_key))
    assert status == 404


def test_result_saved_as_an_object(server: NuageServer, sales: tuple[str, Path], tmp_path: Path) -> None:
    bucket, local = sales
    sql = (f"SELECT region, sum(amount)::BIGINT AS total, count(*) AS n FROM 's3://{bucket}/sales/2015/*.parquet' "
           f"GROUP BY 1 ORDER BY 1")
    job = run_job(server, sql, {"bucket": bucket, "key": "reports/by-region.csv", "format": "csv"})
    assert job["status"] == "succeeded", job
    body = server.client().get_object(Bucket=bucket, Key="reports/by-region.csv")["Body"].read().decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["region", "total", "n"]
    assert [[r[0], int(r[1]), int(r[2])] for r in rows[1:]] == expected(local)
    job = run_job(server, sql, {"bucket": bucket, "key": "reports/by-region.parquet", "format": "parquet"})
    assert job["status"] == "succeeded", job
    path = tmp_path / "out.parquet"
    path.write_bytes(server.client().get_object(Bucket=bucket, Key="reports/by-region.parquet")["Body"].read())
    assert [list(r) for r in duckdb.sql(f"SELECT * FROM '{path}'").fetchall()] == expected(local)
    status, err = call(server, "GET", f"/query/jobs/{job['id']}/result")
    assert status == 409 and err["error"]["code"] == "NoResult"


def test_saving_needs_write_permission(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, _ = sales
    other = add_account(server)
    own = server.client(access_key=other.access_key, secret_key=other.secret_key)
    mine = f"own-{uuid.uuid4().hex[:10]}"
    own.create_bucket(Bucket=mine)
    own.put_object(Bucket=mine, Key="t.csv", Body=b"a\n1\n2\n")
    status, err = call(server, "POST", "/query/jobs", {
        "sql": f"SELECT * FROM 's3://{mine}/t.csv'", "output": {"bucket": bucket, "key": "x.csv", "format": "csv"}},
        keys=(other.access_key, other.secret_key))
    assert status == 403 and err["error"]["code"] == "AccessDenied"


def test_cancel_a_running_job(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, _ = sales
    status, job = call(server, "POST", "/query/jobs", {
        "sql": f"SELECT sum(r.range * s.amount) FROM 's3://{bucket}/sales/2015/part-000.parquet' s, "
               f"range(100000000000) r"})
    assert status == 201
    deadline = time.time() + 20
    while job["status"] == "queued" and time.time() < deadline:
        time.sleep(0.1)
        _, job = call(server, "GET", f"/query/jobs/{job['id']}")
    status, cancelled = call(server, "POST", f"/query/jobs/{job['id']}/cancel")
    assert status == 200
    assert cancelled["status"] == "cancelled", cancelled
    assert cancelled["error"]["code"] == "QueryCancelled"
    status, _ = call(server, "GET", f"/query/jobs/{job['id']}/result")
    assert status == 409


@pytest.mark.parametrize(("sql", "status", "code"), [
    ("CREATE TABLE t AS SELECT 1", 400, "UnsupportedSqlOperation"),
    ("SELECT 1; SELECT 2", 400, "UnsupportedSyntax"),
    ("SELECT 42", 400, "InvalidQuery"),
    ("SELECT * FROM 's3://no-such-bucket-here/x.parquet'", 404, "NoSuchBucket"),
    ("SELECT * FROM 's3://{bucket}/sales/1999/*.parquet'", 404, "NoSuchKey"),
])
def test_refused_queries(server: NuageServer, sales: tuple[str, Path], sql: str, status: int, code: str) -> None:
    got, err = call(server, "POST", "/query/jobs", {"sql": sql.format(bucket=sales[0])})
    assert got == status, err
    assert err["error"]["code"] == code


def test_no_file_outside_the_named_objects(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, _ = sales
    job = run_job(server, f"SELECT * FROM read_csv('/etc/hostname'), 's3://{bucket}/sales/2015/part-001.parquet'")
    assert job["status"] == "failed"
    assert job["error"]["code"] == "AccessDenied"
    status, err = call(server, "POST", "/query/jobs", {
        "sql": f"SELECT * FROM read_text('/etc/hostname'), 's3://{bucket}/sales/2015/part-001.parquet'"})
    assert status == 400 and err["error"]["code"] == "UnsupportedFunction"


def test_cli_query(server: NuageServer, sales: tuple[str, Path]) -> None:
    bucket, local = sales
    env = {"NUAGE_ENDPOINT": server.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    sql = (f"SELECT region, sum(amount)::BIGINT AS total FROM 's3://{bucket}/sales/2015/*.parquet' "
           f"GROUP BY 1 ORDER BY 1")
    result = CliRunner().invoke(main, ["query", sql], env=env)
    assert result.exit_code == 0, result.output
    for region, total, _ in expected(local):
        assert region in result.output and str(total) in result.output
    result = CliRunner().invoke(main, ["query", "--format", "csv", sql], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-4:] == [f"{r},{t}" for r, t, _ in expected(local)]
    result = CliRunner().invoke(main, ["query", "--jobs"], env=env)
    assert result.exit_code == 0 and "succeeded" in result.output
    result = CliRunner().invoke(main, ["query", "SELECT * FROM 's3://no-such-bucket-here/x'"], env=env)
    assert result.exit_code != 0 and "NoSuchBucket" in result.output


def test_saving_respects_quotas(server: NuageServer, sales: tuple[str, Path]) -> None:
    from nuage.cli.admin import AdminClient

    bucket, _ = sales
    full = f"full-{uuid.uuid4().hex[:10]}"
    server.client().create_bucket(Bucket=full)
    AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY).call("PUT", "/admin/quotas",
                                                              {"bucket": full, "max_objects": 0})
    job = run_job(server, f"SELECT count(*) FROM 's3://{bucket}/sales/2015/part-001.parquet'",
                  {"bucket": full, "key": "out.csv", "format": "csv"})
    assert job["status"] == "failed"
    assert job["error"]["code"] == "QuotaExceeded"


@pytest.mark.parametrize(("path", "service"), [("/query/jobs", "nuage-query"), ("/admin/tenants", "nuage-admin")])
@pytest.mark.parametrize(("raw", "message"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "must be a JSON object")])
def test_json_apis_refuse_a_body_that_is_not_a_json_object(server: NuageServer, path: str, service: str, raw: bytes,
                                                           message: str) -> None:
    request = AWSRequest(method="POST", url=server.endpoint + path, data=raw,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), service, server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=raw, method="POST", headers=dict(prepared.headers))
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    err = json.loads(exc.value.read())["error"]
    exc.value.close()
    assert (exc.value.code, err["code"]) == (400, "MalformedJSON") and message in err["message"]
