#!/usr/bin/env python3
"""Nuage benchmark: Nuage against moto's S3 server, server on CPU 0, load generator on CPU 1.

Run ``bench/run.sh`` (or ``python bench/run.py``) from anywhere; see bench/README.md.
It prints numbers and never asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import datetime as dt
import functools
import hashlib
import hmac
import http.client
import itertools
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import machine  # bench/machine.py: run.py runs from bench/, which is on the path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
MOTO_VERSION = "5.2.5"
MOTO_VENV = BENCH / ".venv-moto"
SERVER_CPU = 0
CLIENT_CPU = 1
REGION = "us-east-1"
ACCESS_KEY = "BENCHACCESSKEY000001"
SECRET_KEY = "benchSecretKey/0000000000000000000000001"
KiB = 1024
MiB = 1024 * 1024
MB = 1_000_000  # MB/s and GB/s in the report are decimal (10^6, 10^9 bytes)

# Reference servers: what each row says, and the workloads each runs.
REFERENCE_SERVERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stack": ("trivial ASGI app on Nuage's HTTP stack: the ceiling here, now", ("put_4k", "get_4k", "get_1m")),
    "uvicorn": ("the same app on plain uvicorn (issue 2 quotes ~31,000 PUT/s)", ("put_4k", "get_4k")),
    "bare": ("uvloop+httptools, no ASGI (issue 2 quotes ~78,000 PUT/s)", ("put_4k", "get_4k")),
}

# Targets from issue 2 (one server core); printed next to Nuage's numbers, never asserted.
TARGETS: dict[str, tuple[str, float]] = {
    "put_4k": ("ops", 2500.0),
    "get_4k": ("ops", 10000.0),
    "get_1m": ("mbs", 1000.0),
    "put_64m": ("mbs", 350.0),
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- presigned URLs


def _q(value: str, safe: str = "-_.~") -> str:
    return urllib.parse.quote(value, safe=safe)


class Presigner:
    """SigV4 query-string signing (what boto3's generate_presigned_url does), fast enough to make
    tens of thousands of URLs in a second. Checked against boto3 by ``check_against_boto3``."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str = REGION,
                 expires: int = 7 * 24 * 3600, now: dt.datetime | None = None) -> None:
        self.host = urllib.parse.urlsplit(endpoint).netloc
        now = now or dt.datetime.now(dt.UTC)
        self.now = now
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        datestamp = now.strftime("%Y%m%d")
        self.scope = f"{datestamp}/{region}/s3/aws4_request"
        key = hmac.new(("AWS4" + secret_key).encode(), datestamp.encode(), hashlib.sha256).digest()
        for part in (region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self.signing_key = key
        self.auth_params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{access_key}/{self.scope}",
            "X-Amz-Date": self.amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }

    def path(self, method: str, bucket: str, key: str = "", params: dict[str, str] | None = None) -> str:
        """Return the presigned request target ("/bucket/key?...") for a path-style request."""
        uri = "/" + _q(bucket) + ("/" + _q(key, safe="/-_.~") if key else "")
        query = dict(params or {})
        query.update(self.auth_params)
        cqs = "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(query.items()))
        creq = "\n".join([method, uri, cqs, f"host:{self.host}\n", "host", "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        sig = hmac.new(self.signing_key, sts.encode(), hashlib.sha256).hexdigest()
        return f"{uri}?{cqs}&X-Amz-Signature={sig}"


def check_against_boto3(endpoint: str) -> None:
    """Sign the same requests with boto3 (clock frozen) and with Presigner; they must agree."""
    import botocore.auth

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    client = s3_client(endpoint)
    ours = Presigner(endpoint, ACCESS_KEY, SECRET_KEY, now=now, expires=3600)
    # botocore signs with its own code, or with awscrt's when that is installed (it is, for Nuage)
    modules = [botocore.auth]
    with contextlib.suppress(ImportError):
        import botocore.crt.auth
        modules.append(botocore.crt.auth)
    originals = [m.get_current_datetime for m in modules]

    def frozen(remove_tzinfo: bool = True) -> dt.datetime:
        return now.replace(tzinfo=None) if remove_tzinfo else now

    for m in modules:
        m.get_current_datetime = frozen  # type: ignore[assignment]
    try:
        cases = [
            ("get_object", {"Bucket": "bench", "Key": "obj/4k"}, "GET"),
            ("put_object", {"Bucket": "bench", "Key": "put/000001"}, "PUT"),
            ("list_objects_v2", {"Bucket": "bench-list", "MaxKeys": 1000}, "GET"),
            ("upload_part", {"Bucket": "bench", "Key": "mpu/x", "UploadId": "a/b+c=", "PartNumber": 3}, "PUT"),
        ]
        for op, params, method in cases:
            url = client.generate_presigned_url(op, Params=params, ExpiresIn=3600)
            parts = urllib.parse.urlsplit(url)
            q = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
            theirs = q.pop("X-Amz-Signature")[0]
            extra = {k: v[0] for k, v in q.items() if not k.startswith("X-Amz-")}
            key = params.get("Key", "")
            mine = ours.path(method, str(params["Bucket"]), str(key), extra)
            if not mine.endswith("X-Amz-Signature=" + theirs):
                raise SystemExit(f"presigner disagrees with boto3 for {op}:\n boto3: {url}\n ours:  {mine}")
    finally:
        for m, original in zip(modules, originals, strict=True):
            m.get_current_datetime = original  # type: ignore[assignment]


def s3_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"max_attempts": 2, "mode": "standard"}, read_timeout=120),
    )


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_tree_cpu_seconds(pid: int) -> float:
    """utime+stime of pid and all its descendants (threads are included in each process)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rfind(")") + 2:].split()
        stats[int(entry)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / tick)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        if p in stats:
            total += stats[p][1]
        todo.extend(c for c, (ppid, _) in stats.items() if ppid == p)
    return total


def pin(cpu: int | str, cmd: list[str], enabled: bool) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if enabled else cmd


#: one-worker variants that differ only in what the gateway observes of each request (their cost, as a ratio
#: in the same run): nothing (metering off, metrics off), or metering and Prometheus metrics both on
OBSERVATION: dict[str, dict[str, str]] = {
    "nuage-unobserved": {"NUAGE_METERING": "false"},
    "nuage-observed": {"NUAGE_METERING": "true", "NUAGE_METRICS_TOKEN": "bench-metrics-token-0123456789",
                       "NUAGE_METRICS_ALLOW": "127.0.0.1"},
}


def nuage_workers(name: str) -> int | None:
    """The worker processes of a Nuage server variant: "nuage" 1, "nuage-wN" and "nuage-pg-wN" N (the
    latter with its metadata on PostgreSQL); None for other servers."""
    if name in ("nuage", *OBSERVATION):
        return 1
    for prefix in ("nuage-w", "nuage-pg-w"):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return int(name[len(prefix):])
    return None


_postgres: list[Any] = []   # the PostgreSQL cluster of this run, started for the first nuage-pg-wN


def postgres_database() -> str:
    """A new database of this run's throw-away PostgreSQL (Debian's binaries, a free port, fsync and
    synchronous commit on: every acknowledged PUT is durable, as on SQLite)."""
    if not _postgres:
        sys.path.insert(0, str(REPO))
        from tests.support.postgres import PostgresCluster
        pinned = os.sched_getaffinity(0)   # the load generator's CPU: PostgreSQL may use any
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
        try:
            cluster = PostgresCluster(durable=True).start()
        finally:
            os.sched_setaffinity(0, pinned)
        atexit.register(cluster.stop)
        _postgres.append(cluster)
    return str(_postgres[0].create_database())


def server_cpus(workers: int) -> str:
    """The CPUs (taskset list) of a server of ``workers`` processes: the server's CPU, then others but the
    load generator's; when the machine has too few, the load generator's too (the numbers then say less)."""
    others = [c for c in range(os.cpu_count() or 1) if c not in (SERVER_CPU, CLIENT_CPU)]
    cpus = [SERVER_CPU, *others][:workers]
    if len(cpus) < workers:
        cpus.append(CLIENT_CPU)
    return ",".join(map(str, cpus))


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return proc_tree_cpu_seconds(self.proc.pid)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer within {timeout}s; log:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def ensure_moto_venv() -> Path:
    marker = MOTO_VENV / f".installed-moto-{MOTO_VERSION}"
    exe = MOTO_VENV / "bin" / "moto_server"
    if not (marker.exists() and exe.exists()):
        log(f"creating {MOTO_VENV} with moto[server]=={MOTO_VERSION} (one time)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(MOTO_VENV)], check=True)
        subprocess.run([str(MOTO_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        f"moto[server]=={MOTO_VERSION}"], check=True)
        marker.write_text(MOTO_VERSION + "\n")
    return exe


def nuage_command() -> list[str]:
    repo_bin = REPO / ".venv" / "bin" / "nuage"
    if repo_bin.exists():
        return [str(repo_bin)]
    found = shutil.which("nuage")
    if found:
        return [found]
    return [sys.executable, "-m", "nuage.cli.main"]


def start_server(name: str, args: argparse.Namespace, run_dir: Path) -> Server:
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-", dir=args.tmp))
    log_path = run_dir / f"{name}.log"
    env = dict(os.environ)
    env.pop("NUAGE_FSYNC", None)  # reported numbers are always durable writes
    info: dict[str, Any] = {"data_dir_fs": fs_type(data_dir)}
    workers = nuage_workers(name)
    if workers is not None:
        env["NUAGE_ROOT_ACCESS_KEY"] = ACCESS_KEY
        env["NUAGE_CONSOLE_PORT"] = "0"   # the console on a free port of its own
        env["NUAGE_ROOT_SECRET_KEY"] = SECRET_KEY
        if args.nuage_rev:
            # a committed revision, exported next to the run: its src/ goes first on the path of the
            # repo's venv (whose dependencies it uses)
            src = export_rev(args.nuage_rev, run_dir)
            env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
            cmd = [nuage_python(), "-m", "nuage.cli.main"]
            info["git_rev"] = args.nuage_rev + " (" + git_rev(args.nuage_rev) + ")"
        else:
            cmd = nuage_command()
            info["git_rev"] = git_rev() + " (work tree)"
        # NUAGE_WORKERS rather than --workers: a revision from before the option ignores it (one process)
        env["NUAGE_WORKERS"] = str(workers)
        for variable in ("NUAGE_METERING", "NUAGE_METRICS_TOKEN", "NUAGE_METRICS_ALLOW"):
            env.pop(variable, None)
        env.update(OBSERVATION.get(name, {}))
        if name in OBSERVATION:
            info["observation"] = OBSERVATION[name]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(data_dir)]
        info["workers"] = workers
        if name.startswith("nuage-pg-"):
            cmd += ["--db", postgres_database()]
            info["metadata"] = "PostgreSQL (throw-away cluster, fsync on, not pinned)"
    elif name == "stack":
        cmd = [nuage_python(), str(BENCH / "ceiling_app.py"), str(port)]
    elif name == "uvicorn":
        cmd = [nuage_python(), str(BENCH / "ceiling_app.py"), str(port), "plain"]
    elif name == "bare":
        cmd = [nuage_python(), str(BENCH / "bare_server.py"), str(port)]
    else:
        exe = ensure_moto_venv()
        env["TMPDIR"] = str(data_dir)  # moto spools large objects to temporary files
        env["MOTO_ALLOW_NONEXISTENT_REGION"] = "true"
        cmd = [str(exe), "-H", "127.0.0.1", "-p", str(port)]
        info["moto_version"] = MOTO_VERSION
    cmd = pin(server_cpus(workers or 1), cmd, args.pin)
    info["command"] = cmd
    log(f"starting {name}: {' '.join(cmd)}")
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=data_dir,
                                stdin=subprocess.DEVNULL)
    server = Server(name, proc, port, data_dir, log_path, info)
    server.wait_ready()
    return server


def fs_type(path: Path) -> str:
    try:
        out = subprocess.run(["df", "--output=fstype", str(path)], capture_output=True, text=True).stdout
        return out.split()[-1]
    except (OSError, IndexError):
        return "?"


def git_rev(rev: str | None = None) -> str:
    try:
        short = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", rev or "HEAD"],
                               capture_output=True, text=True).stdout.strip()
        if rev:
            return short
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        return short + ("+uncommitted changes in src/" if dirty else "")
    except OSError:
        return "?"


def nuage_python() -> str:
    repo_python = REPO / ".venv" / "bin" / "python"
    return str(repo_python) if repo_python.exists() else sys.executable


def export_rev(rev: str, run_dir: Path) -> Path:
    dest = run_dir / "nuage-src"
    if not dest.exists():
        dest.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


# --------------------------------------------------------------------------- disk probe


def disk_probe_worker(directory: str, threads: int, seconds: float) -> dict[str, float]:
    """What durable small writes cost here: create, write 4 KiB, fsync, close, rename, per file."""
    data = b"x" * (4 * KiB)
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def work(t: int) -> None:
        i = 0
        while time.monotonic() < stop:
            tmp = os.path.join(directory, f"{t}-{i}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, os.path.join(directory, f"{t}-{i}"))
            i += 1
        counts[t] = i

    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    elapsed, r1 = time.monotonic() - t0, resource.getrusage(resource.RUSAGE_SELF)
    return {"threads": threads, "files_s": sum(counts) / elapsed,
            "user_pct": 100 * (r1.ru_utime - r0.ru_utime) / elapsed,
            "sys_pct": 100 * (r1.ru_stime - r0.ru_stime) / elapsed}


def disk_probe(args: argparse.Namespace) -> list[dict[str, float]]:
    """Run the probe on the server's core, in a folder where the servers keep their data."""
    out = []
    for threads in (1, 16):
        d = tempfile.mkdtemp(prefix="bench-disk-", dir=args.tmp)
        try:
            cmd = pin(SERVER_CPU, [sys.executable, str(Path(__file__).resolve()), "--disk-probe", d,
                                   str(threads), str(args.disk_probe)], args.pin)
            res = subprocess.run(cmd, capture_output=True, text=True, check=True)
            out.append(json.loads(res.stdout))
        finally:
            shutil.rmtree(d, ignore_errors=True)
    log("disk: 4 KiB create+write+fsync+rename on the server core: " + ", ".join(
        f"{r['files_s']:,.0f} files/s with {r['threads']:.0f} thread(s) (sys {r['sys_pct']:.0f}%)" for r in out))
    return out


