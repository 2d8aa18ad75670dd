"""The access log: one line per HTTP request, in JSON or in the common log format, to stdout or a file.

The HTTP layer (:mod:`nuage.httpserver`) knows a request's remote address, method, path, status, bytes and
timing; the app that serves it (S3, IAM, admin, query, console) knows what it was: it fills the
:class:`AccessFields` found in the ASGI scope under :data:`SCOPE_KEY` (absent when no record is wanted, so
an app does nothing then). At the end of the request the HTTP layer makes one :class:`AccessRecord` of
both and hands it to :meth:`Records.emit`, which passes it to each of its sinks: the access log
(:class:`AccessLog`), the metrics (:mod:`nuage.metrics`), any number of them.

Lines are kept in memory and written a batch of whole lines at a time (about once a second, or when 64 KiB
are waiting, and at shutdown): with ``O_APPEND`` on a file, or at most ``PIPE_BUF`` bytes at a time on a
pipe, the worker processes of one gateway write to the same file or stdout without mixing their lines.
A file moved away (logrotate without ``copytruncate``) is noticed at the next batch and a new one is
created at the path, as :class:`logging.handlers.WatchedFileHandler` does; :meth:`AccessLog.reopen` (SIGHUP)
opens the path again at the next batch whatever happened to it. A file truncated in place (``copytruncate``)
goes on from its new end (``O_APPEND``).

Nothing secret is written: no header but the user agent, and the query string without the values of
``X-Amz-Signature``, ``Signature``, ``X-Amz-Security-Token`` and ``x-amz-security-token``."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = ["FORMATS", "SCOPE_KEY", "AccessFields", "AccessLog", "AccessRecord", "RecordSink", "Records",
           "format_common", "format_json", "redact_query", "tell"]

#: where an app finds the fields it fills, in the ASGI scope (absent: the log is off)
SCOPE_KEY = "nuage.access"
FORMATS = ("json", "common")
Format = Literal["json", "common"]

FLUSH_SECONDS = 1.0
FLUSH_BYTES = 64 * 1024
PIPE_BUF = 4096   # writes of at most this many bytes to a pipe are never mixed with others (POSIX)

_SECRET_PARAMS = frozenset(("x-amz-signature", "signature", "x-amz-security-token"))


class AccessFields:
    """What the app that serves a request says about it (each field "" until it is told)."""

    __slots__ = ("access_key", "api", "bucket", "error_code", "key", "operation", "principal", "request_id")

    def __init__(self) -> None:
        self.api = ""            # s3, iam, admin, query, console, ...
        self.operation = ""      # PutObject, CreateUser, ...
        self.principal = ""      # the caller's ARN ("" anonymous)
        self.access_key = ""
        self.bucket = ""
        self.key = ""
        self.request_id = ""
        self.error_code = ""     # the S3 error code of an error answer (NoSuchKey, ...)


def tell(scope: dict[str, Any], api: str, *, operation: str | None = None, principal: str | None = None,
         access_key: str | None = None, request_id: str | None = None) -> None:
    """Note in ``scope`` what the access log says of this request (nothing when the log is off)."""
    fields: AccessFields | None = scope.get(SCOPE_KEY)
    if fields is None:
        return
    fields.api = api
    if operation is not None:
        fields.operation = operation
    if principal is not None:
        fields.principal = principal
    if access_key is not None:
        fields.access_key = access_key
    if request_id is not None:
        fields.request_id = request_id


@dataclass(slots=True)
class AccessRecord:
    """One line of the access log."""
    time: float              # when the request's head arrived (seconds since the epoch)
    request_id: str
    remote: str
    principal: str
    access_key: str
    api: str
    operation: str
    bucket: str
    key: str
    method: str
    path: str                # as the client sent it (percent-encoded), query redacted
    http_version: str
    status: int
    bytes_sent: int
    bytes_received: int
    duration_ms: float
    user_agent: str
    region: str
    worker: int
    error_code: str = ""     # the S3 error code of an error answer ("" otherwise); not in the log's lines


class RecordSink(Protocol):
    """Takes the record of each request, at its end, on the event loop: it must be quick. ``wants_text``:
    it reads the record's path and user agent (else they may be left "", which saves their making)."""

    wants_text: bool

    def emit(self, record: AccessRecord) -> None: ...


class Records:
    """Where the records of a server's requests go (each sink in turn), and the region and worker process
    every record names."""

    __slots__ = ("emit", "region", "sinks", "text", "worker")
    emit: Callable[[AccessRecord], None]

    def __init__(self, sinks: Sequence[RecordSink], region: str = "", worker: int = 0) -> None:
        self.sinks = tuple(sinks)
        self.region = region
        self.worker = worker
        self.text = any(sink.wants_text for sink in self.sinks)   # a sink reads the path and user agent
        # one sink (the usual case): its own method, no loop
        self.emit = self.sinks[0].emit if len(self.sinks) == 1 else self._emit_all

    def _emit_all(self, record: AccessRecord) -> None:
        for sink in self.sinks:
            sink.emit(record)


