"""Requests counted as they end: a sink of :class:`nuage.accesslog.AccessRecord` (see
:class:`nuage.accesslog.Records`) that adds each record to a few dictionaries of plain numbers, on the
event loop. Nothing of prometheus-client runs per request; :mod:`nuage.metrics.collect` reads these
numbers when Prometheus scrapes.

Cardinality is bounded: the labels are the API, the operation (a fixed set per API), the status, the S3
error code and an operation class (:data:`CLASSES`); past :data:`MAX_SERIES` keys in one table, a new
operation or error code is counted as ``_other`` (an API that names operations from its input cannot
make the table grow without end)."""

from __future__ import annotations

from bisect import bisect_left

from nuage.accesslog import AccessRecord

__all__ = ["CLASSES", "LATENCY_BOUNDS", "MAX_SERIES", "OTHER", "RequestMetrics", "operation_class"]

#: upper bounds (seconds) of the request latency histogram's buckets; +Inf follows
LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MAX_SERIES = 2000
OTHER = "_other"    # no S3 operation, error code or bucket has a name starting with "_"

#: the operation classes of the latency histogram: what S3 prices and what an operator watches apart
CLASSES = ("read", "write", "list", "delete", "other")
_READ = frozenset(("GetObject", "HeadObject", "SelectObjectContent", "GetObjectAttributes"))
_WRITE = frozenset(("PutObject", "CopyObject", "UploadPart", "UploadPartCopy", "CompleteMultipartUpload",
                    "PostObject", "AppendObject"))
_DELETE = frozenset(("DeleteObject", "DeleteObjects"))


def operation_class(operation: str) -> str:
    """The class of an operation: read, write, list, delete or other."""
    if operation in _READ:
        return "read"
    if operation in _WRITE:
        return "write"
    if operation in _DELETE:
        return "delete"
    if operation.startswith("List"):
        return "list"
    return "other"


class RequestMetrics:
    """The counts of this process's requests since it started."""

    def __init__(self, max_series: int = MAX_SERIES) -> None:
        self.max_series = max_series
        # (api, operation, status) -> [requests, bytes received, bytes sent]
        self.requests: dict[tuple[str, str, int], list[int]] = {}
        # (api, operation) -> counts per latency bucket (the last one +Inf), then the sum of seconds (the
        # histogram is by operation class: classes are added up when scraped)
        self.latency: dict[tuple[str, str], list[float]] = {}
        # (api, error code) -> error answers
        self.errors: dict[tuple[str, str], int] = {}

    def emit(self, record: AccessRecord) -> None:
        key = (record.api, record.operation, record.status)
        row = self.requests.get(key)
        if row is None:
            row = self._new_row(key)
        row[0] += 1
        row[1] += record.bytes_received
        row[2] += record.bytes_sent
        seconds = record.duration_ms / 1000
        times = self.latency.get(key[:2])
        if times is None:
            times = self._new_times(key[0], key[1])
        times[bisect_left(LATENCY_BOUNDS, seconds)] += 1
        times[-1] += seconds
        code = record.error_code
        if code:
            errors = self.errors
            error = (record.api, code)
            if error not in errors and len(errors) >= self.max_series:
                error = (record.api, OTHER)
            errors[error] = errors.get(error, 0) + 1

    def _new_row(self, key: tuple[str, str, int]) -> list[int]:
        if len(self.requests) >= self.max_series:
            key = (key[0], OTHER, key[2])
            if key in self.requests:
                return self.requests[key]
        row = self.requests[key] = [0, 0, 0]
        return row

    def _new_times(self, api: str, operation: str) -> list[float]:
        key = (api, operation) if len(self.latency) < self.max_series else (api, OTHER)
        times = self.latency.get(key)
        if times is None:
            times = self.latency[key] = [0.0] * (len(LATENCY_BOUNDS) + 2)
        return times
