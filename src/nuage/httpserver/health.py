"""``GET /_nuage/health`` on the S3 port, for load balancers: 200 when this gateway serves and its metadata
database answers, else 503. No authentication, so the body says nothing a stranger may not know: whether
it is ready, whether the database answered, and which worker process of the gateway answered.

No bucket is named ``_nuage`` (bucket names have no underscore), so the path never hides an S3 request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nuage.accesslog import tell
from nuage.logthrottle import LogThrottle

__all__ = ["PATH", "HealthApp", "is_health_request"]

PATH = "/_nuage/health"
PROBE_TIMEOUT = 2.0    # seconds the database has to answer: a load balancer's check must not hang

log = logging.getLogger("nuage.health")
_reports = LogThrottle(60.0)


def is_health_request(scope: dict[str, Any]) -> bool:
    return bool(scope["path"] == PATH)


class HealthApp:
    """Answers the health checks; ``probe`` is one cheap read of the metadata database."""

    def __init__(self, probe: Callable[[], Awaitable[object]], worker: int = 0,
                 timeout: float = PROBE_TIMEOUT) -> None:
        self.probe = probe
        self.worker = worker
        self.timeout = timeout

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tell(scope, "health", operation="GetHealth")
        if scope["method"] not in ("GET", "HEAD"):
            await _send(send, 405, {"status": "method not allowed"}, head=False, allow=True)
            return
        database = "ok"
        try:
            await asyncio.wait_for(self.probe(), self.timeout)
        except Exception as exc:   # noqa: BLE001 - whatever the reason, the database did not answer
            database = "unreachable"
            if _reports.admit("health") is not None:
                log.warning("health check: the metadata database did not answer: %s",
                            type(exc).__name__ if isinstance(exc, TimeoutError) else exc)
        ok = database == "ok"
        await _send(send, 200 if ok else 503, {"status": "ok" if ok else "unavailable", "database": database,
                                               "worker": self.worker}, head=scope["method"] == "HEAD")


async def _send(send: Any, status: int, body: dict[str, object], *, head: bool, allow: bool = False) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
               (b"cache-control", b"no-store")]
    if allow:
        headers.append((b"allow", b"GET, HEAD"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else payload})
