"""Listing at scale: ListObjectsV2 over a bucket of 1,000,000 keys (or --keys N).

The bucket's metadata rows are written straight into a fresh SQLite metadata store with the
store's own row encoding (zero-byte objects, so no blob files), because uploading a million
objects through HTTP would take most of an hour and measures PUT, not LIST. Then a real
`nuage serve` answers the listings over HTTP: requests are presigned by boto3 and sent with
http.client, and the client reads only KeyCount and the continuation token from each body, so the
times are the server's (plus loopback), not boto3's XML parsing. Prints numbers, asserts nothing.

    .venv/bin/python bench/list_scale.py [--keys 1000000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from nuage.storage.meta.records import BucketRecord, ObjectRecord
from nuage.storage.meta.sqlite.codec import object_params
from nuage.storage.meta.sqlite.objects import INSERT_OBJECT
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore

ACCESS, SECRET, OWNER = "BENCHLISTKEY00000001", "bench-list-secret-000000000000000000000", "b" * 64
BUCKET = "scale"


def key_of(i: int) -> str:
    return f"dir{i // 1000:04d}/file{i:07d}.csv"


def populate(data: Path, n: int) -> float:
    store = SQLiteMetadataStore(data / "meta.sqlite3", fsync=False)
    import asyncio

    asyncio.run(store.create_bucket(BucketRecord(BUCKET, OWNER, "us-east-1", time.time())))
    store.close()
    started = time.perf_counter()
    conn = sqlite3.connect(data / "meta.sqlite3", isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    batch = 50_000
    now = time.time()
    for lo in range(0, n, batch):
        rows = [object_params(ObjectRecord(bucket=BUCKET, key=key_of(i), version_id="null", size=0,
                                           etag="d41d8cd98f00b204e9800998ecf8427e", last_modified=now, owner=OWNER))
                for i in range(lo, min(n, lo + batch))]
        conn.execute("BEGIN")
        conn.executemany(INSERT_OBJECT, rows)
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000, max(samples) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--walk-pages", type=int, default=0, help="pages to walk in the full walk (0 = all)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nuage-list-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "root-credentials.json").write_text(json.dumps(
            {"access_key": ACCESS, "secret_key": SECRET, "owner_id": OWNER, "display_name": "bench"}))
        fill = populate(data, args.keys)
        print(f"populated {args.keys:,} keys in {fill:.1f}s "
              f"(metadata {os.path.getsize(data / 'meta.sqlite3') / 1e6:.0f} MB)", flush=True)
        port = free_port()
        env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS, "NUAGE_ROOT_SECRET_KEY": SECRET,
               "NUAGE_CONSOLE_PORT": "0"}   # the console on a free port of its own
        proc = subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "serve", "--port", str(port),
                                 "--data", str(data)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=ACCESS,
                              aws_secret_access_key=SECRET, region_name="us-east-1",
                              config=Config(s3={"addressing_style": "path"}))
            conn = http.client.HTTPConnection("127.0.0.1", port)

            def listing(**params: object) -> tuple[int, str | None]:
                url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": BUCKET, "MaxKeys": 1000,
                                                                           **params}, ExpiresIn=3600)
                parts = urlsplit(url)
                conn.request("GET", f"{parts.path}?{parts.query}")
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{resp.status}: {body[:300]!r}")
                count = re.search(rb"<KeyCount>(\d+)</KeyCount>", body)
                token = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", body)
                return int(count.group(1)) if count else 0, token.group(1).decode() if token else None

            rows = []
            first = timed(lambda: listing(), 20)
            rows.append(("first page (1000 keys)", *first))
            middle = key_of(args.keys // 2)
            mid = timed(lambda: listing(StartAfter=middle), 20)
            rows.append(("page from the middle (start-after)", *mid))
            pre = timed(lambda: listing(Prefix=f"dir{(args.keys // 2000):04d}/"), 20)
            rows.append(("prefix page (one directory)", *pre))
            deli = timed(lambda: listing(Delimiter="/"), 5)
            rows.append(("delimiter '/' page (1000 prefixes)", *deli))
            print(f"{'listing':40} {'p50 ms':>10} {'max ms':>10}")
            for name, p50, worst in rows:
                print(f"{name:40} {p50:10.1f} {worst:10.1f}")
            pages, seen = 0, 0
            started = time.perf_counter()
            token: str | None = None
            while True:
                count, token = listing(**({"ContinuationToken": token} if token else {}))
                pages += 1
                seen += count
                if token is None or (args.walk_pages and pages >= args.walk_pages):
                    break
            took = time.perf_counter() - started
            print(f"full walk: {seen:,} keys in {pages} pages, {took:.1f}s "
                  f"({seen / took:,.0f} keys/s, {took / pages * 1000:.1f} ms/page)")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)


if __name__ == "__main__":
    main()
