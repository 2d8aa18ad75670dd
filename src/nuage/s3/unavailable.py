"""A metadata database that does not answer (nuage.storage.meta.outage tells it from other failures), as S3
clients are told of it: 503 ServiceUnavailable with the S3 XML body and a ``Retry-After`` header, which SDKs
retry on their own with back-off, never 500. The reason is logged once a minute at most, not once per
refused request.
"""

from __future__ import annotations

import logging

from nuage.s3 import errors as e
from nuage.storage.meta.outage import RETRY_AFTER
from nuage.storage.meta.outage import database_unavailable as _unavailable

__all__ = ["database_unavailable"]

log = logging.getLogger("nuage.s3")


def database_unavailable(exc: BaseException, method: str, path: str) -> e.S3Error | None:
    """The 503 to answer when ``exc`` says the metadata database did not answer (logged, throttled);
    None when it says nothing of the kind."""
    if not _unavailable(exc, log, f"{method} {path}", "503 ServiceUnavailable"):
        return None
    return e.ServiceUnavailable("The service is unavailable for a moment. Please try again.",
                                headers={"retry-after": str(RETRY_AFTER)})
