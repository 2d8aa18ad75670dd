"""How fast this machine is now, against the machine issue 2's targets were set on.

Issue 2 states its targets for "this machine (one server core)" and quotes that machine's limits next to
them: small-file create+fsync ~8,100/s, MD5 ~500 MB/s per core, loopback ~2.4 GB/s per stream, a bare
uvloop+httptools server ~78,000 4 KiB PUTs/s, uvicorn ~31,000, moto ~355 PUTs/s and ~434 GETs/s. The
machines these benchmarks run on are shared and their speed moves (2x within minutes has been seen), so
a run measures the same limits the same way (`run.py` runs the probes and the reference servers) and
prints each target next to that target scaled by the limit that bounds it:

- 4 KiB PUT and GET: request handling in Python on one core; scaled by uvicorn's trivial app now
  against 31,000/s (the bare server and moto are shown as well);
- 1 MiB GET: bytes through loopback; scaled by one loopback stream now against 2.4 GB/s;
- 64 MiB PUT: every byte is hashed with MD5 for the ETag on the server's one core; scaled by MD5 now
  against 500 MB/s. A third probe measures the floor under it: one loopback stream received on the
  server's core into a reused buffer, hashed with MD5 and written to a file the way Nuage writes object
  files (O_DIRECT from aligned 1 MiB buffers, one write in flight in a thread; buffered with fdatasync
  every 8 MiB where O_DIRECT is refused), with no HTTP at all: what a one-core large PUT costs here
  before any server code runs.

A scale above 1 (a faster machine) raises the target. Numbers are reported, never asserted.

    python bench/machine.py md5 SECONDS            # internal: MD5 MB/s of this process (run pinned)
    python bench/machine.py loopback-send PORT SECONDS   # internal: the sending end of the loopback probe
    python bench/machine.py put-floor PORT DIR           # internal: the receiving end of the PUT floor probe
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MiB = 1024 * 1024

# The limits issue 2 quotes for the machine its targets were set on.
REFERENCE: dict[str, float] = {
    "fsync_files_s": 8100.0,      # 4 KiB create+write+fsync, one thread
    "md5_mb_s": 500.0,            # one core
    "loopback_gb_s": 2.4,         # one TCP stream
    "bare_put_s": 78000.0,        # bench/bare_server.py, 4 KiB PUTs
    "uvicorn_put_s": 31000.0,     # bench/ceiling_app.py plain, 4 KiB PUTs
    "moto_put_s": 355.0,
    "moto_get_s": 434.0,
}

# target -> (the limit that bounds it, how the scale is read from a run's numbers)
SCALE_BY: dict[str, str] = {
    "put_4k": "uvicorn_put_s",
    "get_4k": "uvicorn_put_s",
    "get_1m": "loopback_gb_s",
    "put_64m": "md5_mb_s",
}

LIMIT_LABELS: dict[str, str] = {
    "fsync_files_s": "4 KiB create+write+fsync, 1 thread (files/s)",
    "md5_mb_s": "MD5, one core (MB/s)",
    "loopback_gb_s": "TCP loopback, one stream (GB/s)",
    "put_floor_mb_s": "recv + MD5 + write (as Nuage) + fsync, no HTTP (MB/s)",
    "bare_put_s": "bare uvloop+httptools, 4 KiB PUT/s",
    "uvicorn_put_s": "uvicorn + trivial app, 4 KiB PUT/s",
    "moto_put_s": "moto, 4 KiB PUT/s",
    "moto_get_s": "moto, 4 KiB GET/s",
}


def md5_worker(seconds: float) -> float:
    """MD5 throughput of this process in MB/s (decimal), over 8 MiB updates as a big PUT does."""
    data = os.urandom(8 * MiB)
    h = hashlib.md5()
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        h.update(data)
        n += len(data)
    return n / (time.perf_counter() - t0) / 1e6


def loopback_sender(port: int, seconds: float) -> None:
    """Connect to PORT and send as fast as possible for SECONDS (the server's side of a large GET)."""
    data = memoryview(os.urandom(MiB))
    with socket.create_connection(("127.0.0.1", port)) as conn:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            conn.sendall(data)


def put_floor_receiver(port: int, directory: str) -> float:
    """Receive one stream until it ends and store it as Nuage stores a large object: MD5 each piece,
    gather it in page-aligned 1 MiB buffers, each written with O_DIRECT by a thread while the next one
    fills (one write in flight), the tail through the page cache, fsync at the end. Where the file
    system refuses O_DIRECT, buffered writes with fdatasync every 8 MiB in a thread (Nuage's fallback).
    Returns MB/s (decimal) over the whole, the final fsync included."""
    import mmap
    from concurrent.futures import Future, ThreadPoolExecutor

    recv_buf = memoryview(bytearray(256 * 1024))   # what uvloop reads at a time
    md5 = hashlib.md5()
    path = os.path.join(directory, "put-floor.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    try:
        fd = os.open(path, flags | getattr(os, "O_DIRECT", 0), 0o600)
        direct = hasattr(os, "O_DIRECT")
    except OSError:
        fd, direct = os.open(path, flags, 0o600), False
    stages = [mmap.mmap(-1, MiB), mmap.mmap(-1, MiB)]
    filled = offset = total = unflushed = 0
    pending: Future[int] | None = None
    flushes: list[threading.Thread] = []
    try:
        with socket.create_connection(("127.0.0.1", port)) as conn, ThreadPoolExecutor(1) as pool:
            t0 = time.perf_counter()
            while n := conn.recv_into(recv_buf):
                piece = recv_buf[:n]
                md5.update(piece)
                total += n
                if not direct:
                    view = piece
                    while view:
                        view = view[os.write(fd, view):]
                    unflushed += n
                    if unflushed >= 8 * MiB and not any(t.is_alive() for t in flushes):
                        unflushed = 0
                        flushes.append(threading.Thread(target=os.fdatasync, args=(fd,)))
                        flushes[-1].start()
                    continue
                while piece:
                    k = min(len(piece), MiB - filled)
                    stages[0][filled:filled + k] = piece[:k]
                    filled += k
                    piece = piece[k:]
                    if filled == MiB:
                        if pending is not None:
                            pending.result()
                        pending = pool.submit(os.pwrite, fd, memoryview(stages[0]), offset)
                        stages.reverse()
                        offset += MiB
                        filled = 0
            if pending is not None:
                pending.result()
            if filled:   # the tail through the page cache, as Nuage writes it
                import fcntl
                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT)
                os.pwrite(fd, memoryview(stages[0])[:filled], offset)
            for t in flushes:
                t.join()
            os.fsync(fd)
            elapsed = time.perf_counter() - t0
    finally:
        os.close(fd)
        os.unlink(path)
    md5.hexdigest()
    return total / elapsed / 1e6


def _pinned(cpu: int, cmd: list[str], pin: bool) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if pin else cmd


def md5_probe(seconds: float, server_cpu: int, pin: bool) -> float:
    cmd = _pinned(server_cpu, [sys.executable, __file__, "md5", str(seconds)], pin)
    return float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def loopback_probe(seconds: float, server_cpu: int, pin: bool) -> float:
    """GB/s of one TCP stream on 127.0.0.1: sent from the server's core, received here (the caller runs
    on the load generator's core) into one reused buffer."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        cmd = _pinned(server_cpu, [sys.executable, __file__, "loopback-send", str(port), str(seconds)], pin)
        sender = subprocess.Popen(cmd)
        conn, _ = listener.accept()
        buf = memoryview(bytearray(MiB))
        total, t0 = 0, time.perf_counter()
        with conn:
            while n := conn.recv_into(buf):
                total += n
        elapsed = time.perf_counter() - t0
        sender.wait()
    return total / elapsed / 1e9


def put_floor_probe(seconds: float, server_cpu: int, pin: bool, directory: str) -> float:
    """The floor of a large PUT here (see put_floor_receiver): sent from this process (the load
    generator's core), received on the server's core."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        cmd = _pinned(server_cpu, [sys.executable, __file__, "put-floor", str(port), directory], pin)
        receiver = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        conn, _ = listener.accept()
        data = memoryview(os.urandom(MiB))
        with conn:
            stop = time.monotonic() + seconds
            while time.monotonic() < stop:
                conn.sendall(data)
        out, _ = receiver.communicate()
    return float(out)


@dataclass
class Scaled:
    name: str
    target: float
    limit: str
    scale: float | None          # limit now / limit where the target was set
    measured: float | None       # Nuage's number in the target's unit
    client_bound: bool = False   # the load generator's core was the limit: the number is a floor

    @property
    def scaled_target(self) -> float | None:
        return None if self.scale is None else self.target * self.scale


def limits_now(results: dict[str, dict[str, dict[str, Any]]], probes: dict[str, float]) -> dict[str, float]:
    """The limits of REFERENCE that this run measured: probes, plus the reference servers' rows."""
    now = dict(probes)
    rows: dict[str, tuple[str, str]] = {"bare_put_s": ("bare", "put_4k"), "uvicorn_put_s": ("uvicorn", "put_4k"),
                                        "moto_put_s": ("moto", "put_4k"), "moto_get_s": ("moto", "get_4k")}
    for limit, (server, workload) in rows.items():
        r = results.get(server, {}).get(workload)
        if r and not r.get("errors"):
            now[limit] = r["ops_s"]
    return now


def scaled_targets(targets: dict[str, tuple[str, float]], now: dict[str, float],
                   nuage: dict[str, dict[str, Any]]) -> list[Scaled]:
    out = []
    for name, (kind, goal) in targets.items():
        limit = SCALE_BY[name]
        scale = now[limit] / REFERENCE[limit] if limit in now else None
        r = nuage.get(name)
        measured = None if r is None else r["ops_s"] if kind == "ops" else r["mb_s"]
        out.append(Scaled(name, goal, limit, scale, measured, bool(r and r.get("client_cpu_pct", 0) > 80)))
    return out


def report(targets: dict[str, tuple[str, float]], labels: dict[str, str], now: dict[str, float],
           nuage: dict[str, dict[str, Any]], fmt: Callable[[float], str]) -> str:
    lines = ["this machine now against the one issue 2's targets were set on:"]
    for limit, ref in REFERENCE.items():
        if limit in now:
            lines.append(f"  {LIMIT_LABELS[limit]:46} {fmt(now[limit]):>9} vs {fmt(ref):>7}  "
                         f"({now[limit] / ref:.2f}x)")
    if "put_floor_mb_s" in now:
        lines.append(f"  {LIMIT_LABELS['put_floor_mb_s']:46} {fmt(now['put_floor_mb_s']):>9}  (the most a one-core "
                     "large PUT can reach here; not quoted by the issue)")
    lines.append("targets, and the same targets scaled by the limit that bounds each:")
    for s in scaled_targets(targets, now, nuage):
        unit = "/s" if targets[s.name][0] == "ops" else " MB/s"
        got = "-" if s.measured is None else fmt(s.measured)
        if s.scaled_target is None:
            scaled = f"(scale unknown: {s.limit} not measured in this run)"
        else:
            verdict = "-" if s.measured is None else "met" if s.measured >= s.scaled_target else \
                "NOT met, but the load generator was the limit" if s.client_bound else "NOT met"
            scaled = f"x {s.scale:.2f} ({s.limit}) = {fmt(s.scaled_target)}{unit}: {verdict}"
        plain = "-" if s.measured is None else "met" if s.measured >= s.target else "NOT met"
        lines.append(f"  {labels.get(s.name, s.name):12} nuage {got:>7}{unit:5}  target {fmt(s.target)}{unit}: "
                     f"{plain:7}  scaled {scaled}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "md5":
        print(md5_worker(float(argv[1])))
        return 0
    if len(argv) == 3 and argv[0] == "loopback-send":
        loopback_sender(int(argv[1]), float(argv[2]))
        return 0
    if len(argv) == 3 and argv[0] == "put-floor":
        print(put_floor_receiver(int(argv[1]), argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
