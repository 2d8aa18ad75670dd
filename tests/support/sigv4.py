"""An independent SigV4 signer for hand-made requests (headers, chunk signatures, trailers).
Written from the AWS documentation so that the server is checked against something it does not share."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    enc = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def sign_headers(method: str, path_and_query: str, headers: dict[str, str], payload_hash: str, *,
                 access_key: str, secret_key: str, region: str, now: datetime | None = None
                 ) -> tuple[dict[str, str], str, bytes, str]:
    """Returns (headers with Authorization, seed signature, signing key, scope-qualified timestamp)."""
    now = now or datetime.now(UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(path_and_query)
    hdrs = dict(headers)
    hdrs["x-amz-date"] = amz_date
    hdrs["x-amz-content-sha256"] = payload_hash
    lower = {k.lower(): " ".join(v.strip().split()) for k, v in hdrs.items()}
    signed = sorted(lower)
    canonical = "\n".join([
        method, parts.path or "/", canonical_query(parts.query),
        "".join(f"{k}:{lower[k]}\n" for k in signed), ";".join(signed), payload_hash,
    ])
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret_key, date, region)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                             f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    return hdrs, signature, key, f"{amz_date}\n{scope}"


def chunk_signature(key: bytes, stamp_scope: str, previous: str, data: bytes) -> str:
    to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", stamp_scope, previous, EMPTY_SHA256,
                         hashlib.sha256(data).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key: bytes, stamp_scope: str, previous: str, trailer: bytes) -> str:
    to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", stamp_scope, previous, hashlib.sha256(trailer).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def signed_chunks(data: bytes, chunk_size: int, key: bytes, stamp_scope: str, seed: str,
                  tamper_index: int | None = None) -> bytes:
    """The aws-chunked body of STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ending with the 0-size chunk."""
    out = bytearray()
    previous = seed
    pieces = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for i, piece in enumerate(pieces):
        sig = chunk_signature(key, stamp_scope, previous, piece)
        previous = sig
        if i == tamper_index:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        out += f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece + b"\r\n"
    return bytes(out)
