"""`nuage admin keys revoke` and `nuage admin tenant delete` through one gateway of a PostgreSQL database: the
other gateway, which had the keys cached, refuses them as soon as the change's notification arrives (checked
within 0.5 s, less than the identity cache's 1 s ceiling)."""

from __future__ import annotations

from tests.support.server import NuageServer
from tests.support.tenant_removal import removal_holds
from tests.support.workers import on_worker

NOTIFIED = 0.5   # seconds


def test_revoke_and_delete_apply_on_the_other_gateway(three: list[NuageServer]) -> None:
    a, b = three[0], three[1]
    conn = on_worker(b, 0)
    try:
        removal_holds(a, (b, conn), bound=NOTIFIED)
    finally:
        conn.close()
