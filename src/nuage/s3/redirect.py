"""Requests for a bucket of another region get what S3 answers: 301 PermanentRedirect naming the
endpoint to use (and the bucket), with x-amz-bucket-region. Asked only after a local miss: a request
for an unknown bucket, or one signed for another region (what SDKs send after a first redirect).

A request for a bucket that is not elsewhere but signed for another region gets S3's 400 (the error
body names the region to sign for) with x-amz-bucket-region as well: a HEAD answer has no body, and
the header is all that SDKs (botocore's region redirector, awscli) read from it before they sign again
for the right region."""

from __future__ import annotations

from urllib.parse import urlsplit

from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.http import Request


async def redirect(svc: Services, req: Request | None) -> e.S3Error | None:
    if svc.locator is None or req is None or not req.bucket or await svc.buckets.find(req.bucket) is not None:
        return None
    place = await svc.locator.elsewhere(req.bucket)
    if place is None or place.region == svc.settings.region:
        return None
    return e.PermanentRedirect(Endpoint=urlsplit(place.endpoint).netloc, Bucket=req.bucket,
                               headers={"x-amz-bucket-region": place.region})


async def misdirected(svc: Services, req: Request | None, exc: e.S3Error) -> e.S3Error:
    """The answer to a request signed for another region than this one: PermanentRedirect when its
    bucket lives in another region, else the signature error itself, which names this region in its
    body (``Region``) and, for a request that names a bucket, in x-amz-bucket-region."""
    moved = await redirect(svc, req)
    if moved is not None:
        return moved
    region = exc.fields.get("Region")
    if region and req is not None and req.bucket:
        exc.headers.setdefault("x-amz-bucket-region", region)
    return exc
