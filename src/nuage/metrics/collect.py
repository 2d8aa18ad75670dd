"""The metrics as prometheus-client families, made when Prometheus scrapes (custom collectors: nothing of
prometheus-client runs per request).

- :class:`ProcessCollector`: what this process counted (requests, latency, bytes, errors; see
  :mod:`nuage.metrics.requests`) and what it holds now (open connections, the SQLite writer's queue and
  group commits, blob I/O, SQL jobs), read from the parts that count them (:class:`Sources`).
- :class:`StoreCollector`: what the metadata store says, the same for every process of the gateway
  (objects and bytes of the largest buckets, the replication backlog and lag), read before each scrape
  (:meth:`StoreCollector.refresh`).

docs/metrics.md lists every family; tests/api/test_metrics.py checks that the list is complete."""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from nuage.metrics.requests import FIRST_BUCKET, LATENCY_BOUNDS, OTHER, RequestMetrics, operation_class
from nuage.storage.meta.replication import Backlog, FailureCount

__all__ = ["GROUP_BOUNDS", "ProcessCollector", "Sources", "StoreCollector", "top_buckets"]

#: upper bounds of the group-commit size histogram (writes per commit); the writer takes 256 at most
GROUP_BOUNDS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
TOP_BUCKETS = 20


@dataclass(frozen=True)
class Sources:
    """Where this process's gauges and I/O counters are read when scraped (None: not in this process)."""

    connections: Callable[[], int]
    #: (writes waiting, commits per number of writes in them) of the SQLite writer thread
    writer: Callable[[], tuple[int, Sequence[int]]] | None = None
    #: (bytes of blob files read, bytes written, fsyncs)
    blob_io: Callable[[], tuple[int, int, int]] | None = None
    #: (SQL jobs running, waiting for a place)
    sql_jobs: Callable[[], tuple[int, int]] | None = None


