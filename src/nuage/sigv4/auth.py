"""Entry point: detect the authentication scheme of a request and verify it."""

from __future__ import annotations

from collections.abc import Callable

from .canonical import header_map, query_params
from .dates import normalize_now
from .errors import AuthError
from .model import ALGORITHM, AuthResult, RequestView
from .v2 import verify_v2_header, verify_v2_presigned
from .v4 import verify_v4_header, verify_v4_presigned

__all__ = ["DEFAULT_SERVICES", "authenticate"]

DEFAULT_SERVICES: frozenset[str] = frozenset({"s3"})

_V4_QUERY_MARKERS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
_V2_QUERY_MARKERS = frozenset({"AWSAccessKeyId", "Signature"})
_ANONYMOUS = AuthResult(None, "anonymous", False, None, None)
_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)


def authenticate(
    req: RequestView,
    lookup_secret: Callable[[str], str | None],
    *,
    region: str,
    max_skew_seconds: int = 900,
    services: frozenset[str] = DEFAULT_SERVICES,
    body_sha256: str | None = None,
    vhost_bucket: str | None = None,
) -> AuthResult:
    """Authenticate ``req`` with SigV4 or SigV2 (header or presigned), or return anonymous.

    ``lookup_secret`` maps an access key id to its secret key, or ``None`` when unknown.
    ``region`` is the region the server answers for; ``services`` the credential-scope
    services accepted. ``body_sha256`` (hex) is only used for SigV4 requests to non-S3
    services that omit ``x-amz-content-sha256`` (e.g. IAM form posts). ``vhost_bucket`` is
    the bucket named by the Host header of a virtual-hosted-style request: SigV2 signs it as
    part of the resource. Raises :class:`AuthError` on any failure.
    """
    headers = header_map(req.headers)
    params = query_params(req.raw_query)
    authorization = headers.get("authorization")
    v4_query = v2_query = False
    for param in params:
        if param.name in _V4_QUERY_MARKERS:
            v4_query = True
        elif param.name in _V2_QUERY_MARKERS:
            v2_query = True
    if (authorization is not None) + v4_query + v2_query > 1:
        raise AuthError("InvalidArgument", _ONE_MECHANISM, details={"ArgumentName": "Authorization"})
    now = normalize_now(req.now)

    if authorization is not None:
        if len(authorization) > 1:
            raise AuthError("InvalidArgument", _ONE_MECHANISM, details={"ArgumentName": "Authorization"})
        value = authorization[0].strip()
        if not value:
            raise AuthError("AccessDenied", "Access Denied")
        scheme = value.split(None, 1)[0]
        if scheme == ALGORITHM:
            return verify_v4_header(
                req,
                headers,
                params,
                value,
                lookup_secret,
                region=region,
                services=services,
                max_skew_seconds=max_skew_seconds,
                now=now,
                body_sha256=body_sha256,
            )
        if scheme == "AWS":
            return verify_v2_header(
                req,
                headers,
                params,
                value,
                lookup_secret,
                max_skew_seconds=max_skew_seconds,
                now=now,
                vhost_bucket=vhost_bucket,
            )
        raise AuthError(
            "InvalidArgument", "Unsupported Authorization Type", details={"ArgumentName": "Authorization"}
        )
    if v4_query:
        return verify_v4_presigned(
            req,
            headers,
            params,
            lookup_secret,
            region=region,
            services=services,
            max_skew_seconds=max_skew_seconds,
            now=now,
        )
    if v2_query:
        return verify_v2_presigned(req, headers, params, lookup_secret, now=now, vhost_bucket=vhost_bucket)
    return _ANONYMOUS
