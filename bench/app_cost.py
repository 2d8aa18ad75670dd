"""Per-request CPU cost of Nuage's S3 application without the HTTP server.

Calls the ASGI app in-process (the same objects `nuage serve` builds) with presigned 4 KiB PUTs and
GETs, and prints microseconds per request. The numbers do not depend on a load generator or on the
network, so they are steadier than `run.py` on a busy machine; they leave out uvicorn's own cost.

    .venv/bin/python bench/app_cost.py                 # 4 KiB PUT and GET, 5,000 each
    .venv/bin/python bench/app_cost.py --profile get   # cProfile of the GET loop, top functions
    bench/app_instructions.sh                          # CPU instructions per request (perf stat), steady
                                                       # even on a busy machine
    .venv/bin/python bench/app_cost.py --metering both # metering off and on in turns, and their ratio
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Presigner  # noqa: E402

from nuage.config import Settings  # noqa: E402
from nuage.core.metering import Meter  # noqa: E402
from nuage.s3.app import S3App  # noqa: E402
from nuage.server import build_services, open_iam, open_stores, root_credentials  # noqa: E402
from nuage.sigv4.model import EMPTY_SHA256  # noqa: E402
from nuage.sigv4.sign import sign_headers  # noqa: E402

HOST = "127.0.0.1:9000"


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread of this process (Linux), by thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out[tid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def scope_for(method: str, target: str, body_len: int,
              headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    path, _, query = target.partition("?")
    headers = headers or [(b"host", HOST.encode()), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    if method == "PUT":
        headers.append((b"content-length", str(body_len).encode()))
    return {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
            "query_string": query.encode(), "headers": headers, "scheme": "http",
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 9000), "http_version": "1.1"}


def sdk_scope(access_key: str, secret: str, path: str, i: int) -> dict[str, Any]:
    """A GET signed in its Authorization header as boto3 signs it (x-amz-date, content hash, invocation id)."""
    signed = sign_headers("GET", HOST, path, "", [("amz-sdk-invocation-id", f"{i:08d}-0000-4000-8000-000000000000"),
                                                  ("amz-sdk-request", "attempt=1; max=3")],
                          access_key=access_key, secret=secret, region="us-east-1", service="s3",
                          payload_hash=EMPTY_SHA256)
    return scope_for("GET", path, 0, [(b"user-agent", b"Boto3/1.40 md/Botocore#1.40"),
                                      (b"accept-encoding", b"identity"),
                                      *((n.encode(), v.encode()) for n, v in signed)])


async def call(app: S3App, scope: dict[str, Any], body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        settings = Settings(data_dir=Path(tmp), port=9000, fsync=not args.no_fsync)
        meta, blobs = open_stores(settings)
        creds = root_credentials(settings)
        iam = open_iam(settings, meta)
        operator = iam.ensure_account(creds.owner_id, creds.display_name)
        iam.put_root_key(operator, creds.access_key, creds.secret_key)
        services = build_services(settings, meta, blobs, iam)
        meter = Meter(meta, settings.region, interval=settings.meter_flush_seconds)
        flusher = asyncio.create_task(meter.run_forever())   # as the server runs it
        apps = {"off": S3App(services), "on": S3App(services, meter=meter)}
        app = apps["on" if args.metering == "on" else "off"]
        signer = Presigner(f"http://{HOST}", creds.access_key, creds.secret_key)
        assert await call(app, scope_for("PUT", signer.path("PUT", "bench"), 0), b"") == 200
        body = b"x" * 4096
        n = args.n
        puts = [scope_for("PUT", signer.path("PUT", "bench", f"k/{i:08d}"), len(body)) for i in range(n)]
        get = scope_for("GET", signer.path("GET", "bench", "k/00000000"), 0)

        async def put_loop() -> None:
            # 32 concurrent writers, as wrk's connections: the writer thread groups their commits
            async def worker(part: list[dict[str, Any]]) -> None:
                for scope in part:
                    assert await call(app, scope, body) == 200
            await asyncio.gather(*(worker(puts[i::32]) for i in range(32)))

        async def get_loop() -> None:
            for _ in range(n):
                assert await call(app, get, b"") == 200

        # GETs as boto3 sends them: Authorization header, each with its own (signed) amz-sdk-invocation-id.
        # A fixed pool, so that signing them costs the same whatever -n (app_instructions.sh subtracts runs).
        sdk_gets = [sdk_scope(creds.access_key, creds.secret_key, "/bench/k/00000000", i) for i in range(512)]

        async def sdk_get_loop() -> None:
            for i in range(n):
                assert await call(app, sdk_gets[i % len(sdk_gets)], b"") == 200

        async def timed(run: Any) -> float:
            cpu0 = time.process_time()
            await run()
            return time.process_time() - cpu0

        if args.metering == "both":   # off and on in turns, in the same process: the ratio of their CPU per request
            assert await call(app, puts[0], body) == 200
            for name, loop in (("put", put_loop), ("get", get_loop), ("sdkget", sdk_get_loop)):
                cpu: dict[str, list[float]] = {"off": [], "on": []}
                for _ in range(args.rounds):
                    for mode in ("off", "on"):
                        app = apps[mode]
                        cpu[mode].append(await timed(loop))
                # the quickest round of each: the one least disturbed by the machine's other work
                off, on = (min(cpu[m]) / n * 1e6 for m in ("off", "on"))
                mean_off, mean_on = (sum(cpu[m]) / (n * args.rounds) * 1e6 for m in ("off", "on"))
                print(f"4 KiB {name.upper():6}: metering off {off:6.1f} us, on {on:6.1f} us CPU/request (quickest "
                      f"of {args.rounds} rounds of {n}): on/off {on / off:.3f}; means {mean_off:.1f} and "
                      f"{mean_on:.1f} us, {mean_on / mean_off:.3f}")
            await stop(flusher)
            meta.close()
            return
        for name, loop in (("put", put_loop), ("get", get_loop), ("sdkget", sdk_get_loop)):
            if args.only and name != args.only:
                if name == "put":   # GETs need their one object
                    assert await call(app, puts[0], body) == 200
                continue
            prof = cProfile.Profile() if args.profile == name else None
            threads0 = thread_cpu()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if prof:
                prof.enable()
            await loop()
            if prof:
                prof.disable()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            main_tid = str(threading.get_native_id())
            per_thread = {t: c - threads0.get(t, 0.0) for t, c in thread_cpu().items()}
            others = sum(c for t, c in per_thread.items() if t != main_tid)
            print(f"4 KiB {name.upper():6}: {cpu / n * 1e6:7.1f} us CPU/request, {wall / n * 1e6:7.1f} us wall "
                  f"({n} requests, {n / wall:,.0f}/s in-process; other threads {others / n * 1e6:.1f} us)")
            if prof:
                stats = pstats.Stats(prof)
                stats.sort_stats(args.sort).print_stats(args.top)
        await stop(flusher)
        meta.close()


async def stop(task: asyncio.Task[None]) -> None:
    """Stop the meter's flushing task (its last flush runs) before the store closes."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--profile", choices=["put", "get", "sdkget"])
    parser.add_argument("--only", choices=["put", "get", "sdkget"])
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--dir", default=None, help="where the temporary data folder goes")
    parser.add_argument("--metering", choices=["off", "on", "both"], default="off",
                        help="metering of the requests (nuage.core.metering); both: off and on in turns, and the "
                             "ratio")
    parser.add_argument("--rounds", type=int, default=4, help="--metering both: turns of each")
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