def _histogram(counts: Sequence[float], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Cumulative buckets (``le`` labels) of counts per bucket, the last one +Inf."""
    out = []
    total = 0.0
    for bound, count in zip((*bounds, float("inf")), counts, strict=False):
        total += count
        out.append((floatToGoString(bound), total))  # type: ignore[no-untyped-call]
    return out


class ProcessCollector(Collector):
    """This process's metrics."""

    def __init__(self, requests: RequestMetrics, sources: Sources, region: str) -> None:
        self.requests = requests
        self.sources = sources
        self.region = region

    def collect(self) -> Iterator[Metric]:
        region = self.region
        counted = CounterMetricFamily("nuage_http_requests", "HTTP requests served, by API, operation, status.",
                                      labels=("api", "operation", "status", "region"))
        received = CounterMetricFamily("nuage_http_received_bytes", "Bytes of request bodies received.",
                                       labels=("api", "operation", "region"))
        sent = CounterMetricFamily("nuage_http_sent_bytes", "Bytes of response bodies sent.",
                                   labels=("api", "operation", "region"))
        bytes_in: dict[tuple[str, str], float] = {}
        bytes_out: dict[tuple[str, str], float] = {}
        by_class: dict[tuple[str, str], list[float]] = {}   # (api, class) -> ms in all, requests per bucket
        for (api, operation, status), row in list(self.requests.requests.items()):
            api, operation = api or OTHER, operation or OTHER
            counted.add_metric((api, operation, str(status), region), row[0])
            bytes_in[api, operation] = bytes_in.get((api, operation), 0) + row[1]
            bytes_out[api, operation] = bytes_out.get((api, operation), 0) + row[2]
            times = row[FIRST_BUCKET - 1:]
            total = by_class.get((api, operation_class(operation)))
            if total is None:
                by_class[api, operation_class(operation)] = times
            else:
                for i, value in enumerate(times):
                    total[i] += value
        for (api, operation), count in bytes_in.items():
            received.add_metric((api, operation, region), count)
        for (api, operation), count in bytes_out.items():
            sent.add_metric((api, operation, region), count)
        yield from (counted, received, sent)

        latency = HistogramMetricFamily("nuage_http_request_duration_seconds",
                                        "Time from a request's head to the end of its response, by operation class.",
                                        labels=("api", "class", "region"))
        for (api, cls), times in by_class.items():
            latency.add_metric((api, cls, region), _histogram(times[1:], LATENCY_BOUNDS), times[0] / 1000)
        yield latency

        errors = CounterMetricFamily("nuage_errors", "Error answers, by API and S3 error code.",
                                     labels=("api", "code", "region"))
        for (api, code), count in list(self.requests.errors.items()):
            errors.add_metric((api or OTHER, code, region), count)
        yield errors

        yield GaugeMetricFamily("nuage_http_open_connections", "Open HTTP connections (S3 and console ports).",
                                value=self.sources.connections())
        yield GaugeMetricFamily("nuage_workers", "Worker processes whose counts this answer holds.", value=1)
        if self.sources.writer is not None:
            depth, sizes = self.sources.writer()
            yield GaugeMetricFamily("nuage_sqlite_writer_queue_depth",
                                    "Writes waiting for the SQLite writer thread.", value=depth)
            counts = [0.0] * (len(GROUP_BOUNDS) + 1)
            writes = 0
            for size, commits in enumerate(list(sizes)):
                if commits:
                    counts[bisect_left(GROUP_BOUNDS, size)] += commits
                    writes += size * commits
            yield HistogramMetricFamily("nuage_sqlite_group_commit_size", "Writes per SQLite commit (group commit).",
                                        buckets=_histogram(counts, GROUP_BOUNDS), sum_value=writes)
        if self.sources.blob_io is not None:
            read, written, fsyncs = self.sources.blob_io()
            yield CounterMetricFamily("nuage_blob_read_bytes", "Bytes read from blob files.", value=read)
            yield CounterMetricFamily("nuage_blob_written_bytes", "Bytes written to blob files.", value=written)
            yield CounterMetricFamily("nuage_blob_fsyncs", "fsync calls made for blob files and their folders.",
                                      value=fsyncs)
        if self.sources.sql_jobs is not None:
            running, waiting = self.sources.sql_jobs()
            yield GaugeMetricFamily("nuage_sql_jobs_running", "SQL jobs running.", value=running)
            yield GaugeMetricFamily("nuage_sql_jobs_waiting", "SQL jobs waiting for a place to run.", value=waiting)


def top_buckets(usage: Sequence[tuple[str, int, int]], top: int) -> list[tuple[str, int, int]]:
    """(bucket, bytes, objects) of the ``top`` buckets holding the most bytes (then by name), and one row
    ``_other`` adding up all the others (when there are any)."""
    ranked = sorted(usage, key=lambda row: (-row[1], row[0]))
    rows = list(ranked[:top])
    rest = ranked[top:]
    if rest:
        rows.append((OTHER, sum(r[1] for r in rest), sum(r[2] for r in rest)))
    return rows


class StoreCollector(Collector):
    """The metadata store's metrics, read by :meth:`refresh` before each scrape."""

    def __init__(self, usage: Callable[[], Awaitable[list[tuple[str, int, int]]]],
                 backlog: Callable[[], list[Backlog]], failures: Callable[[], list[FailureCount]],
                 top: int = TOP_BUCKETS) -> None:
        self.usage = usage
        self.backlog = backlog
        self.failures = failures
        self.top = top
        self.families: list[Metric] = []

    async def refresh(self) -> None:
        usage = await self.usage()
        backlog, failures = await asyncio.to_thread(lambda: (self.backlog(), self.failures()))
        stored = GaugeMetricFamily("nuage_bucket_bytes", f"Bytes stored per bucket (all versions), the {self.top} "
                                   "largest buckets and _other for the rest.", labels=("bucket",))
        objects = GaugeMetricFamily("nuage_bucket_objects", f"Objects per bucket (all versions), the {self.top} "
                                    "largest buckets and _other for the rest.", labels=("bucket",))
        for name, size, count in top_buckets(usage, self.top):
            stored.add_metric((name,), size)
            objects.add_metric((name,), count)
        now = time.time()
        oldest = min((b.oldest for b in backlog if b.oldest), default=None)
        self.families = [
            stored, objects,
            GaugeMetricFamily("nuage_buckets", "Buckets.", value=len(usage)),
            GaugeMetricFamily("nuage_replication_backlog_versions", "Object versions waiting to be replicated.",
                              value=sum(b.pending for b in backlog)),
            GaugeMetricFamily("nuage_replication_lag_seconds",
                              "Age of the oldest version waiting to be replicated (0: none waits).",
                              value=max(0.0, now - oldest) if oldest else 0.0),
            GaugeMetricFamily("nuage_replication_failed_versions",
                              "Object versions whose replication failed for good (status FAILED).",
                              value=sum(f.failed for f in failures)),
        ]

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)
