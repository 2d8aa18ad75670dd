"""Invoices on PostgreSQL with two gateways: the same invoice issued through both at once is one invoice (one
number, one document), and invoices of several tenants issued at once through both get distinct numbers
without a gap (the number is allocated under the cluster's invoice lock, in the inserting transaction)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from nuage.billing.invoice import Month
from tests.api.test_invoices import call, call_json
from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer


@pytest.fixture(scope="module")
def two(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NuageServer]]:
    url = pg.create_database()
    data = tmp_path_factory.mktemp("invoices-pg") / "data"
    servers = [NuageServer(data, db=url).start() for _ in range(2)]
    yield servers
    codes = [s.stop() for s in servers]
    assert codes == [0, 0], "".join(s.log() for s in servers)


def _last_month() -> str:
    current = Month.of(time.time())
    return str(Month(current.year, current.month - 1) if current.month > 1 else Month(current.year - 1, 12))


def _tenant(server: NuageServer) -> str:
    status, _, body = call(server, "POST", "/admin/tenants", {"name": f"pg-bill-{uuid.uuid4().hex[:8]}"})
    assert status == 201, body
    return str(json.loads(body)["name"])


def _at_once(calls: list[tuple[NuageServer, str]]) -> list[tuple[int, dict[str, object]]]:
    """POST each path through its gateway, all released at the same moment."""
    results: list[tuple[int, dict[str, object]] | None] = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(index: int, server: NuageServer, path: str) -> None:
        gate.wait()
        results[index] = call_json(server, "POST", path)

    threads = [threading.Thread(target=run, args=(i, s, p)) for i, (s, p) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in results), results
    return [r for r in results if r is not None]


def test_the_same_invoice_issued_through_two_gateways_at_once_is_one(two: list[NuageServer]) -> None:
    month = _last_month()
    for _ in range(3):
        name = _tenant(two[0])
        path = f"/admin/tenants/{name}/invoices/{month}"
        results = _at_once([(two[0], path), (two[1], path), (two[0], path), (two[1], path)])
        assert sorted(status for status, _ in results) == [200, 200, 200, 201], results
        documents = [doc for _, doc in results]
        assert all(doc == documents[0] for doc in documents), documents
        for server in two:
            assert call_json(server, "GET", path)[1] == documents[0]
            listed = call_json(server, "GET", f"/admin/tenants/{name}/invoices")[1]["invoices"]
            assert [i["number"] for i in listed] == [documents[0]["number"]]


def test_tenants_issued_at_once_get_distinct_gap_free_numbers(two: list[NuageServer]) -> None:
    month = _last_month()
    names = [_tenant(two[0]) for _ in range(6)]
    calls = [(two[i % 2], f"/admin/tenants/{name}/invoices/{month}") for i, name in enumerate(names)]
    calls += [(two[(i + 1) % 2], f"/admin/tenants/{name}/invoices/2025-06") for i, name in enumerate(names)]
    results = _at_once(calls)
    assert {status for status, _ in results} == {201}, results
    numbers = [str(doc["number"]) for _, doc in results]
    assert len(set(numbers)) == len(numbers)
    # with the invoices of the test before: every number of the year from 1 on, without a hole
    _, tenants = call_json(two[1], "GET", "/admin/tenants")
    issued = [i["number"] for t in tenants["tenants"]
              for i in call_json(two[0], "GET", f"/admin/tenants/{t['account_id']}/invoices")[1]["invoices"]]
    sequence = sorted(int(str(n).rsplit("-", 1)[1]) for n in issued)
    assert sequence == list(range(1, len(sequence) + 1)), issued
