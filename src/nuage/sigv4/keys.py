"""Key derivation and the small HMAC helpers shared by the SigV4 code paths."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

__all__ = ["hmac_sha256_hex", "sha256_hex", "signatures_equal", "signing_key"]


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.digest(key, msg.encode("utf-8"), "sha256")


@lru_cache(maxsize=512)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Derive the SigV4 signing key for ``date`` (``YYYYMMDD``), region and service.

    Derived keys only change daily, so they are cached per (secret, date, region, service).
    """
    k_date = _hmac(("AWS4" + secret).encode("utf-8"), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def hmac_sha256_hex(key: bytes, msg: str) -> str:
    """Hex HMAC-SHA256 of the UTF-8 encoded ``msg``."""
    # not hmac.digest: its one-shot C call lets go of the GIL, a thread switch per request when the
    # writer thread is busy; an HMAC object's small updates keep it
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).hexdigest()


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def signatures_equal(expected: str, provided: str) -> bool:
    """Constant-time comparison of an expected signature with the client-provided one."""
    if not provided.isascii():
        return False
    return hmac.compare_digest(expected.encode("ascii"), provided.encode("ascii"))
