"""What an S3 request counts on the bill (nuage.core.metering), once its answer is sent.

- The account billed is the bucket owner's (as AWS bills the bucket owner), from the bucket record the
  request's handlers already read (``memo.peek``: no query); a request that names no bucket (ListBuckets)
  bills the caller's account, under bucket ''.
- Not billed: a request whose bucket does not exist (NoSuchBucket, or a bucket of another region), one
  refused before it was routed (a bad signature, an unknown key), one answered 403 (as AWS since 2024 for
  requests from outside the bucket owner's account) or 5xx (the server's fault).
- The request class comes from the operation's row (``Operation.metering``, nuage.s3.operations): tier 1
  (PUT, COPY, POST, LIST) is ``requests_a``, tier 2 (GET, HEAD, SELECT and the rest) ``requests_b``; DELETE
  and AbortMultipartUpload are free and not counted, as on AWS.
- ``bytes_in``: the body bytes (decoded from aws-chunked) read by PutObject, UploadPart and PostObject (the
  whole form); ``bytes_out``: the body bytes sent by GetObject (200 and 206: ranges, presigned and
  anonymous requests alike) and by SelectObjectContent (its event stream); ``bytes_scanned``: the object
  bytes S3 Select read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

from nuage.core import memo
from nuage.core.metering import NONE, A, B, Meter
from nuage.s3.http import Request
from nuage.s3.operation import Metering, Operation

CLASSES = {Metering.TIER1: A, Metering.TIER2: B, Metering.FREE: NONE}
BYTES_IN_OPERATIONS = frozenset(("PutObject", "UploadPart", "PostObject"))
BYTES_OUT_OPERATIONS = frozenset(("GetObject", "SelectObjectContent"))
_PLANS: dict[str, tuple[int, bool]] = {}   # operation name -> (its class, whether its body is bytes out)


def _plan(op: Operation) -> tuple[int, bool]:
    plan = _PLANS[op.name] = (CLASSES[op.metering], op.name in BYTES_OUT_OPERATIONS)
    return plan


def counts_body(operation: str) -> bool:
    return operation in BYTES_IN_OPERATIONS


async def counted(req: Request, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``body``, adding the length of each piece to ``req.received``."""
    async for chunk in body:
        req.received += len(chunk)
        yield chunk


def record(meter: Meter, req: Request, status: int, sent: int) -> Awaitable[None] | None:
    """Count the request; an awaitable when its bucket must be read first (the request changed it, e.g.
    CreateBucket), else None (the usual case: nothing to wait for)."""
    op = req.operation
    if op is None or status == 403 or status >= 500:
        return None
    plan = _PLANS.get(op.name) or _plan(op)
    bucket = req.bucket
    if bucket is None:
        if req.identity is not None and plan[0] != NONE:
            meter.count(req.identity.canonical_id, "", plan[0])
        return None
    rec = memo.peek(bucket)
    if rec is None:
        return _record_later(meter, req, status, sent)
    meter.count(rec.owner, bucket, plan[0], sent if plan[1] and (status == 200 or status == 206) else 0,
                req.received, req.scanned)
    return None


async def _record_later(meter: Meter, req: Request, status: int, sent: int) -> None:
    assert req.bucket is not None
    rec = await memo.bucket(meter.meta, req.bucket)
    if rec is not None and req.operation is not None:
        plan = _PLANS.get(req.operation.name) or _plan(req.operation)
        meter.count(rec.owner, req.bucket, plan[0], sent if plan[1] and (status == 200 or status == 206) else 0,
                    req.received, req.scanned)
