"""``GET /_nuage/metrics`` on the S3 port: the metrics in Prometheus's text format (or OpenMetrics when the
scraper asks for it), for a scraper that :class:`~nuage.metrics.guard.Guard` lets in.

No bucket is named ``_nuage`` (bucket names have no underscore), so the path never hides an S3 request."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import CollectorRegistry

from nuage.accesslog import tell
from nuage.metrics.collect import StoreCollector
from nuage.metrics.guard import Guard

__all__ = ["PATH", "MetricsApp", "is_metrics_request"]

PATH = "/_nuage/metrics"

log = logging.getLogger("nuage.metrics")

_REFUSALS = {
    401: b"401 Unauthorized: a bearer token is needed (Authorization: Bearer TOKEN).\n",
    403: b"403 Forbidden: not allowed to read the metrics of this gateway.\n",
}
_OFF = (b"403 Forbidden: the metrics endpoint is off; start the gateway with --metrics-token, "
        b"--metrics-token-file or --metrics-allow (docs/metrics.md).\n")


def is_metrics_request(scope: dict[str, Any]) -> bool:
    return bool(scope["path"] == PATH)


class MetricsApp:
    """Answers scrapes: ``registry`` holds the collectors; ``store`` is refreshed (read from the metadata
    store) before each answer."""

    def __init__(self, guard: Guard, registry: CollectorRegistry, store: StoreCollector | None) -> None:
        self.guard = guard
        self.registry = registry
        self.store = store

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tell(scope, "metrics", operation="GetMetrics")
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await _send(send, 405, b"405 Method Not Allowed\n", [(b"allow", b"GET, HEAD")], head=False)
            return
        authorization = accept = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"accept":
                accept = value
        client = scope.get("client")
        refused = self.guard.check(client[0] if client else "", authorization)
        if refused:
            extra = [(b"www-authenticate", b'Bearer realm="nuage-metrics"')] if refused == 401 else []
            body = _OFF if not self.guard.enabled else _REFUSALS[refused]
            await _send(send, refused, body, extra, head=method == "HEAD")
            return
        if self.store is not None:
            try:
                await self.store.refresh()
            except Exception:   # the metadata store's part is left out; the rest still answers
                self.store.families = []
                log.exception("metrics: could not read the metadata store")
        encoder, content_type = choose_encoder(accept.decode("latin-1"))
        body = encoder(self.registry)
        await _send(send, 200, body, [], head=method == "HEAD", content_type=content_type.encode())


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]], *, head: bool,
                content_type: bytes = b"text/plain; charset=utf-8") -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": b"" if head else body})
