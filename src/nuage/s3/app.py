"""The S3 ASGI application: parse, route, authenticate, dispatch, render errors."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from nuage.accesslog import SCOPE_KEY, AccessFields
from nuage.core import memo
from nuage.core.metering import Meter
from nuage.errors import BucketNotFound, NuageError, ObjectCorrupt, ResponseAborted
from nuage.s3 import errors as e
from nuage.s3 import metering
from nuage.s3.access import authorize
from nuage.s3.auth import body_stream, verify
from nuage.s3.context import Services
from nuage.s3.full import full_disk, note_full_disk
from nuage.s3.handlers.cors import add_cors_headers
from nuage.s3.handlers.lifecycle import add_expiration_header
from nuage.s3.http import Request, Response
from nuage.s3.operation import Access
from nuage.s3.redirect import misdirected, redirect
from nuage.s3.router import Target, route
from nuage.s3.unavailable import database_unavailable
from nuage.sigv4.canonical import percent_decode, query_params
from nuage.types import BucketName, ObjectKey

log = logging.getLogger("nuage.s3")

MAX_HEADER_BYTES = 8 * 1024
MAX_TOTAL_HEADERS = 64 * 1024
NO_BODY_STATUSES = (204, 304)


_REQUEST_PREFIX = secrets.token_hex(4).upper()
_request_counter = itertools.count(1)


def _request_id() -> str:
    """Unique per process and request: a random per-process prefix and a counter (no syscall)."""
    return f"{_REQUEST_PREFIX}{next(_request_counter):08X}"


DRAIN_LIMIT = 1024 * 1024
DRAIN_SECONDS = 2.0


async def _drain(req: Request) -> bool:
    """After an error in the middle of a body the client is still sending, read and drop what is
    left (up to a limit) so that it can read the answer and keep its connection; a body not started
    yet (a client waiting for 100 Continue) is not asked for. True when the body was read to its end."""
    if not req.body_started:
        return False
    seen = 0
    deadline = asyncio.get_running_loop().time() + DRAIN_SECONDS
    try:
        while seen <= DRAIN_LIMIT:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            message = await asyncio.wait_for(req.receive(), timeout=left)
            if message["type"] != "http.request":
                return False
            seen += len(message.get("body", b""))
            if not message.get("more_body", False):
                req.body_consumed = True
                return True
    except TimeoutError:
        return False
    return False


def _query_part(raw: str) -> str:
    if "+" in raw:
        raw = raw.replace("+", " ")
    return percent_decode(raw)


def _query_dict(raw_query: str) -> dict[str, str]:
    """The decoded query parameters, first value winning: the pieces SigV4 parses (memoised), with ``+``
    read as a space as parse_qsl does (SigV4 keeps it literal)."""
    query: dict[str, str] = {}
    for p in query_params(raw_query):
        name = p.name if "+" not in p.raw_name else _query_part(p.raw_name)
        if name not in query:
            query[name] = p.value if "+" not in p.raw_value else _query_part(p.raw_value)
    return query


def _has_body(req: Request) -> bool:
    length = req.headers.get("content-length")
    return (length is not None and length != "0") or "chunked" in req.headers.get("transfer-encoding", "")


_HEADER_NAMES: dict[bytes, str] = {}   # header names as received -> lowercased text (a few dozen in practice)


def _header_str(raw: bytes) -> str:
    """Header bytes as text: UTF-8 when they are (clients sign the UTF-8 text), else Latin-1."""
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _header_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


@functools.lru_cache(maxsize=1024)
def _is_utf8(raw_path: str) -> bool:
    """Whether a percent-encoded path decodes to UTF-8 text: S3 keys and bucket names are UTF-8, and S3
    answers 400 InvalidURI to a path that is not (``/bucket/%FF``)."""
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@functools.lru_cache(maxsize=4096)   # pure; hot objects are asked for again and again
def _path_address(raw_path: str) -> tuple[BucketName | None, ObjectKey | None]:
    """(bucket, key) of a path-style request path."""
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    if not path:
        return None, None
    bucket, _, rest = path.partition("/")
    key = ObjectKey(unquote(rest, errors="surrogateescape")) if rest else None
    # RGW's "tenant:bucket" form (s3-tests' tenant user): one global namespace here, so the tenant
    # part only names the owner and is dropped; ":" never occurs in a bucket name.
    name = unquote(bucket)
    return BucketName(name.rpartition(":")[2] or name), key


def _log_fields(fields: AccessFields, req: Request | None, request_id: str) -> None:
    """What the access log says of an S3 request."""
    fields.api, fields.request_id = "s3", request_id
    if req is None:
        return
    fields.bucket, fields.key = req.bucket or "", req.key or ""
    if req.operation is not None:
        fields.operation = req.operation.name
    if req.identity is not None:
        fields.principal, fields.access_key = req.identity.arn, req.identity.access_key


class S3App:
    def __init__(self, services: Services, on_request: Callable[[str], None] | None = None,
                 meter: Meter | None = None) -> None:
        self.services = services
        domain = services.settings.domain
        self.vhost_suffixes = tuple("." + d for d in (domain, *services.settings.extra_domains) if d)
        self.host_id = os.urandom(24).hex()
        # told the bucket of each request that names one (the console's request meter)
        self.on_request = on_request
        self.meter = meter   # what each request counts on its bill (nuage.s3.metering)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":   # lifespan events are the server's Lifespan app's
            return
        request_id = _request_id()
        memo.begin_request()
        req: Request | None = None
        try:
            req = self._parse(scope, receive, request_id)
            if req.bucket is not None and self.on_request is not None:
                self.on_request(req.bucket)
            response = await self._handle(req)
        except e.S3Error as exc:
            if exc.code == "AuthorizationHeaderMalformed":   # signed for another region (a bucket elsewhere?)
                exc = await misdirected(self.services, req, exc)
            response = self._error(exc, req, scope, request_id)
        except BucketNotFound as exc:   # maybe a bucket of another region: PermanentRedirect there
            response = self._error(await redirect(self.services, req) or e.from_domain(exc), req, scope, request_id)
        except NuageError as exc:
            response = self._error(e.from_domain(exc), req, scope, request_id)
        except Exception as exc:
            full = full_disk(exc)
            if (unavailable := database_unavailable(exc, scope["method"], scope["path"])) is not None:
                response = self._error(unavailable, req, scope, request_id)
            elif full is None:
                log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
                response = self._error(e.InternalError(), req, scope, request_id)
            else:
                note_full_disk(full, scope["method"], scope["path"])
                response = self._error(e.InsufficientStorage(), req, scope, request_id)
        if (fields := scope.get(SCOPE_KEY)) is not None:
            _log_fields(fields, req, request_id)
        try:
            if req is not None and req.bucket is not None:   # CORS and lifecycle headers, errors included
                try:
                    await add_expiration_header(self.services, req, response)
                    await add_cors_headers(self.services, req, response)
                except Exception:
                    log.exception("could not add CORS or expiration headers on %s %s", req.method, req.raw_path)
            if req is not None and not req.body_consumed and _has_body(req) and not await _drain(req):
                # The rest of the body was not read (an early error): the connection cannot be reused.
                response.headers.append(("connection", "close"))
            await self._send(send, response, request_id, scope["method"] == "HEAD")
        finally:
            if response.on_done is not None:   # e.g. let go of the bytes of the version just sent
                response.on_done()
            if self.meter is not None and req is not None and (
                    later := metering.record(self.meter, req, response.status, response.sent)) is not None:
                await later

    # -- parsing ----------------------------------------------------------------------------------
    def _parse(self, scope: dict[str, Any], receive: Any, request_id: str) -> Request:
        header_list: list[tuple[str, str]] = []
        headers: dict[str, str] = {}
        total = 0
        names = _HEADER_NAMES
        for raw_name, raw_value in scope["headers"]:
            name = names.get(raw_name)
            if name is None:
                name = raw_name.decode("latin-1").lower()
                if len(names) < 4096:
                    names[raw_name] = name
            value = raw_value.decode("ascii") if raw_value.isascii() else _header_str(raw_value)
            total += len(raw_name) + len(raw_value)
            header_list.append((name, value))
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raw_path = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
        raw_path = raw_path.split("?", 1)[0]
        if "%" in raw_path and not _is_utf8(raw_path):   # before anything looks the key up, or answers with it
            raise e.InvalidURI()
        raw_query = scope.get("query_string", b"").decode("latin-1")
        query = _query_dict(raw_query)
        bucket, key = self._address(raw_path, headers.get("host", ""))
        client = scope.get("client") or ("", 0)
        req = Request(
            method=scope["method"], raw_path=raw_path, raw_query=raw_query, query=query, headers=headers,
            header_list=header_list, bucket=bucket, key=key, client=str(client[0]),
            scheme=scope.get("scheme", "http"), receive=receive, request_id=request_id,
        )
        if total > MAX_TOTAL_HEADERS:
            raise e.BadRequest("Your request headers are too large.")
        return req

    def _vhost_bucket(self, host: str) -> str | None:
        """The bucket a virtual-hosted-style Host names (``bucket.<domain>``), else None. The one
        place that tells the two styles apart, from the Host alone: addressing and SigV2 signing both
        ask it, so a signature always covers the bucket the request acts on."""
        if not self.vhost_suffixes:
            return None
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        for suffix in self.vhost_suffixes:
            if hostname.endswith(suffix) and len(hostname) > len(suffix):
                return hostname[: -len(suffix)]
        return None

    def _address(self, raw_path: str, host: str) -> tuple[BucketName | None, ObjectKey | None]:
        bucket = self._vhost_bucket(host)
        if bucket is not None:
            path_key = unquote(raw_path[1:]) if len(raw_path) > 1 else None
            return BucketName(bucket), ObjectKey(path_key) if path_key else None
        return _path_address(raw_path)

    # -- dispatch ---------------------------------------------------------------------------------
    async def _handle(self, req: Request) -> Response:
        svc = self.services
        target = Target.SERVICE if req.bucket is None else Target.BUCKET if req.key is None else Target.OBJECT
        op = route(req.method, target, req.query, req.headers)
        if op is not None and op.access is Access.NONE:  # CORS preflight (OPTIONS): no authentication, as on S3
            return await op.run(svc, req)
        vhost = self._vhost_bucket(req.headers.get("host", ""))
        # a key not cached is read on a thread: a database that does not answer must not stall the loop
        result = await svc.identities.verify(
            lambda secret: verify(req, secret, svc.settings.region, svc.settings.max_skew_seconds, vhost))
        if result.access_key is not None:
            cred = await svc.identities.resolve(result.access_key)
            if cred is None:
                raise e.InvalidAccessKeyId()
            req.owner_id, req.owner_name = cred.owner_id, cred.display_name
            req.access_key = result.access_key
            req.identity = cred
        req.auth = result
        if op is None:
            raise e.MethodNotAllowed(Method=req.method, ResourceType=target.value.upper())
        req.operation = op
        if op.access is not Access.FORM:  # a browser upload is authorized by its form, in its handler
            await authorize(svc, req, op)
        if op.reads_body:
            req.body, req.trailers, req.sha256 = body_stream(req, result)
            if self.meter is not None and metering.counts_body(op.name):
                req.body = metering.counted(req, req.body)
        return await op.run(svc, req)

    # -- output -----------------------------------------------------------------------------------
    def _error(self, exc: e.S3Error, req: Request | None, scope: dict[str, Any], request_id: str) -> Response:
        resource = req.resource if req else scope.get("path", "/")
        if (fields := scope.get(SCOPE_KEY)) is not None:   # for the metrics' errors by code
            fields.error_code = exc.code
        headers = [("content-type", "application/xml"), *exc.headers.items()]
        if scope.get("method") == "HEAD" or exc.status in NO_BODY_STATUSES:   # 304: the head is the answer
            return Response(exc.status, headers, b"")
        return Response(exc.status, headers, exc.to_xml(resource, request_id))

    async def _send(self, send: Any, response: Response, request_id: str, head: bool) -> None:
        headers = [(n.encode("latin-1"), _header_bytes(v)) for n, v in response.headers]
        headers.append((b"x-amz-request-id", request_id.encode()))
        headers.append((b"x-amz-id-2", self.host_id.encode()))
        headers.append((b"server", b"Nuage"))
        body = response.body
        names = {n for n, _ in response.headers}
        if isinstance(body, bytes):
            if "content-length" not in names and response.status not in NO_BODY_STATUSES:
                headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": b"" if head else body})
            response.sent = 0 if head else len(body)
            return
        if response.content_length is not None and "content-length" not in names:
            headers.append((b"content-length", str(response.content_length).encode()))
        try:
            await self._stream(send, response, headers, body, head)
        finally:
            aclose = getattr(body, "aclose", None)
            if aclose is not None:   # a body not sent to its end lets go of what it holds now
                await aclose()

    async def _stream(self, send: Any, response: Response, headers: list[tuple[bytes, bytes]],
                      body: AsyncIterator[bytes], head: bool) -> None:
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        try:
            first = True
            async for chunk in body:
                if not first:
                    # A turn of the event loop between pieces: when the client reads as fast as the
                    # socket takes them, sending a whole object from memory never waits, and every
                    # other request would wait behind it (small GETs were many times slower during
                    # large downloads). Not before the first: a one-piece body (up to 1 MiB) would
                    # pay a turn for nothing.
                    await asyncio.sleep(0)
                first = False
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                response.sent += len(chunk)
        except ObjectCorrupt:   # logged (and quarantined) where it was found: the body is cut short
            raise ResponseAborted() from None
        except Exception:
            log.exception("error while streaming a response body")
            raise
        await send({"type": "http.response.body", "body": b""})
