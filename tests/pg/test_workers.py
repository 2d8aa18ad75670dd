"""`nuage serve --workers 2` on PostgreSQL: new connections land on both worker processes, and what one
acknowledged the other reads, lists and deletes at once; SIGTERM stops them all (exit 0)."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.postgres import PostgresCluster
from tests.support.server import children
from tests.support.workers import read_after_write_across_workers, start_workers


def test_two_workers_on_postgresql(pg: PostgresCluster, tmp_path: Path) -> None:
    srv = start_workers(tmp_path / "data", db=pg.create_database())
    try:
        assert srv.proc is not None
        workers = children(srv.proc.pid)
        # bucket records and configurations are cached, kept fresh by notifications (within 1 s)
        read_after_write_across_workers(srv, bucket_bound=1.0)
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.proc.wait(30) == 0, srv.log()
        assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        assert srv.stop() == 0