def machine_probes(args: argparse.Namespace, disk: list[dict[str, float]]) -> dict[str, float]:
    """The limits bench/machine.py compares with issue 2's machine: disk (from the disk probe), MD5 on
    the server's core, one loopback stream from the server's core to the load generator's."""
    probes: dict[str, float] = {}
    if disk:
        probes["fsync_files_s"] = disk[0]["files_s"]
    if args.machine_probe > 0:
        probes["md5_mb_s"] = machine.md5_probe(args.machine_probe, SERVER_CPU, args.pin)
        probes["loopback_gb_s"] = machine.loopback_probe(args.machine_probe, SERVER_CPU, args.pin)
        d = tempfile.mkdtemp(prefix="bench-floor-", dir=args.tmp)
        try:
            probes["put_floor_mb_s"] = machine.put_floor_probe(args.machine_probe, SERVER_CPU, args.pin, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        log(f"machine: MD5 {probes['md5_mb_s']:,.0f} MB/s on the server core; one loopback stream "
            f"{probes['loopback_gb_s']:.2f} GB/s; recv+MD5+write (as Nuage)+fsync {probes['put_floor_mb_s']:,.0f} MB/s")
    return probes


# --------------------------------------------------------------------------- result helpers


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


def result(requests: int, seconds: float, payload_bytes: int, lat_s: list[float] | None = None,
           p50_ms: float | None = None, p99_ms: float | None = None, errors: int = 0,
           server_cpu: float = 0.0, client_cpu: float = 0.0, **extra: Any) -> dict[str, Any]:
    if lat_s is not None:
        lat_s = sorted(lat_s)
        p50_ms = percentile(lat_s, 50) * 1000
        p99_ms = percentile(lat_s, 99) * 1000
    return {
        "requests": requests, "seconds": round(seconds, 3),
        "ops_s": requests / seconds if seconds else 0.0,
        "mb_s": payload_bytes / seconds / MB if seconds else 0.0,
        "p50_ms": p50_ms, "p99_ms": p99_ms, "errors": errors,
        "server_cpu_pct": 100 * server_cpu / seconds if seconds else 0.0,
        "client_cpu_pct": 100 * client_cpu / seconds if seconds else 0.0,
        **extra,
    }


def cpu_busy_jiffies(cpu: int) -> tuple[int, int]:
    """(busy, total) jiffies of one CPU from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]
                return sum(v[:8]) - idle, sum(v[:8])
    return 0, 0


class CpuMeter:
    """CPU seconds used by the server tree, by finished child processes (wrk) and by this process;
    and how busy the server's core was with anything else (other work on a shared machine)."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> CpuMeter:
        self.b0, self.j0 = cpu_busy_jiffies(SERVER_CPU)
        self.s0 = self.server.cpu()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.c0 = ru.ru_utime + ru.ru_stime + time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.server_cpu = self.server.cpu() - self.s0
        b1, j1 = cpu_busy_jiffies(SERVER_CPU)
        busy = (b1 - self.b0) / (j1 - self.j0) if j1 > self.j0 else 0.0
        self.other_cpu_pct = max(0.0, 100 * busy - 100 * self.server_cpu / self.seconds)
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.client_cpu = ru.ru_utime + ru.ru_stime + time.process_time() - self.c0


# --------------------------------------------------------------------------- small-op load: wrk


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(server: Server, args: argparse.Namespace, target: str, *, script: str, duration: int,
            conns: int, script_args: tuple[str, ...] = ()) -> dict[str, Any]:
    threads = args.wrk_threads
    url = server.endpoint + target
    cmd = pin(CLIENT_CPU, ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s",
                           "--timeout", "30s", "-s", str(LUA / script), url], args.pin)
    if script_args:
        cmd += ["--", *script_args]
    with CpuMeter(server) as m:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    w = json.loads(line[len("WRKJSON "):])
    errors = sum(w[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors",
                                "timeout_errors"))
    return {"wrk": w, "errors": errors, "seconds": w["duration_us"] / 1e6, "server_cpu": m.server_cpu,
            "client_cpu": m.client_cpu, "other_cpu_pct": m.other_cpu_pct}


