"""Who signed a call to one of the APIs beside S3 (IAM, admin, SQL jobs): SigV4 in the Authorization
header, scoped to that API's service name and to a region this server answers for, by a known key.

The protocol layers build the :class:`RequestView` (nuage.asgi.signing_parts) and map the errors to their
own wire format: a subclass of :class:`nuage.sigv4.errors.AuthError` names the signature's failure,
:class:`AccessDenied` means the key's account is suspended.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from datetime import UTC, datetime
from functools import lru_cache

from nuage.core.identities import Identities, Identity
from nuage.sigv4 import RequestView, authenticate
from nuage.sigv4.errors import SignatureMismatch, UnknownAccessKey

__all__ = ["scope_region", "verify_call"]


@lru_cache(maxsize=16)
def _scope_re(service: str) -> re.Pattern[str]:
    return re.compile(rf"Credential=[^/,\s]+/\d{{8}}/([^/,\s]*)/{re.escape(service)}/aws4_request")


def scope_region(authorization: str, service: str) -> str | None:
    """The region of a SigV4 Authorization header signed for ``service``, or None when it is not one."""
    found = _scope_re(service).search(authorization)
    return found.group(1) if found else None


def verify_call(identities: Identities, method: str, raw_path: str, raw_query: str,
                headers: list[tuple[str, str]], body: bytes, *, service: str, regions: Collection[str],
                max_skew_seconds: int) -> Identity:
    """The caller of a signed API request whose whole body is ``body``."""
    authorization = next((v for n, v in headers if n.lower() == "authorization"), "")
    region = scope_region(authorization, service)
    region = "us-east-1" if region is None else region
    if region not in regions:
        raise SignatureMismatch(f"Credential should be scoped to a valid region, not '{region}'.")
    view = RequestView(method, raw_path, raw_query, headers, datetime.now(UTC))
    result = authenticate(view, identities.secret, region=region, max_skew_seconds=max_skew_seconds,
                          services=frozenset({service}), body_sha256=hashlib.sha256(body).hexdigest())
    ident = identities.lookup(result.access_key) if result.access_key else None
    if ident is None:
        raise UnknownAccessKey("The AWS Access Key Id you provided does not exist in our records.")
    return ident
