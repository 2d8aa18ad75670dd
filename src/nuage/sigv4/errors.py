"""The single exception type raised by the authentication layer."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["HTTP_STATUS", "AuthError"]

#: HTTP status S3 answers with for each error code this package raises.
HTTP_STATUS: Mapping[str, int] = MappingProxyType(
    {
        "AccessDenied": 403,
        "SignatureDoesNotMatch": 403,
        "InvalidAccessKeyId": 403,
        "RequestTimeTooSkewed": 403,
        "AuthorizationHeaderMalformed": 400,
        "AuthorizationQueryParametersError": 400,
        "InvalidArgument": 400,
        "MissingSecurityHeader": 400,
        "XAmzContentSHA256Mismatch": 400,
        "IncompleteBody": 400,
        "InvalidRequest": 400,
        "MalformedTrailerError": 400,
        "InvalidDigest": 400,
    }
)

_EMPTY: Mapping[str, str] = MappingProxyType({})


class AuthError(Exception):
    """An authentication failure, carrying the S3 error code and an AWS-like message.

    ``details`` holds the extra elements S3 adds to its XML error body (for example
    ``Region``, ``ArgumentName``, ``HeadersNotSigned``, ``StringToSign``); it may be empty.
    """

    code: str
    message: str
    details: Mapping[str, str]

    def __init__(self, code: str, message: str, *, details: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = MappingProxyType(dict(details)) if details else _EMPTY

    @property
    def http_status(self) -> int:
        """The HTTP status code S3 uses for this error (400 when unknown)."""
        return HTTP_STATUS.get(self.code, 400)

    def __repr__(self) -> str:
        return f"AuthError({self.code!r}, {self.message!r})"
