"""The same aggregate over a ~1 GB Parquet dataset: (a) as a Nuage SQL job, (b) by DuckDB directly on the
same files on local disk. Prints both times and the ratio (a)/(b); the target is at most 1.1.

The dataset is made by DuckDB itself under /tmp (kept between runs; never in the repository), uploaded
into a fresh `nuage serve` (single PUTs, so each object is one blob file the job reads in place), then
each side runs the query a few times after a warm-up; the best time of each side is compared.

    .venv/bin/python bench/sql.py                   # ~1 GB, 16 files, 5 runs per side
    .venv/bin/python bench/sql.py --rows 20000000   # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import duckdb
from boto3.s3.transfer import TransferConfig
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS, SECRET = "BENCHSQLACCESSKEY001", "bench-sql-secret-key-000000000000000001"
QUERY = ("SELECT region, count(*) AS n, sum(amount) AS total, avg(price) AS avg_price, max(quantity) AS max_q "
         "FROM {source} WHERE quantity > 10 GROUP BY region ORDER BY region")


def make_dataset(folder: Path, rows: int, files: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"part-{i:03d}.parquet" for i in range(files)]
    if all(p.exists() for p in paths) and (folder / f"rows-{rows}").exists():
        return paths
    for p in folder.glob("*"):
        p.unlink()
    per = rows // files
    con = duckdb.connect()
    for i, p in enumerate(paths):
        con.execute(f"""COPY (SELECT {i} * {per} + x AS id,
                                   'region-' || (hash(x * 31 + {i}) % 50) AS region,
                                   (hash(x + {i}) % 1000000) / 100.0 AS amount,
                                   random() * 500 AS price,
                                   (hash(x * 7 + {i}) % 100)::INTEGER AS quantity,
                                   md5((x + {i})::VARCHAR)[:12] AS ref
                            FROM range({per}) t(x)) TO '{p}' (FORMAT PARQUET)""")
    (folder / f"rows-{rows}").touch()
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed(endpoint: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    req = AWSRequest(method=method, url=endpoint + path, data=data,
                     headers={"Content-Type": "application/json"} if data else {})
    SigV4Auth(Credentials(ACCESS, SECRET), "nuage-query", "us-east-1").add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=data or None, method=method, headers=dict(p.headers))
    with urllib.request.urlopen(r, timeout=600) as resp:
        return json.loads(resp.read())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=32_000_000)
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "nuage-bench-sql")
    args = ap.parse_args()

    t0 = time.perf_counter()
    paths = make_dataset(args.data / "parquet", args.rows, args.files)
    size = sum(p.stat().st_size for p in paths)
    print(f"dataset: {len(paths)} files, {size / 1e9:.2f} GB, {args.rows:,} rows "
          f"(ready in {time.perf_counter() - t0:.1f}s)")

    data_dir = Path(tempfile.mkdtemp(prefix="nuage-bench-sql-", dir=args.data))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS, "NUAGE_ROOT_SECRET_KEY": SECRET,
           "NUAGE_CONSOLE_PORT": "0"}   # the console on a free port of its own
    nuage = str(Path(sys.executable).with_name("nuage"))
    server = subprocess.Popen([nuage, "serve", "--port", str(port), "--data", str(data_dir)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=ACCESS,
                          aws_secret_access_key=SECRET)
        s3.create_bucket(Bucket="sales")
        t0 = time.perf_counter()
        single = TransferConfig(multipart_threshold=8 * 1024**3)
        for p in paths:
            s3.upload_file(str(p), "sales", f"2015/{p.name}", Config=single)
        print(f"upload: {time.perf_counter() - t0:.1f}s")

        job_sql = QUERY.format(source="'s3://sales/2015/*.parquet'")
        local_sql = QUERY.format(source=f"read_parquet('{args.data / 'parquet'}/*.parquet')")

        ticks = os.sysconf("SC_CLK_TCK")

        def server_cpu() -> float:
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks      # utime + stime

        def own_cpu() -> float:
            ru = resource.getrusage(resource.RUSAGE_SELF)
            return ru.ru_utime + ru.ru_stime

        def run_job() -> tuple[float, dict[str, Any]]:
            start, cpu = time.perf_counter(), server_cpu()
            job = signed(endpoint, "POST", "/query/jobs", {"sql": job_sql, "wait": 600})
            elapsed = time.perf_counter() - start
            assert job["status"] == "succeeded", job
            job_cpu.append(server_cpu() - cpu)
            return elapsed, job

        def run_local() -> float:
            start, cpu = time.perf_counter(), own_cpu()
            con = duckdb.connect()
            con.execute(local_sql).fetchall()
            con.close()
            local_cpu.append(own_cpu() - cpu)
            return time.perf_counter() - start

        job_cpu: list[float] = []
        local_cpu: list[float] = []
        run_job()
        run_local()     # warm-up: both read from the page cache afterwards
        job_cpu.clear()
        local_cpu.clear()
        job_times: list[float] = []
        job_inner: list[float] = []
        local_times: list[float] = []
        last: dict[str, Any] = {}
        for i in range(args.runs):      # alternate which side goes first
            if i % 2:
                local_times.append(run_local())
            t, last = run_job()
            job_times.append(t)
            job_inner.append(float(last["duration_seconds"]))
            if not i % 2:
                local_times.append(run_local())
        rows = signed(endpoint, "GET", f"/query/jobs/{last['id']}/result")["rows"]
        local_rows = duckdb.connect().execute(local_sql).fetchall()
        assert [(r[0], r[1]) for r in rows] == [(r[0], r[1]) for r in local_rows], "results differ"
        a, b = min(job_times), min(local_times)
        print(f"query: {QUERY.format(source='...')}")
        print(f"(a) Nuage SQL job, submit to result (HTTP, listing, permission checks for {last['objects']} "
              f"objects): best {a:.3f}s, median {statistics.median(job_times):.3f}s; "
              f"inside the job best {min(job_inner):.3f}s, median {statistics.median(job_inner):.3f}s")
        print(f"(b) DuckDB on the local files: best {b:.3f}s, median {statistics.median(local_times):.3f}s")
        print(f"ratio (a)/(b): {a / b:.3f} (best), {statistics.median(job_times) / statistics.median(local_times):.3f} "
              f"(median); target <= 1.1")
        ca, cb = statistics.median(job_cpu), statistics.median(local_cpu)
        print(f"CPU seconds (median; steadier than wall time on a shared machine): (a) server process {ca:.3f}s, "
              f"(b) DuckDB {cb:.3f}s, ratio {ca / cb:.3f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
