"""Generate SigV4 presigned URLs (used by the server itself, e.g. for share links)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from .canonical import canonical_uri, encode_component, parse_query
from .dates import format_amz_date, normalize_now
from .keys import hmac_sha256_hex, signing_key
from .model import ALGORITHM, UNSIGNED_PAYLOAD
from .v4 import MAX_PRESIGN_EXPIRES, string_to_sign

__all__ = ["presign_v4"]


def presign_v4(
    method: str,
    url: str,
    access_key: str,
    secret: str,
    region: str,
    expires: int,
    now: datetime,
    *,
    service: str = "s3",
) -> str:
    """Return ``url`` presigned with SigV4 for ``method``, valid ``expires`` seconds from ``now``.

    Only the ``host`` header is signed and the payload is ``UNSIGNED-PAYLOAD``. The path and
    any existing query parameters are re-encoded with the AWS rules so that the URL sent on
    the wire is exactly what was signed.
    """
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise ValueError(f"expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds")
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    host = parts.netloc.rpartition("@")[2]
    path = canonical_uri(parts.path)
    amz_date = format_amz_date(normalize_now(now))
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    pairs = [
        (encode_component(p.raw_name), encode_component(p.raw_value))
        for p in parse_query(parts.query)
        if p.name != "X-Amz-Signature"
    ]
    auth_params = (
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{access_key}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    )
    pairs.extend((name, quote(value, safe="")) for name, value in auth_params)
    canonical_query = "&".join([f"{name}={value}" for name, value in sorted(pairs)])
    canonical_request = (
        f"{method.upper()}\n{path}\n{canonical_query}\nhost:{host}\n\nhost\n{UNSIGNED_PAYLOAD}"
    )
    key = signing_key(secret, amz_date[:8], region, service)
    signature = hmac_sha256_hex(key, string_to_sign(amz_date, scope, canonical_request))
    query = "&".join([f"{name}={value}" for name, value in pairs]) + f"&X-Amz-Signature={signature}"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))
