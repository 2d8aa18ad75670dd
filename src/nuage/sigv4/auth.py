"""Entry point: detect the authentication scheme of a request and verify it."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime

from .canonical import header_map, query_params
from .dates import normalize_now
from .errors import AccessRefused, BadAuthArgument
from .model import ALGORITHM, AuthResult, RequestView
from .v2 import validity_v2, verify_v2_header, verify_v2_presigned
from .v4 import validity, verify_v4_header, verify_v4_presigned
from .verified import VerifiedRequests

__all__ = ["DEFAULT_SERVICES", "VERIFIED", "authenticate"]

DEFAULT_SERVICES: frozenset[str] = frozenset({"s3"})

_V4_QUERY_MARKERS = frozenset({"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
_V2_QUERY_MARKERS = frozenset({"AWSAccessKeyId", "Signature"})
_ANONYMOUS = AuthResult(None, "anonymous", False, None, None)
_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
    "Signature query string parameter or the Authorization header should be specified"
)

VERIFIED = VerifiedRequests()   # GET and HEAD requests verified lately, SigV4 or SigV2 (see verified.py)
_REPEATED_METHODS = frozenset({"GET", "HEAD"})   # reads come back with the same signature; writes seldom do
_INVOCATION_ID = "amz-sdk-invocation-id"   # AWS SDKs send a new one with every request: such never repeat


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
    now = normalize_now(req.now)
    memo_key = None
    if body_sha256 is None and req.method in _REPEATED_METHODS and not any(
            name == _INVOCATION_ID for name, _ in req.headers):
        memo_key = (req.method, req.raw_path, req.raw_query, tuple(req.headers), region, services,
                    max_skew_seconds, vhost_bucket)
        known = VERIFIED.get(memo_key, now, lookup_secret)
        if known is not None:
            return known
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
        raise BadAuthArgument(_ONE_MECHANISM, details={"ArgumentName": "Authorization"})

    if authorization is not None:
        if len(authorization) > 1:
            raise BadAuthArgument(_ONE_MECHANISM, details={"ArgumentName": "Authorization"})
        value = authorization[0].strip()
        if not value:
            raise AccessRefused("Access Denied")
        scheme = value.split(None, 1)[0]
        if scheme == ALGORITHM:
            result = verify_v4_header(
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
            _remember(memo_key, req, result, lookup_secret,
                      lambda: validity(headers, params, presigned=False, max_skew_seconds=max_skew_seconds))
            return result
        if scheme == "AWS":
            result = verify_v2_header(
                req,
                headers,
                params,
                value,
                lookup_secret,
                max_skew_seconds=max_skew_seconds,
                now=now,
                vhost_bucket=vhost_bucket,
            )
            _remember(memo_key, req, result, lookup_secret,
                      lambda: validity_v2(headers, params, presigned=False, max_skew_seconds=max_skew_seconds))
            return result
        raise BadAuthArgument(
            "Unsupported Authorization Type", details={"ArgumentName": "Authorization"}
        )
    if v4_query:
        result = verify_v4_presigned(
            req,
            headers,
            params,
            lookup_secret,
            region=region,
            services=services,
            max_skew_seconds=max_skew_seconds,
            now=now,
        )
        _remember(memo_key, req, result, lookup_secret,
                  lambda: validity(headers, params, presigned=True, max_skew_seconds=max_skew_seconds))
        return result
    if v2_query:
        result = verify_v2_presigned(req, headers, params, lookup_secret, now=now, vhost_bucket=vhost_bucket)
        _remember(memo_key, req, result, lookup_secret,
                  lambda: validity_v2(headers, params, presigned=True, max_skew_seconds=max_skew_seconds))
        return result
    return _ANONYMOUS


def _remember(memo_key: Hashable | None, req: RequestView, result: AuthResult,
              lookup_secret: Callable[[str], str | None], window: Callable[[], tuple[datetime, datetime]]) -> None:
    """Keep a request that just verified, with the secret it was verified against and the period of
    server times in which it stays valid."""
    if memo_key is None or result.access_key is None:
        return
    secret = lookup_secret(result.access_key)
    if secret is None:
        return
    size = len(req.raw_path) + len(req.raw_query) + sum(len(n) + len(v) for n, v in req.headers)
    not_before, not_after = window()
    VERIFIED.put(memo_key, size, secret, not_before, not_after, result)
