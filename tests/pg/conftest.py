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
def gateways(pg: PostgresCluster,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NuageServer, NuageServer]]:
    """Gateways A and B on one database and one data folder. Started one after the other: the first start
    creates the data folder's key files, which two gateways starting at once on an empty folder do not
    yet agree on (concurrent migrations are tested with `nuage db migrate` in test_gateways.py)."""
    url = pg.create_database()
    data = tmp_path_factory.mktemp("shared") / "data"
    a, b = NuageServer(data, db=url).start(), NuageServer(data, db=url).start()
    yield a, b
    codes = [a.stop(), b.stop()]
    assert codes == [0, 0], a.log() + b.log()
