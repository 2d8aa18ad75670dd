"""Pure request authentication for the S3 API: SigV4, SigV2 and the aws-chunked body codec.

No I/O and no HTTP framework: the caller builds a :class:`RequestView` from what it
received and calls :func:`authenticate`, which raises :class:`AuthError` (``code`` is the S3
error code, ``http_status`` its status, ``details`` the extra XML elements) or returns an
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
