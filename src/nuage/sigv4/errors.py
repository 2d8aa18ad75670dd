"""The failures of request authentication, one class per kind, named in this package's own terms.

They carry a message and the details a caller may show; which error code and HTTP status an API
answers with is that API's business (``nuage.s3.errors`` maps these classes to S3 errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "AccessRefused",
    "AuthError",
    "BadAuthArgument",
    "ClockSkewed",
    "MalformedAuthorizationHeader",
    "MalformedChunkedBody",
    "MalformedPresignedQuery",
    "MalformedTrailer",
    "MissingDecodedLength",
    "MissingPayloadHash",
    "MissingRequestDate",
    "NotYetValid",
    "RequestExpired",
    "SignatureMismatch",
    "TruncatedBody",
    "UnknownAccessKey",
    "UnsignedHeaders",
]

_EMPTY: Mapping[str, str] = MappingProxyType({})


class AuthError(Exception):
    """An authentication failure with an AWS-like message.

    ``details`` holds what the request said that explains the failure (for example ``Region``,
    ``ArgumentName``, ``HeadersNotSigned``, ``StringToSign``, named as AWS names them in its error
    bodies); it may be empty.
    """

    message: str
    details: Mapping[str, str]

    def __init__(self, message: str, *, details: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = MappingProxyType(dict(details)) if details else _EMPTY

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class AccessRefused(AuthError):
    """The request cannot be authenticated as it stands (no usable credentials or date, or a
    presigned URL outside its validity)."""


class MissingRequestDate(AccessRefused):
    """Neither a valid Date nor a valid x-amz-date."""


class RequestExpired(AccessRefused):
    """A presigned URL used after its expiry."""


class NotYetValid(AccessRefused):
    """A presigned URL used before its signing time."""


class UnsignedHeaders(AccessRefused):
    """Headers that must be signed (host, x-amz-*) are not."""


class SignatureMismatch(AuthError):
    """A signature (of the request, a chunk or the trailer) is missing or wrong."""


class UnknownAccessKey(AuthError):
    """No secret is known for the access key."""


class ClockSkewed(AuthError):
    """The request time is too far from the server's clock."""


class MalformedAuthorizationHeader(AuthError):
    """The SigV4 Authorization header or its credential cannot be parsed or is for another scope."""


class MalformedPresignedQuery(AuthError):
    """The X-Amz-* parameters of a presigned URL cannot be parsed or are for another scope."""


class BadAuthArgument(AuthError):
    """An argument of the request contradicts the authentication scheme (two mechanisms, an unknown
    scheme, a payload hash value that is not one, streaming with a presigned URL)."""


class MissingDecodedLength(AuthError):
    """A signed streaming body without x-amz-decoded-content-length."""


class MissingPayloadHash(AuthError):
    """A SigV4 header-signed request without x-amz-content-sha256."""


class TruncatedBody(AuthError):
    """The aws-chunked body ended before its last chunk."""


class MalformedChunkedBody(AuthError):
    """The aws-chunked framing is not valid."""


class MalformedTrailer(AuthError):
    """The trailer section of an aws-chunked body is not valid."""
