"""Pure request authentication for the S3 API: SigV4, SigV2 and the aws-chunked body codec.

No I/O and no HTTP framework: the caller builds a :class:`RequestView` from what it
received and calls :func:`authenticate`, which raises a subclass of :class:`AuthError` naming the failure
(``details`` holds what explains it; the caller's API picks the error code and status) or returns an
:class:`AuthResult`. What stays with the caller:

* when ``payload_hash`` is a hex digest, hash the body and answer
  ``XAmzContentSHA256Mismatch`` on a difference;
* when it starts with ``STREAMING-``, decode the body with :func:`decode_aws_chunked`
  (passing ``chunk_context``), check the decoded length against
  ``x-amz-decoded-content-length`` and the checksums announced in ``x-amz-trailer`` against
  the filled :class:`Trailers`;
* for a virtual-hosted-style request, pass the bucket as ``vhost_bucket`` (SigV2 signs it).

:func:`presign_v4` creates presigned URLs that :func:`authenticate` accepts.
"""

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
