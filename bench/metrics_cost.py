"""What the metrics (and the metering) cost per request, in-process: 4 KiB PUTs, GETs and SDK GETs through
the S3 application as bench/app_cost.py calls it, in turns without and with them, in the same run, and
the ratio of their CPU per request.

"metrics" is what the HTTP layer adds per request when the metrics are on and the access log off: the
scope's AccessFields that the app fills, the request's AccessRecord (nuage.httpserver.cycle.access_record)
and its addition to the metrics' dictionaries (nuage.metrics.requests). "metering" is the S3 app's own
metering (nuage.core.metering), "both" the two.

    .venv/bin/python bench/metrics_cost.py                  # off, metrics, metering, both; 30 rounds of 500
    .venv/bin/python bench/metrics_cost.py -n 2000 --rounds 6 --modes off,both
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_cost import HOST, scope_for, sdk_scope  # noqa: E402
from run import Presigner  # noqa: E402

from nuage.accesslog import SCOPE_KEY, AccessFields, Records  # noqa: E402
from nuage.config import Settings  # noqa: E402
from nuage.core.metering import Meter  # noqa: E402
from nuage.httpserver.cycle import access_record  # noqa: E402
from nuage.metrics.requests import RequestMetrics  # noqa: E402
from nuage.s3.app import S3App  # noqa: E402
from nuage.server import build_services, open_iam, open_stores, root_credentials  # noqa: E402

MODES = ("off", "metrics", "metering", "both")


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel the metering's flusher and wait for its last flush (before the store closes)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def call(app: S3App, scope: dict[str, Any], body: bytes, records: Records | None) -> int:
    """One request; with ``records``, as the HTTP layer runs it when a sink wants its record."""
    status = 0
    sent = 0
    given = False

    async def receive() -> dict[str, Any]:
        nonlocal given
        if given:
            await asyncio.sleep(3600)
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, sent
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            sent += len(message.get("body", b""))

    if records is None:
        scope.pop(SCOPE_KEY, None)
        await app(scope, receive, send)
        return status
    fields = AccessFields()
    scope[SCOPE_KEY] = fields
    start, clock = time.time(), time.perf_counter()
    await app(scope, receive, send)
    records.emit(access_record(scope, fields, status, sent, len(body), start, time.perf_counter() - clock, records))
    return status


async def main_async(args: argparse.Namespace) -> None:
    modes = list(dict.fromkeys(m.strip() for m in args.modes.split(",")))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        settings = Settings(data_dir=Path(tmp), port=9000, fsync=not args.no_fsync)
        meta, blobs = open_stores(settings)
        creds = root_credentials(settings)
        iam = open_iam(settings, meta)
        operator = iam.ensure_account(creds.owner_id, creds.display_name)
        iam.put_root_key(operator, creds.access_key, creds.secret_key)
        services = build_services(settings, meta, blobs, iam)
        meter = Meter(meta, settings.region, interval=10.0)
        flusher = asyncio.create_task(meter.run_forever())   # as the server runs it
        metrics = RequestMetrics()
        records = Records([metrics], settings.region, 0)
        plain, metered = S3App(services), S3App(services, meter=meter)
        setups: dict[str, tuple[S3App, Records | None]] = {
            "off": (plain, None), "metrics": (plain, records), "metering": (metered, None), "both": (metered, records)}
        signer = Presigner(f"http://{HOST}", creds.access_key, creds.secret_key)
        assert await call(plain, scope_for("PUT", signer.path("PUT", "bench"), 0), b"", None) == 200
        body = b"x" * 4096
        n = args.n
        puts = [scope_for("PUT", signer.path("PUT", "bench", f"k/{i:08d}"), len(body)) for i in range(n)]
        get = scope_for("GET", signer.path("GET", "bench", "k/00000000"), 0)
        sdk_gets = [sdk_scope(creds.access_key, creds.secret_key, "/bench/k/00000000", i) for i in range(512)]
        mode = "off"

        async def put_loop() -> None:
            app, rec = setups[mode]

            async def worker(part: list[dict[str, Any]]) -> None:   # 32 writers, as app_cost.py
                for scope in part:
                    assert await call(app, scope, body, rec) == 200
            await asyncio.gather(*(worker(puts[i::32]) for i in range(32)))

        async def get_loop() -> None:
            app, rec = setups[mode]
            for _ in range(n):
                assert await call(app, get, b"", rec) == 200

        async def sdk_get_loop() -> None:
            app, rec = setups[mode]
            for i in range(n):
                assert await call(app, sdk_gets[i % len(sdk_gets)], b"", rec) == 200

        await put_loop()   # every key exists: the timed PUTs all overwrite alike
        gc.collect()
        gc.freeze()        # as nuage serve does once started: collections skip what start-up made
        for name, loop in (("put", put_loop), ("get", get_loop), ("sdkget", sdk_get_loop)):
            cpu: dict[str, list[float]] = {m: [] for m in modes}
            for _ in range(args.rounds):
                for mode in modes:
                    cpu0 = time.thread_time()   # the event loop's thread: the hot path (not the writer's)
                    await loop()
                    cpu[mode].append((time.thread_time() - cpu0) / n * 1e6)
            # the best round of each mode (as timeit advises): load from elsewhere on the machine only adds
            per = {m: min(cpu[m]) for m in modes}
            base = per.get("off")
            shown = ", ".join(f"{m} {per[m]:6.1f} us" + (f" ({per[m] / base:.3f})" if base and m != "off" else "")
                              for m in modes)
            print(f"4 KiB {name.upper():6}: {shown} CPU/request (best of {args.rounds} rounds of {n}, in turns)")
        await stop(flusher)
        meta.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--no-fsync", action="store_true")
    parser.add_argument("--dir", default=None, help="where the temporary data folder goes")
    args = parser.parse_args()
    try:
        import uvloop
        uvloop.run(main_async(args))
    except ImportError:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
