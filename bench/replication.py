"""Replication lag: from an acknowledged PUT in one region to the object being listed (readable) in
another, under a steady write load of 4 KiB objects and then of 1 MiB objects.

Two real `nuage serve` processes on loopback (cn-hangzhou -> us-west-1, fsync on, as always), one
region registry file. Writers PUT new keys at a fixed rate with presigned URLs over http.client; a
watcher lists the destination bucket every few milliseconds (ListObjectsV2 with start-after, so each
poll returns only keys not seen yet) and notes when each key shows up. Lag = seen - acknowledged, so it
includes up to one poll interval and one LIST round trip. Prints numbers, asserts nothing.

    .venv/bin/python bench/replication.py [--seconds 10] [--rate-4k 100] [--rate-1m 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

ACCESS, SECRET = "BENCHREPLKEY00000001", "bench-replication-secret-0000000000000"
SRC, DST = "cn-hangzhou", "us-west-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(tmp: Path, region: str, port: int, registry: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS, "NUAGE_ROOT_SECRET_KEY": SECRET,
           "NUAGE_CONSOLE_PORT": "0"}   # the console on a free port of its own
    log = open(tmp / f"{region}.log", "wb")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "serve", "--port", str(port), "--region",
                             region, "--data", str(tmp / region), "--regions", str(registry)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{region} did not start; see {tmp / region}.log")


def client(port: int, region: str) -> Any:
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                        aws_access_key_id=ACCESS, aws_secret_access_key=SECRET,
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))


class Watcher(threading.Thread):
    """Lists the destination over and over; notes when each expected key first shows up."""

    def __init__(self, port: int, bucket: str, interval: float) -> None:
        super().__init__(daemon=True)
        self.port, self.bucket, self.interval = port, bucket, interval
        self.s3 = client(port, DST)
        self.expected: set[str] = set()
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def expect(self, key: str) -> None:
        with self.lock:
            self.expected.add(key)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        key_re = re.compile(rb"<Key>([^<]+)</Key>")
        while not self.stop.is_set():
            with self.lock:
                unseen = sorted(self.expected - self.seen.keys())
            if unseen:
                after = min(unseen)
                params = {"Bucket": self.bucket, "MaxKeys": 1000, "StartAfter": after[:-1]}
                url = self.s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=3600)
                parts = urlsplit(url)
                conn.request("GET", f"{parts.path}?{parts.query}")
                body = conn.getresponse().read()
                now = time.monotonic()
                with self.lock:
                    for raw in key_re.findall(body):
                        self.seen.setdefault(raw.decode(), now)
            time.sleep(self.interval)


def run_load(src_port: int, dst_port: int, bucket: str, size: int, rate: float, seconds: float,
             interval: float) -> dict[str, object]:
    s3 = client(src_port, SRC)
    watcher = Watcher(dst_port, bucket + "-replica", interval)
    watcher.start()
    body = os.urandom(size)
    acked: dict[str, float] = {}
    total = int(rate * seconds)
    t0 = time.monotonic()
    local = threading.local()

    def put(i: int) -> None:
        due = t0 + i / rate
        time.sleep(max(0.0, due - time.monotonic()))
        key = f"k{i:07d}"
        url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
        parts = urlsplit(url)
        conn = getattr(local, "conn", None) or http.client.HTTPConnection("127.0.0.1", src_port, timeout=60)
        local.conn = conn
        watcher.expect(key)
        conn.request("PUT", f"{parts.path}?{parts.query}", body=body, headers={"Content-Length": str(size)})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"PUT {key}: HTTP {response.status}")
        acked[key] = time.monotonic()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(total)))
    elapsed = time.monotonic() - t0
    deadline = time.monotonic() + 60
    while len(watcher.seen.keys() & acked.keys()) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop.set()
    watcher.join()
    lags = sorted(max(0.0, watcher.seen[k] - acked[k]) for k in acked if k in watcher.seen)
    missing = total - len(lags)

    def pct(p: float) -> float:
        return lags[min(len(lags) - 1, int(len(lags) * p))] * 1000 if lags else float("nan")

    return {"size": size, "writes": total, "write_rate": round(total / elapsed, 1), "p50_ms": round(pct(0.5), 1),
            "p99_ms": round(pct(0.99), 1), "max_ms": round(lags[-1] * 1000, 1) if lags else None,
            "mean_ms": round(statistics.fmean(lags) * 1000, 1) if lags else None, "missing": missing}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each load (default 10)")
    ap.add_argument("--rate-4k", type=float, default=100.0, help="4 KiB PUTs per second (default 100)")
    ap.add_argument("--rate-1m", type=float, default=10.0, help="1 MiB PUTs per second (default 10)")
    ap.add_argument("--poll", type=float, default=0.005, help="destination poll interval, seconds")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nuage-bench-repl-") as tmpdir:
        tmp = Path(tmpdir)
        ports = {SRC: free_port(), DST: free_port()}
        registry = tmp / "regions.json"
        registry.write_text(json.dumps({"regions": [
            {"name": name, "endpoint": f"http://127.0.0.1:{port}", "access_key": f"BENCHREPL{n}".ljust(20, "0"),
             "secret_key": f"bench-replication-{name}", "accept_from": [SRC] if name == DST else []}
            for n, (name, port) in enumerate(ports.items())]}))
        procs = [start(tmp, name, port, registry) for name, port in ports.items()]
        try:
            src, dst = client(ports[SRC], SRC), client(ports[DST], DST)
            results = []
            for size, rate in ((4096, args.rate_4k), (1024 * 1024, args.rate_1m)):
                name = f"bench-{size}"
                src.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": SRC})
                dst.create_bucket(Bucket=name + "-replica", CreateBucketConfiguration={"LocationConstraint": DST})
                for client_, bucket in ((src, name), (dst, name + "-replica")):
                    client_.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
                src.put_bucket_replication(Bucket=name, ReplicationConfiguration={
                    "Role": "arn:aws:iam::000000000000:role/bench", "Rules": [{
                        "ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Enabled"},
                        "Destination": {"Bucket": f"arn:aws:s3:::{name}-replica"}}]})
                print(f"{size} B objects at {rate}/s for {args.seconds} s ...", file=sys.stderr, flush=True)
                results.append(run_load(ports[SRC], ports[DST], name, size, rate, args.seconds, args.poll))
            print(f"{'object':>8} {'writes':>7} {'rate/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
                  f"{'missing':>7}")
            for r in results:
                print(f"{r['size']:>8} {r['writes']:>7} {r['write_rate']:>7} {r['p50_ms']:>8} {r['p99_ms']:>8} "
                      f"{r['max_ms']!s:>8} {r['missing']:>7}")
            print(json.dumps({"load_average": os.getloadavg(), "results": results}))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)


if __name__ == "__main__":
    main()