# --------------------------------------------------------------------------- small-op load: asyncio


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    close = b"\r\nconnection: close" in lower
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
    if m:
        body = await reader.readexactly(int(m.group(1)))
    elif b"\r\ntransfer-encoding: chunked" in lower:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                    pass
                break
            chunks.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(chunks)
    else:
        body = b""
    return status, close, body


async def _async_load(port: int, requests: Iterator[bytes], conns: int, duration: float | None,
                      head_requests: bool = False) -> tuple[list[float], int, int, float, bytes]:
    latencies: list[float] = []
    errors = 0
    first_error = b""
    start = time.perf_counter()
    stop_at = start + duration if duration else None

    async def worker() -> None:
        nonlocal errors, first_error
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while stop_at is None or time.perf_counter() < stop_at:
                try:
                    req = next(requests)
                except StopIteration:
                    return
                t0 = time.perf_counter()
                writer.write(req)
                status, close, body = await _read_response(reader)
                latencies.append(time.perf_counter() - t0)
                if status >= 400:
                    errors += 1
                    first_error = first_error or body[:500]
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return latencies, len(latencies), errors, time.perf_counter() - start, first_error


def async_load(server: Server, requests: Iterator[bytes], conns: int,
               duration: float | None = None) -> dict[str, Any]:
    with CpuMeter(server) as m:
        lat, n, errors, seconds, first_error = asyncio.run(
            _async_load(server.port, requests, conns, duration))
    return {"latencies": lat, "requests": n, "errors": errors, "seconds": seconds,
            "server_cpu": m.server_cpu, "client_cpu": m.client_cpu, "first_error": first_error,
            "other_cpu_pct": m.other_cpu_pct}


