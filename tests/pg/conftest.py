"""Fixtures of the PostgreSQL tests: one throw-away PostgreSQL cluster per test process (Debian's
binaries, a temporary folder, a free port), a fresh database per server. Without PostgreSQL these tests
skip on a developer's machine and FAIL in CI (CI=true): .ci/run installs it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresCluster, PostgresMissing
from tests.support.server import NuageServer


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
    except PostgresMissing as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def pg_server(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    """A `nuage serve --db postgresql://...` on a fresh database."""
    srv = NuageServer(tmp_path_factory.mktemp("pg") / "data", db=pg.create_database()).start()
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def three(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NuageServer]]:
    """Three gateways on one database and one data folder, for the cross-gateway tests (requests spread
    round-robin over them)."""
    url = pg.create_database()
    data = tmp_path_factory.mktemp("three") / "data"
    servers = [NuageServer(data, db=url).start() for _ in range(3)]
    yield servers
    codes = [s.stop() for s in servers]
    assert codes == [0, 0, 0], "".join(s.log() for s in servers)
