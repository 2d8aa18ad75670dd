"""`nuage serve --workers 2` on SQLite: what one worker process learns, the other knows at its next request:
a console sign-out, failed console sign-ins (the throttle's count, exact even for attempts at once), an
access key disabled, enabled again or deleted and a user policy deleted through the IAM API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import NuageServer
from tests.support.shared_state import key_changes_hold, sign_out_holds, throttle_holds, throttle_holds_at_once
from tests.support.workers import on_worker, start_workers


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = start_workers(tmp_path_factory.mktemp("workers") / "data")
    yield srv
    assert srv.stop() == 0, srv.log()


def test_a_sign_out_holds_on_every_worker(workers: NuageServer) -> None:
    sign_out_holds(workers, [workers])


def test_failed_sign_ins_are_counted_across_workers(workers: NuageServer) -> None:
    throttle_holds([workers])


def test_failed_sign_ins_at_once_are_counted_exactly(workers: NuageServer) -> None:
    throttle_holds_at_once([workers])


def test_key_changes_apply_on_the_other_worker_at_once(workers: NuageServer) -> None:
    first, second = on_worker(workers, 0), on_worker(workers, 1)
    try:
        key_changes_hold((workers, first), (workers, second))
        key_changes_hold((workers, second), (workers, first))
    finally:
        first.close()
        second.close()

