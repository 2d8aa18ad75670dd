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

__all__ = ["CLASSES", "FIRST_BUCKET", "LATENCY_BOUNDS", "MAX_SERIES", "OTHER", "RequestMetrics", "operation_class"]

#: upper bounds (seconds) of the request latency histogram's buckets; +Inf follows
LATENCY_BOUNDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BOUNDS_MS = tuple(bound * 1000 for bound in LATENCY_BOUNDS)
FIRST_BUCKET = 4   # where a row's latency buckets start (see RequestMetrics.requests)
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

    wants_text = False   # (a sink of nuage.accesslog.Records: no path or user agent needed)

    def __init__(self, max_series: int = MAX_SERIES) -> None:
        self.max_series = max_series
        # (api, operation, status) -> [requests, bytes received, bytes sent, milliseconds in all, then the
        # requests per latency bucket (the last one +Inf)]: one lookup per request (the histogram is by
        # operation class: operations and statuses are added up when scraped)
        self.requests: dict[tuple[str, str, int], list[float]] = {}
        # (api, error code) -> error answers
        self.errors: dict[tuple[str, str], int] = {}

    def emit(self, record: AccessRecord) -> None:
        row = self.requests.get((record.api, record.operation, record.status))
        if row is None:
            row = self._new_row((record.api, record.operation, record.status))
        ms = record.duration_ms
        row[0] += 1
        row[1] += record.bytes_received
        row[2] += record.bytes_sent
        row[3] += ms
        row[FIRST_BUCKET + bisect_left(_BOUNDS_MS, ms)] += 1
        code = record.error_code
        if code:
            errors = self.errors
            error = (record.api, code)
            if error not in errors and len(errors) >= self.max_series:
                error = (record.api, OTHER)
            errors[error] = errors.get(error, 0) + 1

    def _new_row(self, key: tuple[str, str, int]) -> list[float]:
        if len(self.requests) >= self.max_series:
            key = (key[0], OTHER, key[2])
            if key in self.requests:
                return self.requests[key]
        row = self.requests[key] = [0] * (FIRST_BUCKET + len(LATENCY_BOUNDS) + 1)
        return row
