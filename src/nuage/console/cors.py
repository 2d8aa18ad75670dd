"""The S3 endpoint as the console's browser uploads reach it.

The console has its own origin (its own port), so the bytes of an upload, PUT by the browser straight to
the S3 endpoint with presigned URLs, are cross-origin requests. Only those are let through here: a
presigned PUT whose ``Origin`` is this server's console as reached by the same host name gets CORS headers
for exactly that origin (no credentials: a presigned URL carries its own authority), and its preflight is
answered. Everything else, other origins included, goes to the S3 application unchanged, where the
bucket's own CORS rules apply.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from nuage.asgi import ASGIApp, scope_header
from nuage.console.http import host_name, origin_of

SIGNED_QUERY = {"X-Amz-Signature", "Signature"}   # presigned S3 requests (SigV4, SigV2)
ALLOWED_HEADERS = {"content-type"}               # what upload.js's PUTs send beyond the safelisted headers
EXPOSED = "ETag, x-amz-version-id"               # upload.js reads the ETag of each part
MAX_AGE = "600"


def _presigned(scope: dict[str, Any]) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    return any(name in SIGNED_QUERY for name, _ in parse_qsl(query, keep_blank_values=True))


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": headers}


class ConsoleUploads:
    """Wraps the S3 application for requests that carry an ``Origin`` (see the module's docstring)."""

    def __init__(self, s3_app: ASGIApp, console_port: int) -> None:
        self.s3_app = s3_app
        self.console_port = console_port

    def console_origin(self, scope: dict[str, Any]) -> str:
        """The console's origin for a request to the S3 endpoint: the same scheme and host name."""
        hostname = host_name(scope_header(scope, b"host"))
        return origin_of(str(scope.get("scheme", "http")), hostname, self.console_port)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        origin = scope_header(scope, b"origin")
        if not origin or origin != self.console_origin(scope) or not _presigned(scope):
            await self.s3_app(scope, receive, send)
            return
        vary = (b"vary", b"Origin")
        allow = (b"access-control-allow-origin", origin.encode("latin-1"))
        if scope["method"] == "OPTIONS":
            method = scope_header(scope, b"access-control-request-method")
            asked = [h.strip().lower() for h in scope_header(scope, b"access-control-request-headers").split(",")]
            asked = [h for h in asked if h]
            if method != "PUT" or not set(asked) <= ALLOWED_HEADERS:
                await self.s3_app(scope, receive, send)    # the bucket's CORS rules decide
                return
            headers = [allow, (b"access-control-allow-methods", b"PUT"), (b"access-control-max-age", MAX_AGE.encode()),
                       vary, (b"content-length", b"0")]
            if asked:
                headers.append((b"access-control-allow-headers", ", ".join(asked).encode("latin-1")))
            await send(_start(200, headers))
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["method"] != "PUT":
            await self.s3_app(scope, receive, send)
            return

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                # the bucket's own CORS headers (if its rules admit this origin too) would be a second value
                kept = [(k, v) for k, v in message.get("headers", ())
                        if not k.lower().startswith(b"access-control-") and k.lower() != b"vary"]
                message = {**message, "headers": [*kept, allow,
                                                  (b"access-control-expose-headers", EXPOSED.encode()), vary]}
            await send(message)

        await self.s3_app(scope, receive, send_with_cors)
