"""Three gateways on one PostgreSQL database (and two worker processes of one gateway on it): a console
sign-out and failed console sign-ins hold across them, and an access key disabled, enabled again or
deleted, or a user policy deleted, through one applies on the other as soon as the change's notification
arrives (at its commit; checked within 0.5 s, less than the identity cache's 1 s ceiling)."""

from __future__ import annotations

import pytest

from tests.support.postgres import PostgresCluster
from tests.support.server import NuageServer
from tests.support.shared_state import key_changes_hold, sign_out_holds, throttle_holds, throttle_holds_at_once
from tests.support.workers import on_worker, start_workers

NOTIFIED = 0.5   # seconds


def test_a_sign_out_holds_on_every_gateway(three: list[NuageServer]) -> None:
    sign_out_holds(three[0], three)


def test_failed_sign_ins_are_counted_across_gateways(three: list[NuageServer]) -> None:
    throttle_holds(three)


def test_failed_sign_ins_at_once_are_counted_exactly(three: list[NuageServer]) -> None:
    throttle_holds_at_once(three)


def test_key_changes_apply_on_the_other_gateway(three: list[NuageServer]) -> None:
    a, b = three[0], three[2]
    first, second = on_worker(a, 0), on_worker(b, 0)
    try:
        key_changes_hold((a, first), (b, second), bound=NOTIFIED)
        key_changes_hold((b, second), (a, first), bound=NOTIFIED)
    finally:
        first.close()
        second.close()


def test_workers_on_postgresql(pg: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = start_workers(tmp_path_factory.mktemp("pgworkers") / "data", db=pg.create_database())
    first, second = on_worker(srv, 0), on_worker(srv, 1)
    try:
        sign_out_holds(srv, [srv])
        throttle_holds([srv])
        throttle_holds_at_once([srv])
        key_changes_hold((srv, first), (srv, second), bound=NOTIFIED)
    finally:
        first.close()
        second.close()
        assert srv.stop() == 0, srv.log()
