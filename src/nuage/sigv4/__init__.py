"""Pure request authentication for the S3 API: SigV4, SigV2 and the aws-chunked body codec."""

from __future__ import annotations

from .auth import authenticate
from .chunked import Trailers, decode_aws_chunked
from .errors import AuthError
from .model import AuthResult, ChunkSigningContext, RequestView
from .presign import presign_v4

__all__ = [
    "AuthError",
    "AuthResult",
    "ChunkSigningContext",
    "RequestView",
    "Trailers",
    "authenticate",
    "decode_aws_chunked",
    "presign_v4",
]
