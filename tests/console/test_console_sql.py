"""The SQL page over HTTP: run a query over a stored CSV, see the result table and chart data, export CSV,
save the result to a bucket; a user who may not read the objects gets the job's AccessDenied."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from typing import Any

from tests.conftest import unique_bucket_name
from tests.console.conftest import make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

SALES = "region,amount\nnorth,10\nsouth,25\nnorth,5\neast,7\n"
QUERY = "SELECT region, sum(amount) AS total FROM 's3://{b}/sales/*.csv' GROUP BY region ORDER BY total DESC"


def run(console: ConsoleClient, sql: str, **form: str) -> str:
    console.get("/sql")
    page = console.post("/sql/run", {"sql": sql, **form})
    assert page.status == 303, page.text
    found = re.match(r"/sql/jobs/([A-Za-z0-9_-]+)$", page.location)
    assert found is not None, page.location
    return found.group(1)


def test_run_show_export_and_save(server: NuageServer, console: ConsoleClient, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="sales/2026.csv", Body=SALES.encode())
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    job = run(console, QUERY.format(b=bucket))
    page = console.get(f"/sql/jobs/{job}")
    assert page.status == 200 and 'data-status="succeeded"' in page.text
    data = json.loads(re.search(r'<script type="application/json" id="result-data">(.*?)</script>',
                                page.text, re.S).group(1))   # type: ignore[union-attr]
    assert data["columns"] == ["region", "total"]
    assert data["rows"] == [["south", 25], ["north", 15], ["east", 7]]
    assert '<td data-label="region">south</td>' in page.text
    exported = console.get(f"/sql/jobs/{job}/result.csv")
    assert exported.status == 200 and "attachment" in exported.headers["content-disposition"]
    assert [(r, float(t)) for r, t in list(csv.reader(io.StringIO(exported.text)))[1:]] == \
        [("south", 25), ("north", 15), ("east", 7)]
    saved = console.post(f"/sql/jobs/{job}/save", {"bucket": bucket, "key": "results/totals.csv"})
    assert saved.status == 303
    assert s3.get_object(Bucket=bucket, Key="results/totals.csv")["Body"].read().decode() == exported.text
    assert job[:12] in console.get("/sql").text
    # a finished job cannot be cancelled; a bad query is the API's error on the page
    assert console.post(f"/sql/jobs/{job}/cancel", {}).status in (303, 409)
    console.get("/sql")
    page = console.post("/sql/run", {"sql": ""})
    assert page.status == 400 and "sql is required" in page.text


def test_a_query_reads_only_what_the_user_may_read(server: NuageServer, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="sales/2026.csv", Body=SALES.encode())
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:ListAllMyBuckets"], "Resource": "*"}]}
    user = make_user(server, policy, "nosql")
    console = ConsoleClient(server.console_endpoint)
    console.sign_in(user.access_key, user.secret_key)
    console.get("/sql")
    page = console.post("/sql/run", {"sql": QUERY.format(b=bucket)})
    assert page.status == 403 and "AccessDenied" in page.text and "sales/2026.csv" in page.text
    assert QUERY.format(b=bucket).split(" FROM")[0] in page.text      # the query stays in the editor


def test_a_running_job_is_followed_and_can_be_cancelled(server: NuageServer, console: ConsoleClient, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="sales/2026.csv", Body=SALES.encode())
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    job = run(console, f"SELECT sum(r.range * s.amount) FROM 's3://{bucket}/sales/2026.csv' s, "
                       "range(100000000000) r")
    page = console.get(f"/sql/jobs/{job}")
    assert 'data-status="running"' in page.text
    assert 'hx-trigger="load delay:1s"' in page.text            # the page follows the job
    done = console.post(f"/sql/jobs/{job}/cancel", {})
    assert done.status == 303
    for _ in range(50):
        page = console.get(f"/sql/jobs/{job}")
        if 'data-status="cancelled"' in page.text:
            break
        time.sleep(0.2)
    assert 'data-status="cancelled"' in page.text and "hx-trigger" not in page.text
