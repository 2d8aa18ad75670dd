"""Plain data types shared by the authentication modules, and protocol constants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "UNSIGNED_PAYLOAD",
    "AuthResult",
    "ChunkSigningContext",
    "RequestView",
]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@dataclass(frozen=True)
class RequestView:
    """What the authentication layer needs to know about an incoming request."""

    method: str
    raw_path: str
    """Path exactly as received on the wire, still percent-encoded, e.g. ``/bucket/a%20b``."""
    raw_query: str
    """Query string exactly as received, without ``?``; may be empty."""
    headers: list[tuple[str, str]]
    """``(lowercased-name, value)`` pairs in the order received; repeated names are repeated."""
    now: datetime
    """Aware UTC time of reception (injectable for tests)."""


@dataclass(frozen=True)
class ChunkSigningContext:
    """What the aws-chunked decoder needs to verify ``STREAMING-AWS4-HMAC-SHA256-*`` chunks."""

    signing_key: bytes
    amz_date: str
    """Request timestamp in ISO 8601 basic form, e.g. ``20130524T000000Z``."""
    scope: str
    """Credential scope, e.g. ``20130524/us-east-1/s3/aws4_request``."""
    seed_signature: str
    """The signature of the request headers, which chains into the first chunk."""


@dataclass(frozen=True)
class AuthResult:
    """The outcome of a successful authentication."""

    access_key: str | None
    """``None`` when the request carried no authentication information at all."""
    version: str
    """``"v4"``, ``"v2"`` or ``"anonymous"``."""
    presigned: bool
    payload_hash: str | None
    """The declared payload hash for SigV4 (hex sha256 or one of the special values); else ``None``."""
    chunk_context: ChunkSigningContext | None
    """Set for SigV4 when ``payload_hash`` is a ``STREAMING-AWS4-HMAC-SHA256-*`` mode."""
