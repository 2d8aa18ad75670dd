"""Sign a request with SigV4 in the Authorization header: for the requests Nuage itself sends (one
region to another, the console to the S3 and IAM applications). :func:`authenticate` accepts them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from .canonical import canonical_headers, canonical_query, canonical_uri, header_map, parse_query
from .dates import format_amz_date, normalize_now
from .keys import hmac_sha256_hex, signing_key
from .model import ALGORITHM
from .v4 import string_to_sign

__all__ = ["sign_headers"]


def sign_headers(method: str, host: str, path: str, raw_query: str, headers: Sequence[tuple[str, str]], *,
                 access_key: str, secret: str, region: str, service: str, payload_hash: str,
                 now: datetime | None = None) -> list[tuple[str, str]]:
    """``headers`` (every one signed) with host, x-amz-date, x-amz-content-sha256 and Authorization.

    ``path`` and ``raw_query`` are as they will be sent (percent-encoded); ``payload_hash`` is the hex
    SHA-256 of the body or ``UNSIGNED-PAYLOAD``.
    """
    amz_date = format_amz_date(normalize_now(now or datetime.now(UTC)))
    all_headers = [("host", host), ("x-amz-date", amz_date), ("x-amz-content-sha256", payload_hash),
                   *((name.lower(), value) for name, value in headers)]
    grouped = header_map(all_headers)
    signed = sorted(grouped)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    canonical = "\n".join([method, canonical_uri(path), canonical_query(parse_query(raw_query)),
                           canonical_headers(grouped, signed), ";".join(signed), payload_hash])
    signature = hmac_sha256_hex(signing_key(secret, amz_date[:8], region, service),
                                string_to_sign(amz_date, scope, canonical))
    auth = f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(signed)}, Signature={signature}"
    return [*all_headers, ("authorization", auth)]
