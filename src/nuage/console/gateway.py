"""The console's S3 client: every read and write the console makes for a signed-in user is a real S3
request, signed with that user's key (SigV4 Authorization header) and handed to the S3 application in-process.
Routing, authentication, bucket policies, IAM policies, ACLs, quotas and object lock therefore apply to
the console exactly as to boto3: what the S3 API refuses, the console refuses.

The presigned URLs that the browser uses directly (uploads, downloads, share links) are made here too.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from nuage import xml
from nuage.asgi import ASGIApp
from nuage.core.identities import Identity
from nuage.errors import MalformedXML
from nuage.sigv4 import presign_v4
from nuage.sigv4.keys import sha256_hex
from nuage.sigv4.sign import sign_headers as sign_v4_headers


@dataclass
class S3Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def document(self) -> ET.Element:
        return xml.parse(self.body, limit=64 * 1024 * 1024)

    def _error_field(self, name: str) -> str:
        """A field of an error document (S3's <Error> or IAM's <ErrorResponse><Error>)."""
        if not self.body:
            return ""
        try:
            found = next(self.document().iter(name), None)
        except MalformedXML:
            return ""
        return (found.text or "") if found is not None else ""

    @property
    def error_code(self) -> str:
        return "" if self.ok else self._error_field("Code") or str(self.status)

    @property
    def error_message(self) -> str:
        return self._error_field("Message") or self.error_code


class S3Failure(Exception):
    """An S3 request of the console was refused: its status, S3 error code and message."""

    def __init__(self, reply: S3Reply) -> None:
        super().__init__(f"{reply.error_code}: {reply.error_message}")
        self.status = reply.status
        self.code = reply.error_code
        self.message = reply.error_message


def object_path(bucket: str, key: str | None = None) -> str:
    path = "/" + quote(bucket, safe="")
    if key is not None:
        path += "/" + quote(key, safe="/-_.~")
    return path


def sign_headers(ident: Identity, region: str, method: str, host: str, path: str, raw_query: str, body: bytes,
                 headers: Sequence[tuple[str, str]], service: str = "s3") -> list[tuple[str, str]]:
    """The request's headers with a SigV4 Authorization header (all headers signed, the body's hash too)."""
    return sign_v4_headers(method, host, path, raw_query, headers, access_key=ident.access_key, secret=ident.secret,
                           region=region, service=service, payload_hash=sha256_hex(body))


async def _call_app(app: ASGIApp, scope: dict[str, Any], body: bytes) -> S3Reply:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    out_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for k, v in message.get("headers", ()):
                out_headers[k.decode("latin-1").lower()] = v.decode("utf-8", errors="replace")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return S3Reply(status, out_headers, b"".join(chunks))


def _scope(method: str, scheme: str, path: str, raw_query: str, headers: list[tuple[bytes, bytes]],
           client: str) -> dict[str, Any]:
    return {"type": "http", "http_version": "1.1", "method": method, "scheme": scheme, "path": unquote(path),
            "raw_path": path.encode("latin-1"), "query_string": raw_query.encode("latin-1"), "headers": headers,
            "client": (client or "127.0.0.1", 0), "server": None, "root_path": ""}


class Gateway:
    def __init__(self, s3_app: ASGIApp, iam_app: ASGIApp, region: str, query_app: ASGIApp | None = None) -> None:
        self.s3_app = s3_app
        self.iam_app = iam_app
        self.query_app = query_app
        self.region = region

    async def query(self, ident: Identity, base_url: str, method: str, path: str,
                    query: Sequence[tuple[str, str]] = (), payload: object = None, client: str = "") -> S3Reply:
        """One call of the SQL jobs API (JSON, SigV4 for the service ``nuage-query``) as ``ident``."""
        if self.query_app is None:
            raise RuntimeError("the SQL jobs API is not part of this server")
        body = json.dumps(payload).encode() if payload is not None else b""
        raw_query = urlencode(list(query), quote_via=quote)
        host = urlsplit(base_url).netloc
        headers = sign_headers(ident, self.region, method, host, path, raw_query, body,
                               [("content-type", "application/json")] if body else [], "nuage-query")
        raw = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in headers]
        raw.append((b"content-length", str(len(body)).encode()))
        scope = _scope(method, urlsplit(base_url).scheme, path, raw_query, raw, client)
        return await _call_app(self.query_app, scope, body)

    async def iam(self, ident: Identity, base_url: str, action: str, params: Sequence[tuple[str, str]] = (),
                  client: str = "") -> S3Reply:
        """One IAM API call (form POST, SigV4 for the service ``iam``) as ``ident``, answered in-process."""
        body = urlencode([("Action", action), ("Version", "2010-05-08"), *params]).encode()
        host = urlsplit(base_url).netloc
        headers = sign_headers(ident, "us-east-1", "POST", host, "/", "", body,
                               [("content-type", "application/x-www-form-urlencoded; charset=utf-8")], "iam")
        raw = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in headers]
        raw.append((b"content-length", str(len(body)).encode()))
        return await _call_app(self.iam_app, _scope("POST", urlsplit(base_url).scheme, "/", "", raw, client), body)

    def presign(self, ident: Identity, method: str, base_url: str, bucket: str, key: str | None = None,
                query: Sequence[tuple[str, str]] = (), expires: int = 3600) -> str:
        url = base_url + object_path(bucket, key)
        if query:
            url += "?" + urlencode(list(query), quote_via=quote)
        return presign_v4(method, url, ident.access_key, ident.secret, self.region, expires, datetime.now(UTC))

    async def call(self, ident: Identity, method: str, base_url: str, bucket: str | None = None,
                   key: str | None = None, query: Sequence[tuple[str, str]] = (), body: bytes = b"",
                   headers: Sequence[tuple[str, str]] = (), client: str = "") -> S3Reply:
        """One S3 request as ``ident``, answered by the S3 application in this process."""
        path = object_path(bucket, key) if bucket else "/"
        raw_query = urlencode(list(query), quote_via=quote)
        host = urlsplit(base_url).netloc
        signed_headers = sign_headers(ident, self.region, method, host, path, raw_query, body, headers)
        raw_headers = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in signed_headers]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = _scope(method, urlsplit(base_url).scheme, path, raw_query, raw_headers, client)
        return await _call_app(self.s3_app, scope, body)

    async def must(self, ident: Identity, method: str, base_url: str, bucket: str | None = None,
                   key: str | None = None, query: Sequence[tuple[str, str]] = (), body: bytes = b"",
                   headers: Sequence[tuple[str, str]] = (), client: str = "") -> S3Reply:
        """As :meth:`call`, raising :class:`S3Failure` unless the answer is a success."""
        reply = await self.call(ident, method, base_url, bucket, key, query, body, headers, client)
        if not reply.ok:
            raise S3Failure(reply)
        return reply
