"""Authentication of S3 requests and the verified body stream that follows from it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from nuage.s3 import errors as e
from nuage.s3.http import Request
from nuage.sigv4 import AuthError, AuthResult, RequestView, authenticate
from nuage.sigv4.chunked import Trailers, decode_aws_chunked

STREAMING_MODES = ("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                   "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")


def verify(req: Request, lookup_secret: Callable[[str], str | None], region: str, max_skew: int,
           vhost_bucket: str | None) -> AuthResult:
    view = RequestView(req.method, req.raw_path, req.raw_query, req.header_list, datetime.now(UTC))
    try:
        return authenticate(view, lookup_secret, region=region, max_skew_seconds=max_skew,
                            vhost_bucket=vhost_bucket)
    except AuthError as exc:
        raise e.from_auth(exc) from exc


async def raw_body(req: Request) -> AsyncIterator[bytes]:
    """The request body as the HTTP server hands it over (Transfer-Encoding already removed)."""
    req.body_started = True
    while True:
        message = await req.receive()
        if message["type"] == "http.disconnect":
            raise e.IncompleteBody()
        chunk = message.get("body", b"")
        if not message.get("more_body", False):
            req.body_consumed = True
            if chunk:
                yield chunk
            return
        if chunk:
            yield chunk


async def _guard_errors(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in body:
            yield chunk
    except AuthError as exc:
        raise e.from_auth(exc) from exc


async def _limit(body: AsyncIterator[bytes], length: int) -> AsyncIterator[bytes]:
    """Stop at the declared length; fewer bytes than declared is IncompleteBody."""
    seen = 0
    async for chunk in body:
        seen += len(chunk)
        if seen > length:
            raise e.BadRequest("The request body is longer than its declared length.")
        yield chunk
    if seen < length:
        raise e.IncompleteBody()


def body_stream(req: Request, result: AuthResult) -> tuple[AsyncIterator[bytes], Trailers | None, str | None]:
    """(decoded body, trailers filled once the body is read, hex sha256 the body must have)."""
    mode = result.payload_hash
    encoding = req.headers.get("content-encoding", "")
    raw = raw_body(req)
    if mode in STREAMING_MODES or (mode is None and "aws-chunked" in encoding and "x-amz-trailer" in req.headers):
        trailers = Trailers({})
        decoded_length = req.headers.get("x-amz-decoded-content-length")
        body = _guard_errors(decode_aws_chunked(raw, mode=mode or "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                                ctx=result.chunk_context, trailers=trailers))
        if decoded_length is not None:
            if not decoded_length.isdigit():
                raise e.InvalidArgument("x-amz-decoded-content-length is not a number")
            body = _limit(body, int(decoded_length))
        elif mode in STREAMING_MODES and "x-amz-trailer" not in req.headers:
            raise e.MissingContentLength()
        return body, trailers, None
    sha = mode if mode and len(mode) == 64 else None
    return raw, None, sha
