"""Requests for a bucket of another region get what S3 answers: 301 PermanentRedirect naming the
endpoint to use (and the bucket), with x-amz-bucket-region. Asked only after a local miss: a request
for an unknown bucket, or one signed for another region (what SDKs send after a first redirect)."""

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
