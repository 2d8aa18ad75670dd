"""SigV4 signatures of the requests one region sends another (service ``nuage-replication``)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from nuage.sigv4.sign import sign_headers

SERVICE = "nuage-replication"
UNSIGNED = "UNSIGNED-PAYLOAD"


def sign(method: str, host: str, path: str, headers: dict[str, str], *, access_key: str, secret_key: str,
         region: str, now: datetime | None = None) -> dict[str, str]:
    """``headers`` (lowercase names, all signed) plus host, x-amz-date, x-amz-content-sha256 and
    Authorization; the body is not hashed (UNSIGNED-PAYLOAD): the receiver checks size and digests."""
    signed = sign_headers(method, host, quote(path, safe="/-_.~"), "", list(headers.items()), access_key=access_key,
                          secret=secret_key, region=region, service=SERVICE, payload_hash=UNSIGNED, now=now)
    return dict(signed)