def redact_query(query: str) -> str:
    """``query`` with the values of signatures and session tokens replaced by ``REDACTED``."""
    if not query:
        return query
    lowered = query.lower()
    if "signature" not in lowered and "security-token" not in lowered:
        return query
    parts = []
    for part in query.split("&"):
        name, sep, _ = part.partition("=")
        parts.append(f"{name}=REDACTED" if sep and name.lower() in _SECRET_PARAMS else part)
    return "&".join(parts)


_ENCODER = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))
_seconds: dict[str, tuple[int, str]] = {}   # format -> (the last second formatted, its text)


def _utc(when: float, fmt: str) -> str:
    """``when`` formatted (to the second) in UTC; the same second is formatted once."""
    second = int(when)
    last = _seconds.get(fmt)
    if last is not None and last[0] == second:
        return last[1]
    text = time.strftime(fmt, time.gmtime(second))
    _seconds[fmt] = (second, text)
    return text


def format_json(r: AccessRecord) -> str:
    return _ENCODER.encode({
        "time": f"{_utc(r.time, '%Y-%m-%dT%H:%M:%S')}.{int(r.time * 1000) % 1000:03d}Z",
        "request_id": r.request_id, "remote": r.remote, "principal": r.principal or "anonymous",
        "access_key": r.access_key, "api": r.api, "operation": r.operation, "bucket": r.bucket, "key": r.key,
        "method": r.method, "path": r.path, "status": r.status, "bytes_sent": r.bytes_sent,
        "bytes_received": r.bytes_received, "duration_ms": r.duration_ms, "user_agent": r.user_agent,
        "region": r.region, "worker": r.worker,
    })


def _quoted(value: str) -> str:
    """A value for a quoted field of the common format: no quote, backslash or control character."""
    if not value:
        return "-"
    return value if value.isprintable() and value.isascii() and '"' not in value and "\\" not in value \
        else _ENCODER.encode(value)[1:-1]


def format_common(r: AccessRecord) -> str:
    """The common log format, then request id, operation, duration in milliseconds, bytes received and
    user agent (as the combined formats add fields at the end)."""
    when = _utc(r.time, "%d/%b/%Y:%H:%M:%S +0000")
    user = (r.access_key or "-").replace(" ", "_")
    return (f'{r.remote or "-"} - {user} [{when}] "{r.method} {_quoted(r.path)} HTTP/{r.http_version}" '
            f'{r.status} {r.bytes_sent} {r.request_id or "-"} {r.operation or "-"} {r.duration_ms:.3f} '
            f'{r.bytes_received} "{_quoted(r.user_agent)}"')


class AccessLog:
    """Where the lines go: a path (a file, appended to) or "-" (stdout)."""

    wants_text = True

    def __init__(self, target: str, fmt: Format = "json", region: str = "", worker: int = 0) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"access log format {fmt!r}: one of {', '.join(FORMATS)}")
        self.target = target
        self.formatter = format_json if fmt == "json" else format_common
        self.region = region
        self.worker = worker
        self._lines: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()
        self._fd = -1
        self._identity: tuple[int, int] | None = None
        self._pipe = False
        self._timer: threading.Timer | None = None
        self._closed = False
        self._reopen = False
        self._open()

    def _open(self) -> None:
        if self.target == "-":
            self._fd = 1
        else:
            path = Path(self.target)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        info = os.fstat(self._fd)
        self._identity = (info.st_dev, info.st_ino)
        self._pipe = stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode)

    def reopen(self) -> None:
        """Open the path again before the next batch (SIGHUP: safe in a signal handler, it takes no lock)."""
        self._reopen = True

    def _reopen_if_moved(self) -> None:
        if self.target == "-":
            return
        try:
            info = os.stat(self.target)
            moved = (info.st_dev, info.st_ino) != self._identity
        except FileNotFoundError:
            moved = True
        if moved or self._reopen:
            self._reopen = False
            old = self._fd
            self._open()
            os.close(old)

    def emit(self, record: AccessRecord) -> None:
        line = (self.formatter(record) + "\n").encode("utf-8", "replace")
        with self._lock:
            if self._closed:
                return
            self._lines.append(line)
            self._size += len(line)
            if self._size >= FLUSH_BYTES:
                self._write_locked()
            elif self._timer is None:
                self._timer = threading.Timer(FLUSH_SECONDS, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            self._timer = None
            self._write_locked()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._write_locked()
            self._closed = True
            if self._fd > 2:
                os.close(self._fd)
            self._fd = -1

    def _write_locked(self) -> None:
        lines, self._lines, self._size = self._lines, [], 0
        if not lines or self._fd < 0:
            return
        try:
            self._reopen_if_moved()
            if self._pipe:   # batches of whole lines of at most PIPE_BUF bytes (a longer line alone)
                batch: list[bytes] = []
                size = 0
                for line in lines:
                    if batch and size + len(line) > PIPE_BUF:
                        _write_all(self._fd, b"".join(batch))
                        batch, size = [], 0
                    batch.append(line)
                    size += len(line)
                if batch:
                    _write_all(self._fd, b"".join(batch))
            else:
                _write_all(self._fd, b"".join(lines))
        except OSError:
            pass   # a full disk or a closed stdout loses access lines, never a request


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
