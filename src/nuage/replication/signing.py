"""SigV4 signatures of the requests one region sends another (service ``nuage-replication``)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

SERVICE = "nuage-replication"
UNSIGNED = "UNSIGNED-PAYLOAD"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method: str, host: str, path: str, headers: dict[str, str], *, access_key: str, secret_key: str,
         region: str, now: datetime | None = None) -> dict[str, str]:
    """``headers`` (lowercase names, all signed) plus host, x-amz-date, x-amz-content-sha256 and
    Authorization; the body is not hashed (UNSIGNED-PAYLOAD): the receiver checks size and digests."""
    when = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    out = {**headers, "host": host, "x-amz-date": when, "x-amz-content-sha256": UNSIGNED}
    names = sorted(out)
    canonical = "\n".join([
        method, quote(path, safe="/-_.~"), "",
        "".join(f"{n}:{' '.join(out[n].strip().split())}\n" for n in names),
        ";".join(names), UNSIGNED,
    ])
    scope = f"{when[:8]}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", when, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), when[:8]), region), SERVICE), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                            f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return out
