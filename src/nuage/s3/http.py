"""The request and response values the S3 handlers work with (no framework)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from nuage.types import BucketName, ObjectKey, VersionId

if TYPE_CHECKING:
    from nuage.core.identities import Identity
    from nuage.s3.copy_source import CopySource
    from nuage.s3.operation import Operation
    from nuage.sigv4.chunked import Trailers
    from nuage.sigv4.model import AuthResult


@dataclass(slots=True)
class Request:
    method: str
    raw_path: str                       # as received (percent-encoded)
    raw_query: str
    query: dict[str, str]               # decoded; first value wins
    headers: dict[str, str]             # lowercased names; repeated values joined by ","
    header_list: list[tuple[str, str]]
    bucket: BucketName | None
    key: ObjectKey | None
    client: str
    scheme: str
    receive: Callable[[], Awaitable[dict[str, Any]]]
    body_consumed: bool = False
    body_started: bool = False          # the body has begun to be read (the client is sending it)
    request_id: str = ""
    owner_id: str = ""
    owner_name: str = ""
    access_key: str | None = None
    body: AsyncIterator[bytes] | None = None     # set by auth: verified, decoded request body
    # what the request was found to be, filled in as it goes through the app:
    operation: Operation | None = None  # the router's row
    auth: AuthResult | None = None      # how it was signed (a browser form: how the form was)
    identity: Identity | None = None    # who signed it (None: anonymous)
    trailers: Trailers | None = None    # aws-chunked trailers, known once the body has been read
    sha256: str | None = None           # the signed hex SHA-256 of the payload, when one was declared
    copy_source: CopySource | None = None   # x-amz-copy-source, parsed once
    copy_version: VersionId | None = None     # the copy source's version that authorization decided on
    received: int = 0                   # body bytes an object write read (decoded), counted when metering
    scanned: int = 0                    # object bytes S3 Select read (metering)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    @property
    def resource(self) -> str:
        """The path for error documents: decoded, unless decoding yields control characters."""
        decoded = unquote(self.raw_path)
        return self.raw_path if any(ord(c) < 32 for c in decoded) else decoded

    async def read_body(self, limit: int) -> bytes:
        """The whole (small) body, for XML documents; raises ValueError when over ``limit``."""
        assert self.body is not None
        buf = bytearray()
        async for chunk in self.body:
            buf += chunk
            if len(buf) > limit:
                raise ValueError("body too large")
        return bytes(buf)


@dataclass(slots=True)
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | AsyncIterator[bytes] = b""
    content_length: int | None = None   # for streamed bodies
    on_done: Callable[[], None] | None = None   # called once the answer is sent or abandoned
    sent: int = 0                       # body bytes handed to the server so far (metering)

    def set(self, name: str, value: str) -> Response:
        self.headers.append((name, value))
        return self


async def empty_body() -> AsyncIterator[bytes]:
    """A body with no bytes."""
    chunks: tuple[bytes, ...] = ()
    for chunk in chunks:
        yield chunk


def xml_response(body: bytes, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("content-type", "application/xml"), *(headers or [])], body)


def empty(status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, list(headers or []), b"")