def raw_request(method: str, host: str, target: str, body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/octet-stream\r\n"
    return (head + "\r\n").encode() + body


# --------------------------------------------------------------------------- the workloads


class Bench:
    def __init__(self, server: Server, args: argparse.Namespace, run_dir: Path) -> None:
        self.server = server
        self.args = args
        self.run_dir = run_dir
        self.signer = Presigner(server.endpoint, ACCESS_KEY, SECRET_KEY)
        self.host = self.signer.host
        self.client = s3_client(server.endpoint)
        self.results: dict[str, dict[str, Any]] = {}
        self.profiles: dict[str, Any] = {}

    # -- helpers
    def small(self, name: str, label: str, target: str, size: int, *, duration: int, conns: int,
              put_file: Path | None = None, put_count: int = 0, warmup: int = 0) -> None:
        """Run one small-op workload with wrk (or the asyncio fallback) and record it."""
        args = self.args
        if have_wrk() and not args.no_wrk:
            script_args: tuple[str, ...] = ()
            script = "get.lua"
            if put_file is not None:
                script, script_args = "put.lua", (str(put_file), str(size), str(args.wrk_threads))
            if warmup:
                run_wrk(self.server, args, target, script=script, duration=warmup, conns=conns,
                        script_args=script_args)
            r = run_wrk(self.server, args, target, script=script, duration=duration, conns=conns,
                        script_args=script_args)
            w = r["wrk"]
            payload = w["requests"] * size if size else w["bytes"]  # LIST: response bytes
            res = result(w["requests"], r["seconds"], payload, p50_ms=w["p50_us"] / 1000,
                         p99_ms=w["p99_us"] / 1000, errors=r["errors"], server_cpu=r["server_cpu"],
                         client_cpu=r["client_cpu"], loadgen="wrk", connections=conns, wrk=w,
                         other_on_server_core_pct=r["other_cpu_pct"])
        else:
            if put_file is not None:
                paths = put_file.read_text().split()
                body = b"x" * size
                reqs: Iterator[bytes] = (raw_request("PUT", self.host, p, body) for p in itertools.cycle(paths))
            else:
                reqs = itertools.repeat(raw_request("GET", self.host, target))
            if warmup:
                async_load(self.server, reqs, conns, warmup)
            r = async_load(self.server, reqs, conns, duration)
            res = result(r["requests"], r["seconds"], r["requests"] * size, lat_s=r["latencies"],
                         errors=r["errors"], server_cpu=r["server_cpu"], client_cpu=r["client_cpu"],
                         loadgen="python-asyncio", connections=conns,
                         other_on_server_core_pct=r["other_cpu_pct"])
        if put_file is not None:
            res["distinct_keys"] = put_count
            res["overwrites"] = max(0, res["requests"] - put_count)
        if res["errors"]:
            res["first_error"] = self.probe(target if put_file is None else
                                            put_file.read_text().split()[0],
                                            "PUT" if put_file is not None else "GET", size)
        self.record(name, label, res)

    def probe(self, target: str, method: str, size: int) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request(method, target, body=b"x" * size if method == "PUT" else None)
            resp = conn.getresponse()
            return f"{resp.status} {resp.read()[:300]!r}"
        except OSError as e:
            return repr(e)
        finally:
            conn.close()

    def record(self, name: str, label: str, res: dict[str, Any]) -> None:
        res["label"] = label
        self.results[name] = res
        err = f", {res['errors']} ERRORS ({res.get('first_error', '')})" if res["errors"] else ""
        log(f"{self.server.name:5} {label:28} {res['ops_s']:10.1f} ops/s {res['mb_s']:9.1f} MB/s "
            f"p50 {fmt_ms(res['p50_ms'])} ms p99 {fmt_ms(res['p99_ms'])} ms "
            f"server CPU {res['server_cpu_pct']:.0f}% (others on its core "
            f"{res.get('other_on_server_core_pct', 0):.0f}%){err}")

    def url_file(self, name: str, paths: list[str]) -> Path:
        path = self.run_dir / f"{self.server.name}-{name}.urls"
        path.write_text("\n".join(paths) + "\n")
        return path

    # -- setup
    def setup(self) -> None:
        for b in ("bench", "bench-list"):
            self.client.create_bucket(Bucket=b)
        self.client.put_object(Bucket="bench", Key="obj/4k", Body=os.urandom(4 * KiB))
        self.client.put_object(Bucket="bench", Key="obj/1m", Body=os.urandom(MiB))

    def populate_list(self) -> None:
        n = self.args.list_keys
        log(f"{self.server.name}: writing {n} keys into bench-list (untimed setup)")
        body = b"k" * 64
        reqs = (raw_request("PUT", self.host, self.signer.path("PUT", "bench-list", f"key/{i:06d}"), body)
                for i in range(n))
        r = async_load(self.server, reqs, 16)
        if r["errors"] or r["requests"] != n:
            raise RuntimeError(f"populate failed: {r['errors']} errors, {r['requests']}/{n} "
                               f"({r['first_error']!r})")
        log(f"{self.server.name}: {n} keys in {r['seconds']:.1f}s ({n / r['seconds']:.0f} PUT/s, 16 conns, "
            f"Python client)")

    # -- workloads
    def put_4k(self) -> None:
        a = self.args
        paths = [self.signer.path("PUT", "bench", f"put/{i:07d}") for i in range(a.put_keys)]
        f = self.url_file("put4k", paths)
        self.small("put_4k", "4 KiB PUT", paths[0], 4 * KiB, duration=a.duration, conns=a.conns,
                   put_file=f, put_count=len(paths))

    def get_4k(self) -> None:
        a = self.args
        self.small("get_4k", "4 KiB GET", self.signer.path("GET", "bench", "obj/4k"), 4 * KiB,
                   duration=a.duration, conns=a.conns, warmup=a.warmup)

    def get_1m(self) -> None:
        a = self.args
        self.small("get_1m", "1 MiB GET", self.signer.path("GET", "bench", "obj/1m"), MiB,
                   duration=a.duration, conns=a.conns_1m, warmup=a.warmup)

    def list_page(self) -> None:
        a = self.args
        target = self.signer.path("GET", "bench-list", "", {"list-type": "2", "max-keys": "1000"})
        self.small("list_page", "LIST page (1000 keys)", target, 0, duration=a.duration,
                   conns=a.conns_list, warmup=a.warmup)
        self.results["list_page"]["keys_s"] = self.results["list_page"]["ops_s"] * min(1000, a.list_keys)

    def list_full(self) -> None:
        """Whole bucket, page after page with continuation tokens, one client (what `aws s3 ls` does)."""
        a = self.args
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
        lat: list[float] = []
        pages = 0
        resp_bytes = 0
        with CpuMeter(self.server) as m:
            for _ in range(a.list_iters):
                t0 = time.perf_counter()
                token, keys = None, 0
                while True:
                    params = {"list-type": "2", "max-keys": "1000"}
                    if token:
                        params["continuation-token"] = token
                    conn.request("GET", self.signer.path("GET", "bench-list", "", params))
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"list failed: {resp.status} {body[:300]!r}")
                    pages += 1
                    resp_bytes += len(body)
                    keys += body.count(b"<Key>")
                    mt = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
                    if not mt:
                        break
                    token = mt.group(1).decode()
                lat.append(time.perf_counter() - t0)
                if keys != a.list_keys:
                    raise RuntimeError(f"listed {keys} keys, expected {a.list_keys}")
        conn.close()
        res = result(len(lat), m.seconds, resp_bytes, lat_s=lat, server_cpu=m.server_cpu,
                     client_cpu=m.client_cpu, other_on_server_core_pct=m.other_cpu_pct,
            loadgen="python http.client", pages=pages,
                     keys_s=a.list_keys * len(lat) / m.seconds, response_bytes=resp_bytes)
        self.record("list_full", f"LIST all {a.list_keys} keys", res)

    def put_get_64m(self) -> None:
        a = self.args
        size = a.large_mib * MiB
        data = memoryview(os.urandom(size))
        md5 = hashlib.md5(data).hexdigest()
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        lat: list[float] = []
        key = "big/obj"
        with CpuMeter(self.server) as m:
            for i in range(a.large_iters):
                target = self.signer.path("PUT", "bench", f"{key}{i}")
                t0 = time.perf_counter()
                conn.putrequest("PUT", target, skip_accept_encoding=True)
                conn.putheader("Content-Length", str(size))
                conn.putheader("Content-Type", "application/octet-stream")
                conn.endheaders()
                conn.send(data)
                resp = conn.getresponse()
                body = resp.read()
                lat.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise RuntimeError(f"64 MiB PUT failed: {resp.status} {body[:300]!r}")
        etag = (resp.getheader("ETag") or "").strip('"')
        self.record("put_64m", f"{a.large_mib} MiB PUT", result(
            len(lat), m.seconds, size * len(lat), lat_s=lat, server_cpu=m.server_cpu,
            client_cpu=m.client_cpu, other_on_server_core_pct=m.other_cpu_pct,
            loadgen="python http.client", etag_ok=etag == md5))

        buf = memoryview(bytearray(8 * MiB))
        lat = []
        with CpuMeter(self.server) as m:
            for i in range(a.large_iters):
                t0 = time.perf_counter()
                conn.request("GET", self.signer.path("GET", "bench", f"{key}{i}"))
                resp = conn.getresponse()
                n = 0
                while True:
                    k = resp.readinto(buf)
                    if not k:
                        break
                    n += k
                lat.append(time.perf_counter() - t0)
                if resp.status != 200 or n != size:
                    raise RuntimeError(f"64 MiB GET failed: {resp.status}, {n} bytes")
        self.record("get_64m", f"{a.large_mib} MiB GET", result(
            len(lat), m.seconds, size * len(lat), lat_s=lat, server_cpu=m.server_cpu,
            client_cpu=m.client_cpu, other_on_server_core_pct=m.other_cpu_pct,
            loadgen="python http.client"))
        # untimed: the bytes that come back are the bytes that went in
        conn.request("GET", self.signer.path("GET", "bench", f"{key}0"))
        got = hashlib.md5(conn.getresponse().read()).hexdigest()
        conn.close()
        if got != md5:
            raise RuntimeError(f"{a.large_mib} MiB GET returned different bytes (md5 {got} != {md5})")

    def multipart(self) -> None:
        a = self.args
        nparts, psize = 5, 8 * MiB
        part_data = [memoryview(os.urandom(psize)) for _ in range(nparts)]
        local = threading.local()

        def conn() -> http.client.HTTPConnection:
            c = getattr(local, "conn", None)
            if c is None:
                c = local.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
            return c

        def call(method: str, target: str, body: bytes | memoryview = b"") -> tuple[int, Any, bytes]:
            c = conn()
            c.putrequest(method, target, skip_accept_encoding=True)
            c.putheader("Content-Length", str(len(body)))
            c.endheaders()
            if len(body):
                c.send(body)
            resp = c.getresponse()
            return resp.status, resp, resp.read()

        def upload_part(key: str, upload_id: str, n: int) -> str:
            target = self.signer.path("PUT", "bench", key, {"partNumber": str(n), "uploadId": upload_id})
            status, resp, body = call("PUT", target, part_data[n - 1])
            if status != 200:
                raise RuntimeError(f"UploadPart failed: {status} {body[:300]!r}")
            return str(resp.getheader("ETag"))

        lat: list[float] = []
        with ThreadPoolExecutor(nparts) as pool, CpuMeter(self.server) as m:
            for i in range(a.mpu_iters):
                key = f"mpu/obj{i}"
                t0 = time.perf_counter()
                status, _, body = call("POST", self.signer.path("POST", "bench", key, {"uploads": ""}))
                mt = re.search(rb"<UploadId>([^<]+)</UploadId>", body)
                if status != 200 or not mt:
                    raise RuntimeError(f"CreateMultipartUpload failed: {status} {body[:300]!r}")
                upload_id = mt.group(1).decode()
                etags = list(pool.map(lambda n, k=key, u=upload_id: upload_part(k, u, n),
                                      range(1, nparts + 1)))
                xml = "<CompleteMultipartUpload>" + "".join(
                    f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>"
                    for n, e in enumerate(etags, 1)) + "</CompleteMultipartUpload>"
                status, _, body = call("POST", self.signer.path("POST", "bench", key, {"uploadId": upload_id}),
                                       xml.encode())
                lat.append(time.perf_counter() - t0)
                if status != 200 or b"<Error>" in body:
                    raise RuntimeError(f"CompleteMultipartUpload failed: {status} {body[:300]!r}")
        head = self.client.head_object(Bucket="bench", Key="mpu/obj0")
        if head["ContentLength"] != nparts * psize:
            raise RuntimeError(f"multipart object has {head['ContentLength']} bytes")
        self.record("multipart", "multipart 5x8 MiB", result(
            len(lat), m.seconds, nparts * psize * len(lat), lat_s=lat, server_cpu=m.server_cpu,
            client_cpu=m.client_cpu, other_on_server_core_pct=m.other_cpu_pct,
            loadgen="python http.client, 5 parts in parallel",
            etag=head["ETag"]))

    def mixed(self) -> None:
        """Small GETs while one connection downloads 64 MiB objects as fast as it can read: how long a
        small request waits behind a large response (a server that sends a whole object without giving
        its event loop a turn makes every other request wait for it). The objects are uploaded first
        (untimed) and read in turn, the first time from the disk where the server writes around the
        page cache, then from memory."""
        a = self.args
        size, nobj = a.large_mib * MiB, 4
        data = memoryview(os.urandom(size))
        up = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        for i in range(nobj):
            up.putrequest("PUT", self.signer.path("PUT", "bench", f"mixed/obj{i}"), skip_accept_encoding=True)
            up.putheader("Content-Length", str(size))
            up.endheaders()
            up.send(data)
            resp = up.getresponse()
            if resp.status != 200:
                raise RuntimeError(f"PUT for the mixed workload failed: {resp.status} {resp.read()[:300]!r}")
            resp.read()
        up.close()
        stop = threading.Event()
        streamed = [0]

        def download() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
            buf = memoryview(bytearray(8 * MiB))
            i = 0
            while not stop.is_set():
                conn.request("GET", self.signer.path("GET", "bench", f"mixed/obj{i % nobj}"))
                resp = conn.getresponse()
                while k := resp.readinto(buf):
                    streamed[0] += k
                i += 1
            conn.close()

        small = self.signer.path("GET", "bench", "obj/4k")
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        lat: list[float] = []
        errors = 0
        downloader = threading.Thread(target=download)
        with CpuMeter(self.server) as m:
            downloader.start()
            stop_at = time.perf_counter() + a.duration
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                conn.request("GET", small)
                resp = conn.getresponse()
                body = resp.read()
                lat.append(time.perf_counter() - t0)
                errors += resp.status != 200 or len(body) != 4 * KiB
            stop.set()
            downloader.join()
        conn.close()
        self.record("mixed", "4 KiB GET + 64M GETs", result(
            len(lat), m.seconds, 4 * KiB * len(lat), lat_s=lat, errors=errors, server_cpu=m.server_cpu,
            client_cpu=m.client_cpu, other_on_server_core_pct=m.other_cpu_pct,
            loadgen="python http.client: one connection of 4 KiB GETs, one downloading",
            download_mb_s=streamed[0] / m.seconds / MB if m.seconds else 0.0))

    @contextlib.contextmanager
    def profiled(self, step: str) -> Iterator[None]:
        """With --py-spy, sample the server (on the load generator's core) while a step runs."""
        if not self.args.py_spy:
            yield
            return
        out = RESULTS / f"{self.args.stamp}-{self.server.name}-{step}.pyspy.txt"
        cmd = pin(CLIENT_CPU, [self.args.py_spy, "record", "--pid", str(self.server.proc.pid), "--format", "raw",
                               "--rate", "250", "--nonblocking", "--output", str(out)], self.args.pin)
        spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # let py-spy attach
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
            if out.exists():
                self.profiles[step] = summarize_profile(out)
                log(f"profile of {self.server.name} during {step}: {out}\n" + "\n".join(
                    f"    {pct:5.1f}% self  {fn}" for fn, pct in self.profiles[step]["self"][:12]) + "\n" +
                    "\n".join(f"    {pct:5.1f}% incl  {fn}" for fn, pct in self.profiles[step]["inclusive"][:12]))

    def run(self, only: set[str] | None) -> dict[str, dict[str, Any]]:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("put_4k", self.put_4k), ("get_4k", self.get_4k), ("get_1m", self.get_1m),
            ("64m", self.put_get_64m), ("list", self.list_page), ("list", self.list_full),
            ("multipart", self.multipart), ("mixed", self.mixed),
        ]
        if self.server.name in REFERENCE_SERVERS:  # trivial servers: small ops only, no setup
            steps = [st for st in steps if st[0] in REFERENCE_SERVERS[self.server.name][1]]
        else:
            self.setup()
        if self.server.name not in REFERENCE_SERVERS and (only is None or "list" in only):
            self.populate_list()
        for name, step in steps:
            if only is None or name in only:
                try:
                    with self.profiled(step.__name__):
                        step()
                except Exception as e:  # noqa: BLE001 - report and go on with the other workloads
                    log(f"{self.server.name}: {step.__name__} FAILED: {e!r}")
                    self.results[f"{step.__name__}_error"] = {"error": repr(e), "label": step.__name__}
        return self.results


