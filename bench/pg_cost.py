"""What one 4 KiB PUT and one 4 KiB GET cost PostgreSQL: statements (BEGIN and COMMIT included: each is a
round trip) and CPU time of PostgreSQL's processes and of the gateway, per request.

Starts a throw-away PostgreSQL (Debian's binaries, as the tests do) with pg_stat_statements, one gateway
(`nuage serve --db ... --workers 1`), and sends presigned requests one after another on one keep-alive
connection. Counts do not depend on the machine's load; CPU times do a little.

    .venv/bin/python bench/pg_cost.py              # 1,000 PUTs and 1,000 GETs
    .venv/bin/python bench/pg_cost.py --requests 200
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402
from run import ACCESS_KEY, SECRET_KEY, Presigner, free_port, nuage_command, proc_tree_cpu_seconds  # noqa: E402
from tests.support.postgres import PostgresCluster  # noqa: E402

BODY = b"x" * 4096


def postgres_cpu(cluster: PostgresCluster) -> float:
    """CPU seconds of the postmaster and every backend (its children)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return proc_tree_cpu_seconds(postmaster)


def statements(url: str) -> int:
    """Statements run so far in the gateway's database (pg_stat_statements: counted at once)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT ILIKE '%pg_stat%' AND query NOT ILIKE '%pg_database%'").fetchone()
    assert row is not None
    return int(row[0])


def measure(label: str, paths: list[tuple[str, str]], port: int, url: str, cluster: PostgresCluster,
            gateway_pid: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    s0 = statements(url)
    pg0, gw0, t0 = postgres_cpu(cluster), proc_tree_cpu_seconds(gateway_pid), time.monotonic()
    for method, path in paths:
        conn.request(method, path, body=BODY if method == "PUT" else None)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, (resp.status, method, path)
    elapsed = time.monotonic() - t0
    pg1, gw1 = postgres_cpu(cluster), proc_tree_cpu_seconds(gateway_pid)
    s1 = statements(url)
    n = len(paths)
    print(f"{label}: {(s1 - s0) / n:5.1f} statements (round trips), "
          f"PostgreSQL CPU {(pg1 - pg0) / n * 1e6:6.0f} us, gateway CPU {(gw1 - gw0) / n * 1e6:6.0f} us "
          f"per request ({n / elapsed:,.0f} requests/s on one connection)")
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    cluster = PostgresCluster(durable=True).start()
    gateway: subprocess.Popen[bytes] | None = None
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        cluster.pause()
        cluster.resume()
        url = cluster.create_database()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        port = free_port()
        data = Path(tempfile.mkdtemp(prefix="nuage-pg-cost-"))
        env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY,
               "NUAGE_CONSOLE_PORT": "0"}
        gateway = subprocess.Popen([*nuage_command(), "serve", "--port", str(port), "--data", str(data), "--db", url,
                                    "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sign = Presigner(f"http://127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY)
        deadline = time.monotonic() + 60
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("PUT", sign.path("PUT", "cost"))
                assert probe.getresponse().status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        warm = [("PUT", sign.path("PUT", "cost", f"warm/{i}")) for i in range(100)]
        measure("warm-up 4 KiB PUT", warm, port, url, cluster, gateway.pid)
        puts = [("PUT", sign.path("PUT", "cost", f"k/{i}")) for i in range(args.requests)]
        measure("4 KiB PUT (new keys)", puts, port, url, cluster, gateway.pid)
        gets = [("GET", sign.path("GET", "cost", f"k/{i % args.requests}")) for i in range(args.requests)]
        measure("4 KiB GET", gets, port, url, cluster, gateway.pid)
    finally:
        if gateway is not None:
            gateway.terminate()
            gateway.wait(30)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
