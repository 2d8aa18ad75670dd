"""The metrics of one gateway process, put together: the request counter that the HTTP layer hands each
request's record to (None when the metrics are off: then nothing is counted), the app that answers
scrapes, and the background work (writing this worker's counts for the others, with several workers)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.registry import CollectorRegistry

from nuage.metrics.app import MetricsApp
from nuage.metrics.collect import ProcessCollector, Sources, StoreCollector
from nuage.metrics.guard import Guard
from nuage.metrics.requests import RequestMetrics
from nuage.metrics.shared import SharedCollector

__all__ = ["Metrics", "build_metrics"]


@dataclass
class Metrics:
    requests: RequestMetrics | None          # the sink of request records (None: metrics off)
    app: MetricsApp
    background: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)


def build_metrics(guard: Guard, region: str, sources: Sources, store: StoreCollector | None,
                  shared: Path | None = None) -> Metrics:
    """The metrics of this process; ``shared``: the folder where the workers of the gateway add up their
    counts (nuage.metrics.shared), None for a gateway of one process."""
    registry = CollectorRegistry()
    if not guard.enabled:   # the endpoint answers 403, and nothing is counted
        return Metrics(None, MetricsApp(guard, registry, None))
    requests = RequestMetrics()
    local = ProcessCollector(requests, sources, region)
    background: list[Callable[[], Coroutine[Any, Any, None]]] = []
    if shared is not None:
        collector = SharedCollector(local, shared)
        registry.register(collector)
        background.append(collector.run_forever)
    else:
        registry.register(local)
    if store is not None:
        registry.register(store)
    return Metrics(requests, MetricsApp(guard, registry, store), background)