# --------------------------------------------------------------------------- report


def is_nuage_frame(frame: str) -> bool:
    """py-spy names most files by their path from the import root ("nuage/s3/app.py") but some by their
    base name only ("store.py"); count a base name as Nuage's when src/nuage has it and the stdlib has not."""
    if "(nuage/cli/" in frame or frame.startswith("serve "):
        return False
    if "(nuage/" in frame:
        return True
    file = frame.rsplit("(", 1)[-1].rstrip(")")
    return "/" not in file and file in _nuage_basenames()


@functools.cache
def _nuage_basenames() -> frozenset[str]:
    stdlib = {p.name for p in Path(sysconfig.get_paths()["stdlib"]).glob("*.py")}
    return frozenset(p.name for p in (REPO / "src" / "nuage").rglob("*.py")) - stdlib


def summarize_profile(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed ("raw") output."""
    self_n: dict[str, int] = {}
    incl_n: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.rsplit(":", 1)[0] + ")" if f.endswith(")") and ":" in f else f for f in stack.split(";")]
        self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):  # inclusive: Nuage's own functions only, less the start-up frames
            if is_nuage_frame(f):
                incl_n[f] = incl_n.get(f, 0) + n
    def ranked(d: dict[str, int]) -> list[tuple[str, float]]:
        return [(k, 100 * v / total) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]] if total else []
    return {"samples": total, "self": ranked(self_n), "inclusive": ranked(incl_n)}



ROWS = [("put_4k", "4 KiB PUT"), ("get_4k", "4 KiB GET"), ("get_1m", "1 MiB GET"),
        ("put_64m", "64 MiB PUT"), ("get_64m", "64 MiB GET"), ("list_page", "LIST 1 page"),
        ("list_full", "LIST whole bucket"), ("multipart", "multipart 5x8 MiB"),
        ("mixed", "4 KiB GET + 64M GETs")]


def fmt_ms(v: float | None) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def fmt_num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def target_text(name: str, r: dict[str, Any]) -> str:
    if name not in TARGETS:
        return ""
    kind, goal = TARGETS[name]
    value = r["ops_s"] if kind == "ops" else r["mb_s"]
    unit = "/s" if kind == "ops" else " MB/s"
    return f"target >= {goal:,.0f}{unit}: {'met' if value >= goal else 'NOT met'}"


def workers_ratios(all_results: dict[str, dict[str, dict[str, Any]]], name: str) -> list[str]:
    """Lines "wN/w1" (N worker processes on SQLite) and "pgN/w1" (on PostgreSQL): each Nuage variant
    against one worker on SQLite (nuage-w1, else nuage)."""
    baseline = "nuage-w1" if "nuage-w1" in all_results else "nuage"
    one = all_results.get(baseline, {}).get(name)
    lines = []
    unobserved = all_results.get("nuage-unobserved", {}).get(name)
    for server in sorted(s for s in all_results if s != baseline and nuage_workers(s) is not None):
        several = all_results[server].get(name)
        base, label = one, f"{'pg' if server.startswith('nuage-pg-') else 'w'}{nuage_workers(server)}/w1"
        if server == "nuage-unobserved":
            continue
        if server == "nuage-observed":   # metering and metrics on, against both off
            base, label = unobserved, "obs/off"
        if base and several:
            ratios = [fmt_ratio(several[k], base[k]) for k in ("ops_s", "mb_s", "p50_ms", "p99_ms")]
            lines.append(f"{'':22} {label:6} {ratios[0]:>10} {ratios[1]:>9} {ratios[2]:>8} {ratios[3]:>8}")
    return lines


def table(all_results: dict[str, dict[str, dict[str, Any]]]) -> str:
    servers = [s for s in all_results if s not in REFERENCE_SERVERS]
    lines = []
    hdr = f"{'workload':22} {'server':6} {'ops/s':>10} {'MB/s':>9} {'p50 ms':>8} {'p99 ms':>8} " \
          f"{'srv CPU':>7} {'other':>5} {'errors':>6}  notes"
    lines += [hdr, "-" * len(hdr)]

    def row(first: str, s: str, name: str, r: dict[str, Any]) -> str:
        notes = []
        if s == "nuage":
            notes.append(target_text(name, r))
        if s in REFERENCE_SERVERS:
            notes.append(REFERENCE_SERVERS[s][0])
        if r.get("client_cpu_pct", 0) > 80:
            notes.append(f"LOAD GENERATOR at {r['client_cpu_pct']:.0f}% CPU: client-bound")
        if r.get("overwrites"):
            notes.append(f"{r['overwrites']} overwrites")
        if "keys_s" in r:
            notes.append(f"{r['keys_s']:,.0f} keys/s")
        if "download_mb_s" in r:
            notes.append(f"meanwhile one connection downloads at {r['download_mb_s']:,.0f} MB/s")
        return (f"{first:22} {s:6} {fmt_num(r['ops_s']):>10} {fmt_num(r['mb_s']):>9} "
                f"{fmt_ms(r['p50_ms']):>8} {fmt_ms(r['p99_ms']):>8} {r['server_cpu_pct']:6.0f}% "
                f"{r.get('other_on_server_core_pct', 0):4.0f}% {r['errors']:>6}  "
                f"{'; '.join(n for n in notes if n)}")

    for name, _ in ROWS:
        present = [s for s in all_results if name in all_results[s]]
        if not present:
            continue
        label = all_results[present[0]][name]["label"]
        for i, s in enumerate(servers):
            r = all_results[s].get(name)
            first = label if i == 0 else ""
            lines.append(row(first, s, name, r) if r else f"{first:22} {s:6} {'(failed or skipped)':>10}")
        n, m = all_results.get("nuage", {}).get(name), all_results.get("moto", {}).get(name)
        if n and m:
            lines.append(f"{'':22} {'ratio':6} {fmt_ratio(n['ops_s'], m['ops_s']):>10} "
                         f"{fmt_ratio(n['mb_s'], m['mb_s']):>9} {fmt_ratio(n['p50_ms'], m['p50_ms']):>8} "
                         f"{fmt_ratio(n['p99_ms'], m['p99_ms']):>8}")
        lines += workers_ratios(all_results, name)
        for i, ref in enumerate(s for s in REFERENCE_SERVERS if name in all_results.get(s, {})):
            lines.append(row("" if servers or i else label, ref, name, all_results[ref][name]))
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short smoke run (3 s per small op, fewer iterations, "
                   "2,000-key LIST); numbers are rougher")
    p.add_argument("--servers", default=env("BENCH_SERVERS", "nuage,moto,stack,uvicorn,bare"),
                   help="comma list of nuage (one worker process), nuage-wN (N worker processes: "
                        "nuage serve --workers N; nuage-w1,nuage-w2 compares them), nuage-pg-wN (the same on a "
                        "throw-away PostgreSQL), nuage-unobserved and nuage-observed (one worker with metering and "
                        "metrics both off, or both on: their cost as the line obs/off), moto, and the reference "
                        "servers "
                        "(small ops only): stack (a trivial "
                   "ASGI app on Nuage's HTTP stack: its ceiling here, now), uvicorn (the same app on plain "
                   "uvicorn) and bare (uvloop+httptools, no ASGI); the last two measure this machine against "
                   "the one issue 2's targets were set on (bench/machine.py)")
    p.add_argument("--only", default=env("BENCH_ONLY"),
                   help="comma list of workloads: put_4k,get_4k,get_1m,64m,list,multipart,mixed")
    p.add_argument("--duration", type=int, default=None, help="seconds per small-op run (default 10; quick 3; "
                   "$BENCH_DURATION)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up seconds before each GET/LIST run "
                   "(default 2; quick 1)")
    p.add_argument("--conns", type=int, default=int(env("BENCH_CONNS", "32")),
                   help="connections for 4 KiB PUT/GET (default 32)")
    p.add_argument("--conns-1m", type=int, default=int(env("BENCH_CONNS_1M", "8")),
                   help="connections for 1 MiB GET (default 8)")
    p.add_argument("--conns-list", type=int, default=int(env("BENCH_CONNS_LIST", "4")),
                   help="connections for LIST page (default 4)")
    p.add_argument("--wrk-threads", type=int, default=int(env("BENCH_WRK_THREADS", "1")),
                   help="wrk threads (default 1: wrk has one core)")
    p.add_argument("--put-keys", type=int, default=None,
                   help="distinct keys (presigned URLs) for 4 KiB PUT (default 60000; quick 20000)")
    p.add_argument("--list-keys", type=int, default=None, help="keys in the LIST bucket (default 10000; quick 2000)")
    p.add_argument("--list-iters", type=int, default=None, help="whole-bucket listings (default 5; quick 2)")
    p.add_argument("--large-mib", type=int, default=64, help="size of the large object (default 64 MiB)")
    p.add_argument("--large-iters", type=int, default=None, help="large PUTs and GETs (default 32; quick 3)")
    p.add_argument("--mpu-iters", type=int, default=None, help="multipart uploads (default 6; quick 2)")
    p.add_argument("--tmp", default=env("BENCH_TMP"), help="parent of the servers' data folders "
                   "(default: system temp dir)")
    p.add_argument("--nuage-rev", default=env("BENCH_NUAGE_REV"),
                   help="benchmark this committed revision of src/ (e.g. HEAD) instead of the work tree")
    p.add_argument("--py-spy", default=env("BENCH_PY_SPY"), metavar="PATH",
                   help="py-spy executable: sample Nuage during each workload, write bench/results/*.pyspy.txt "
                   "and print the hottest functions (the sampling costs the load generator some CPU)")
    p.add_argument("--disk-probe", type=float, default=float(env("BENCH_DISK_PROBE", "2")), metavar="SECONDS",
                   help="seconds for each of the two small-file fsync probes (0: skip; default 2)")
    p.add_argument("--machine-probe", type=float, default=float(env("BENCH_MACHINE_PROBE", "2")), metavar="SECONDS",
                   help="seconds for the MD5 and loopback probes of bench/machine.py (0: skip; default 2)")
    p.add_argument("--no-pin", dest="pin", action="store_false", help="do not use taskset")
    p.add_argument("--no-wrk", action="store_true", help="use the Python asyncio load generator even if wrk "
                   "is installed")
    p.add_argument("--out", default=None, help="JSON output file (default bench/results/<time>.json)")
    a = p.parse_args(argv)
    q = a.quick

    def pick(value: int | None, env_name: str, full: int, quick: int) -> int:
        if value is not None:
            return value
        if env(env_name):
            return int(env(env_name, "0"))
        return quick if q else full

    a.duration = pick(a.duration, "BENCH_DURATION", 10, 3)
    a.warmup = pick(a.warmup, "BENCH_WARMUP", 2, 1)
    a.put_keys = pick(a.put_keys, "BENCH_PUT_KEYS", 60000, 20000)
    a.list_keys = pick(a.list_keys, "BENCH_LIST_KEYS", 10000, 2000)
    a.list_iters = pick(a.list_iters, "BENCH_LIST_ITERS", 5, 2)
    a.large_iters = pick(a.large_iters, "BENCH_LARGE_ITERS", 32, 3)
    a.mpu_iters = pick(a.mpu_iters, "BENCH_MPU_ITERS", 6, 2)
    return a


def machine_info() -> dict[str, Any]:
    wrk = "absent"
    if have_wrk():
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
        wrk = (out.stdout + out.stderr).splitlines()[0] if (out.stdout + out.stderr) else "?"
    return {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "wrk": wrk, "load": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--disk-probe":  # internal: see disk_probe()
        print(json.dumps(disk_probe_worker(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))))
        return 0
    args = parse_args(argv)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    only = {s.strip() for s in args.only.split(",")} if args.only else None
    if args.pin:
        if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
            log("fewer than 2 CPUs or no taskset: running without pinning")
            args.pin = False
        else:
            os.sched_setaffinity(0, {CLIENT_CPU})  # this process is part of the load generator
    if not have_wrk() and not args.no_wrk:
        log("wrk not found (apt-get install wrk): using the Python asyncio load generator, which tops out "
            "far below wrk; small-op numbers will be client-bound")
    load1 = os.getloadavg()[0]
    if load1 > 0.5:
        log(f"load average is {load1:.2f} before the run: other work on this machine will skew the numbers")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    args.stamp = stamp
    RESULTS.mkdir(parents=True, exist_ok=True)
    check_against_boto3("http://127.0.0.1:9")
    run_dir = Path(tempfile.mkdtemp(prefix="nuage-bench-run-"))
    all_results: dict[str, dict[str, dict[str, Any]]] = {}
    server_info: dict[str, Any] = {}
    profiles: dict[str, Any] = {}
    t_start = time.monotonic()
    disk = disk_probe(args) if args.disk_probe > 0 else []
    probes = machine_probes(args, disk)
    try:
        for name in servers:
            server = start_server(name, args, run_dir)
            try:
                bench = Bench(server, args, run_dir)
                all_results[name] = bench.run(only)
                if bench.profiles:
                    profiles[name] = bench.profiles
                server_info[name] = server.info
            finally:
                alive = server.proc.poll() is None
                server.stop()
                if not alive:
                    log(f"{name} died during the run; log tail:\n{server.log_tail()}")
                shutil.copy(server.log_path, RESULTS / f"{stamp}-{name}.log")
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    report = table(all_results)
    print()
    print(f"Nuage benchmark {stamp}: server pinned to CPU {SERVER_CPU}, load generator to CPU {CLIENT_CPU}"
          if args.pin else f"Nuage benchmark {stamp}: no CPU pinning")
    print(f"small ops: wrk, {args.duration}s each, {args.conns} conns (1 MiB GET {args.conns_1m}, LIST "
          f"{args.conns_list}); 4 KiB PUT = distinct new keys, durable (fsync on)"
          if have_wrk() and not args.no_wrk else "small ops: Python asyncio load generator")
    print()
    if disk:
        print("disk (data folder's file system, server core): 4 KiB create+write+fsync+rename " + ", ".join(
            f"{r['files_s']:,.0f}/s with {r['threads']:.0f} thread(s)" for r in disk))
        print()
    print(report)
    print(f"ratio = nuage / moto (higher is better for ops/s and MB/s, lower for latency). "
          f"total {elapsed:.0f}s")
    now = machine.limits_now(all_results, probes)
    scaling = machine.report(TARGETS, dict(ROWS), now, all_results.get("nuage", {}), fmt_num)
    print()
    print(scaling)
    out = Path(args.out) if args.out else RESULTS / f"{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "time": stamp, "machine": {**machine_info(), "load_before": load1}, "config": vars(args),
        "servers": server_info, "results": all_results, "elapsed_s": round(elapsed, 1),
        "table": report, "profiles": profiles, "disk_probe": disk, "machine_limits": now,
        "machine_reference": machine.REFERENCE, "scaling": scaling,
    }, indent=2, default=str))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
