"""The SQL jobs API: JSON over HTTP at ``/query/...`` on the S3 port, signed with SigV4 (service
``nuage-query``) by any user's access key; every job runs with that user's permissions.

    POST   /query/jobs              {"sql", "output"?, "wait"?}   submit; 201 with the job
             output: {"format": "json"|"csv"} (default json: the result stays with the job), or
                     {"bucket", "key", "format": "csv"|"parquet"} (the result is written as that object)
             wait:   seconds to wait for the job to end before answering (default 0, at most 300)
    GET    /query/jobs                                           the caller's jobs, newest first
    GET    /query/jobs/ID                                        one job (status, bytes scanned, duration, ...)
    GET    /query/jobs/ID/result?format=json|csv&max_rows=N      its result rows (JSON) or CSV text
    POST   /query/jobs/ID/cancel   (or DELETE /query/jobs/ID)    cancel a queued or running job
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from nuage.accesslog import tell
from nuage.asgi import BodyError, json_object, read_small_body, scope_header, signing_parts
from nuage.core.access.query import base_conditions
from nuage.core.identities import Identities, Identity
from nuage.core.select.errors import SelectError
from nuage.core.signed_calls import scope_region, verify_call
from nuage.errors import AccessDenied
from nuage.query.errors import json_error
from nuage.query.jobs import Output, QueryService
from nuage.query.results import plain
from nuage.sigv4 import AuthError
from nuage.storage.meta.jobs import JobRecord
from nuage.storage.meta.outage import RETRY_AFTER, database_unavailable
from nuage.types import BucketName, ObjectKey

log = logging.getLogger("nuage.query")

SERVICE = "nuage-query"
MAX_BODY = 256 * 1024
MAX_WAIT = 300.0
DEFAULT_ROWS = 10_000
MAX_ROWS = 1_000_000


def is_query_request(scope: dict[str, Any]) -> bool:
    path = str(scope.get("path", ""))
    return (scope.get("type") == "http" and (path == "/query" or path.startswith("/query/"))
            and scope_region(scope_header(scope, b"authorization"), SERVICE) is not None)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def job_dict(rec: JobRecord, progress: float | None = None) -> dict[str, Any]:
    end = rec.finished if rec.finished is not None else (time.time() if rec.started is not None else None)
    out: dict[str, Any] = {
        "id": rec.job_id, "status": rec.status, "sql": rec.sql, "principal": rec.principal,
        "created": rec.created, "started": rec.started, "finished": rec.finished,
        "duration_seconds": round(end - rec.started, 6) if end is not None and rec.started is not None else None,
        "bytes_scanned": rec.bytes_scanned, "objects": rec.objects, "rows": rec.rows,
        "columns": json.loads(rec.columns) if rec.columns else None, "output": json.loads(rec.output),
        "error": {"code": rec.error_code, "message": rec.error_message} if rec.error_code else None,
    }
    if progress is not None:
        out["progress"] = progress
    return out


def _output(raw: object) -> Output:
    if raw is None:
        return Output("json")
    if not isinstance(raw, dict):
        raise ApiError(400, "InvalidArgument", "output must be an object.")
    fmt = str(raw.get("format", "")).lower()
    bucket, key = raw.get("bucket"), raw.get("key")
    if bucket is None and key is None:
        if fmt not in ("", "json", "csv"):
            raise ApiError(400, "InvalidArgument", "A result kept with the job is json or csv.")
        return Output(fmt or "json")
    if not isinstance(bucket, str) or not isinstance(key, str) or not bucket or not key:
        raise ApiError(400, "InvalidArgument", "Saving the result as an object needs a bucket and a key.")
    if fmt not in ("csv", "parquet"):
        raise ApiError(400, "InvalidArgument", "A result saved as an object is csv or parquet.")
    return Output(fmt, BucketName(bucket), ObjectKey(key))


class QueryApp:
    def __init__(self, service: QueryService, identities: Identities, region: str,
                 max_skew_seconds: int = 900) -> None:
        self.service = service
        self.identities = identities
        self.regions = {"us-east-1", region}
        self.max_skew = max_skew_seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        content_type = b"application/json"
        extra: list[tuple[bytes, bytes]] = []
        try:
            status, payload = await self._handle(scope, receive)
            if isinstance(payload, Path):
                content_type = b"text/csv"
                body = await asyncio.to_thread(payload.read_bytes)
                payload.unlink(missing_ok=True)
            else:
                body = json.dumps(payload).encode()
        except ApiError as err:
            status, body = err.status, self._error(err.code, err.message)
        except SelectError as exc:
            code, status = json_error(exc)
            body = self._error(code, exc.message)
        except Exception as exc:
            content_type = b"application/json"
            if database_unavailable(exc, log, f"query {scope.get('method')} {scope.get('path')}",
                                    "503 ServiceUnavailable"):
                status, body = 503, self._error("ServiceUnavailable", "The metadata database did not answer. "
                                                                      "Please try again.")
                extra.append((b"retry-after", str(RETRY_AFTER).encode()))
            else:
                log.exception("internal error in the query API")
                status, body = 500, self._error("InternalError", "Internal failure.")
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _error(code: str, message: str) -> bytes:
        return json.dumps({"error": {"code": code, "message": message}}).encode()

    def _authenticate(self, scope: dict[str, Any], body: bytes) -> Identity:
        raw_path, raw_query, headers = signing_parts(scope)
        try:
            ident = verify_call(self.identities, scope["method"], raw_path, raw_query, headers, body,
                                service=SERVICE, regions=self.regions, max_skew_seconds=self.max_skew)
        except AuthError as exc:
            code, status = json_error(exc)
            raise ApiError(status, code, exc.message) from exc
        except AccessDenied as exc:   # a key of a suspended account
            raise ApiError(403, "AccessDenied", exc.message) from exc
        return ident

    async def _handle(self, scope: dict[str, Any], receive: Any) -> tuple[int, Any]:
        try:
            raw = await read_small_body(receive, MAX_BODY)
        except BodyError as exc:
            if exc.too_large:
                raise ApiError(413, "EntityTooLarge", "The request is too large.") from exc
            raise ApiError(400, "IncompleteBody", "The request body was not received.") from exc
        # on a thread: a key not cached yet is read from the store, which must not stall the event loop
        caller = await asyncio.to_thread(self._authenticate, scope, raw)
        tell(scope, "query", principal=caller.arn, access_key=caller.access_key)
        try:
            body = json_object(raw)
        except ValueError as exc:
            raise ApiError(400, "MalformedJSON", str(exc)) from exc
        method = scope["method"]
        parts = [unquote(p) for p in str(scope["path"]).split("/")[2:] if p]
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        svc = self.service
        if parts == ["jobs"] and method == "POST":
            sql = body.get("sql")
            if not isinstance(sql, str) or not sql.strip():
                raise ApiError(400, "InvalidArgument", "sql is required.")
            wait = body.get("wait", 0)
            if isinstance(wait, bool) or not isinstance(wait, int | float) or wait < 0:
                raise ApiError(400, "InvalidArgument", "wait is a number of seconds.")
            rec = await svc.submit(caller, sql, _output(body.get("output")), _conditions(scope))
            if wait:
                await svc.wait(rec.job_id, min(float(wait), MAX_WAIT))
                rec = await svc.job(caller, rec.job_id)
            return 201, job_dict(rec, svc.progress(rec))
        if parts == ["jobs"] and method == "GET":
            limit = _int(query.get("max_jobs"), 100, 1000)
            return 200, {"jobs": [job_dict(r, svc.progress(r)) for r in await svc.jobs(caller, limit)]}
        if len(parts) == 2 and parts[0] == "jobs" and method == "GET":
            rec = await svc.job(caller, parts[1])
            return 200, job_dict(rec, svc.progress(rec))
        if len(parts) == 3 and parts[0] == "jobs" and parts[2] == "result" and method == "GET":
            fmt = query.get("format", "json").lower()
            if fmt == "csv":
                return 200, await svc.result_csv(caller, parts[1])
            if fmt != "json":
                raise ApiError(400, "InvalidArgument", "format is json or csv.")
            columns, rows = await svc.result(caller, parts[1], _int(query.get("max_rows"), DEFAULT_ROWS, MAX_ROWS))
            return 200, {"columns": columns, "rows": [[plain(v) for v in r] for r in rows]}
        if (len(parts) == 3 and parts[0] == "jobs" and parts[2] == "cancel" and method == "POST") or (
                len(parts) == 2 and parts[0] == "jobs" and method == "DELETE"):
            return 200, job_dict(await svc.cancel(caller, parts[1]))
        raise ApiError(404, "NoSuchRoute", f"No query operation {method} {scope['path']}.")

def _conditions(scope: dict[str, Any]) -> dict[str, list[str]]:
    client = scope.get("client") or ("", 0)
    return base_conditions(secure=scope.get("scheme") == "https", source_ip=str(client[0]) or None)


def _int(raw: str | None, default: int, hi: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "InvalidArgument", "Expected a positive whole number.")
    return min(int(raw), hi)
