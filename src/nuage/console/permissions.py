"""What the signed-in user may do, asked of the S3 authorization itself (:func:`nuage.s3.access.authorize`:
bucket policies, identity policies, ACLs), so that the console shows only the controls that would work.
Showing is a convenience: every action is still an S3 request that S3 authorizes again."""

from __future__ import annotations

from typing import Any

from nuage.core.identities import Identity
from nuage.s3 import errors as s3errors
from nuage.s3.access import authorize
from nuage.s3.context import Services
from nuage.s3.http import Request
from nuage.s3.operations import BY_NAME

METHODS = {"CreateBucket": "PUT", "DeleteBucket": "DELETE", "PutBucketVersioning": "PUT", "PutObject": "PUT",
           "DeleteObject": "DELETE", "GetObject": "GET", "ListObjectsV2": "GET"}


async def _no_body() -> dict[str, Any]:
    return {"type": "http.disconnect"}


async def can(svc: Services, ident: Identity, operation: str, bucket: str | None = None,
              key: str | None = None, version_id: str | None = None) -> bool:
    """Whether ``ident`` may run the S3 ``operation`` on ``bucket``/``key`` (a probe: nothing is run)."""
    query = {"versionId": version_id} if version_id else {}
    if operation == "CreateBucket" and bucket is None:
        bucket = "*"     # any new bucket
    req = Request(method=METHODS[operation], raw_path="/", raw_query="", query=query, headers={}, header_list=[],
                  bucket=bucket, key=key, client="", scheme="http", receive=_no_body,
                  owner_id=ident.owner_id, owner_name=ident.display_name, access_key=ident.access_key)
    req.identity = ident
    try:
        await authorize(svc, req, BY_NAME[operation])
    except s3errors.S3Error:
        return False
    return True
