"""AWS Signature Version 2 (HMAC-SHA1): Authorization header and presigned query verification."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from .canonical import QueryParam
from .dates import check_skew, parse_request_date
from .errors import (
    AccessRefused,
    BadAuthArgument,
    MissingRequestDate,
    RequestExpired,
    SignatureMismatch,
    UnknownAccessKey,
)
from .keys import signatures_equal
from .model import AuthResult, RequestView

__all__ = ["SUBRESOURCES", "string_to_sign_v2", "validity_v2", "verify_v2_header", "verify_v2_presigned"]

SecretLookup = Callable[[str], "str | None"]

#: Query parameters that are part of the SigV2 CanonicalizedResource.
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "cors",
        "delete",
        "encryption",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "location",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "partNumber",
        "policy",
        "publicAccessBlock",
        "replication",
        "requestPayment",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
        "restore",
        "retention",
        "select",
        "select-type",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
    }
)

_QUERY_AUTH_PARAMS = frozenset({"AWSAccessKeyId", "Signature", "Expires"})
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


def _sign(secret: str, to_sign: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _amz_headers(amz: dict[str, list[str]]) -> str:
    return "".join([f"{name}:{','.join([v.strip() for v in amz[name]])}\n" for name in sorted(amz)])


def _resource(path: str, params: Sequence[QueryParam], vhost_bucket: str | None) -> str:
    resource = f"/{vhost_bucket}{path or '/'}" if vhost_bucket else (path or "/")
    sub = [p for p in params if p.name in SUBRESOURCES]
    if not sub:
        return resource
    sub.sort(key=lambda p: p.name)
    return resource + "?" + "&".join([f"{p.name}={p.value}" if p.has_value else p.name for p in sub])


def string_to_sign_v2(
    method: str,
    content_md5: str,
    content_type: str,
    date: str,
    amz: dict[str, list[str]],
    resource: str,
) -> str:
    """The SigV2 StringToSign."""
    return f"{method}\n{content_md5}\n{content_type}\n{date}\n{_amz_headers(amz)}{resource}"


def _resources(req: RequestView, params: Sequence[QueryParam], vhost_bucket: str | None) -> Iterator[str]:
    """Candidate CanonicalizedResources, most common first.

    The path is signed percent-encoded as sent (botocore, AWS docs); a path-style request for a
    bucket alone (``/bucket``) is signed as ``/bucket/``. Lenient fallbacks: the path without
    that slash, and the percent-decoded path.
    """
    path = req.raw_path
    if not vhost_bucket and path.count("/") == 1 and len(path) > 1:
        yield _resource(path + "/", params, None)
    yield _resource(path, params, vhost_bucket)
    if "%" in path:
        yield _resource(unquote(path), params, vhost_bucket)


def _check(
    secret: str,
    provided: str,
    access_key: str,
    candidates: Iterator[str],
) -> None:
    first: str | None = None
    for to_sign in candidates:
        if signatures_equal(_sign(secret, to_sign), provided):
            return
        if first is None:
            first = to_sign
    raise SignatureMismatch(
        _SIGNATURE_MISMATCH,
        details={"AWSAccessKeyId": access_key, "StringToSign": first or "", "SignatureProvided": provided},
    )


def _lookup(lookup_secret: SecretLookup, access_key: str) -> str:
    secret = lookup_secret(access_key)
    if secret is None:
        raise UnknownAccessKey(
            "The AWS Access Key Id you provided does not exist in our records.",
            details={"AWSAccessKeyId": access_key},
        )
    return secret


def verify_v2_header(
    req: RequestView,
    headers: dict[str, list[str]],
    params: Sequence[QueryParam],
    authorization: str,
    lookup_secret: SecretLookup,
    *,
    max_skew_seconds: int,
    now: datetime,
    vhost_bucket: str | None,
) -> AuthResult:
    """Verify ``Authorization: AWS AccessKeyId:Signature``."""
    access_key, colon, signature = authorization[4:].strip().partition(":")
    access_key, signature = access_key.strip(), signature.strip()
    if not colon or not access_key or not signature:
        raise BadAuthArgument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            details={"ArgumentName": "Authorization"},
        )
    amz_date = _first(headers, "x-amz-date")
    http_date = _first(headers, "date")
    request_time = _request_time(headers)
    if request_time is None:
        raise MissingRequestDate(_NO_DATE)
    check_skew(request_time, now, max_skew_seconds)
    secret = _lookup(lookup_secret, access_key)

    method = req.method.upper()
    content_md5 = (_first(headers, "content-md5") or "").strip()
    content_type = (_first(headers, "content-type") or "").strip()
    amz = {name: values for name, values in headers.items() if name.startswith("x-amz-")}
    # (Date line, amz headers) variants. With x-amz-date the Date line is empty; some clients
    # still sign the Date header there, and AWS's own documented example moves x-amz-date
    # into the Date line instead of the amz headers.
    variants = [("" if amz_date is not None else (http_date or "").strip(), amz)]
    if amz_date is not None:
        if http_date is not None:
            variants.append((http_date.strip(), amz))
        without_date = {name: values for name, values in amz.items() if name != "x-amz-date"}
        variants.append((amz_date.strip(), without_date))

    def candidates() -> Iterator[str]:
        for resource in _resources(req, params, vhost_bucket):
            for date, amz_headers in variants:
                yield string_to_sign_v2(method, content_md5, content_type, date, amz_headers, resource)

    _check(secret, signature, access_key, candidates())
    return AuthResult(access_key, "v2", False, None, None)


def verify_v2_presigned(
    req: RequestView,
    headers: dict[str, list[str]],
    params: Sequence[QueryParam],
    lookup_secret: SecretLookup,
    *,
    now: datetime,
    vhost_bucket: str | None,
) -> AuthResult:
    """Verify a presigned URL with ``AWSAccessKeyId``, ``Expires`` and ``Signature`` parameters."""
    query: dict[str, str] = {}
    for param in params:
        if param.name in _QUERY_AUTH_PARAMS and param.name in query:
            raise AccessRefused(f"Query-string authentication parameter {param.name} is repeated")
        query.setdefault(param.name, param.value)
    access_key = query.get("AWSAccessKeyId")
    signature = query.get("Signature")
    raw_expires = query.get("Expires")
    if not access_key or not signature or raw_expires is None:
        raise AccessRefused(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        )
    expires = raw_expires.strip()
    if not (expires.isascii() and expires.isdigit()):
        raise AccessRefused(f"Invalid date (should be seconds since epoch): {raw_expires}")
    expiry = _expiry(expires)
    if now > expiry:
        raise RequestExpired("Request has expired", details={"Expires": expires})
    secret = _lookup(lookup_secret, access_key)

    method = req.method.upper()
    content_md5 = (_first(headers, "content-md5") or query.get("content-md5") or "").strip()
    content_type = (_first(headers, "content-type") or query.get("content-type") or "").strip()
    amz = {name: values for name, values in headers.items() if name.startswith("x-amz-")}
    for param in params:
        lowered = param.name.lower()
        if lowered.startswith("x-amz-") and lowered not in headers:
            amz.setdefault(lowered, []).append(param.value)

    def candidates() -> Iterator[str]:
        for resource in _resources(req, params, vhost_bucket):
            yield string_to_sign_v2(method, content_md5, content_type, raw_expires, amz, resource)

    _check(secret, signature, access_key, candidates())
    return AuthResult(access_key, "v2", True, None, None)


def validity_v2(headers: dict[str, list[str]], params: Sequence[QueryParam], *, presigned: bool,
                max_skew_seconds: int) -> tuple[datetime, datetime]:
    """The period of server times in which a SigV2 request that just verified would verify again: its
    Date give or take the allowed skew, or up to its Expires for a presigned URL."""
    if presigned:
        expires = next(p.value for p in params if p.name == "Expires").strip()
        return datetime.min.replace(tzinfo=UTC), _expiry(expires)
    request_time = _request_time(headers)
    assert request_time is not None   # it verified
    skew = timedelta(seconds=max_skew_seconds)
    return request_time - skew, request_time + skew


def _request_time(headers: dict[str, list[str]]) -> datetime | None:
    """The time a header-signed request was made: x-amz-date, else Date."""
    amz_date = _first(headers, "x-amz-date")
    raw_date = amz_date if amz_date is not None else _first(headers, "date")
    return parse_request_date(raw_date) if raw_date is not None else None


def _expiry(expires: str) -> datetime:
    """A presigned URL's Expires (seconds since the epoch, digits only) as a time; far future when huge."""
    try:
        return datetime.fromtimestamp(int(expires), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return datetime.max.replace(tzinfo=UTC)
