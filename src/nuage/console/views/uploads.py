"""The upload API of the object browser (JSON, CSRF token in a header). The browser sends the bytes
straight to the S3 endpoint with presigned URLs made here with the user's key: one PUT for a small file,
or a multipart upload whose parts it PUTs one by one (progress per file) and, after a network error,
resumes from what ListParts says was received."""

from __future__ import annotations

from typing import Any

from nuage import xml
from nuage.console.context import Ctx, Route
from nuage.console.http import HTTPError, Response, json_response
from nuage.console.views.objects import MULTIPART_THRESHOLD, PART_SIZE

MAX_PARTS = 10_000
URL_SECONDS = 6 * 3600


def _field(body: Any, name: str, kind: type = str) -> Any:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
        raise HTTPError(400, f"{name} is missing or not a {kind.__name__}.")
    return value


def _part_size(size: int) -> int:
    part = PART_SIZE
    while size > part * MAX_PARTS:
        part *= 2
    return part


def _part_urls(ctx: Ctx, bucket: str, key: str, upload_id: str, size: int, part: int) -> list[dict[str, object]]:
    count = max(1, -(-size // part))
    return [{"number": n, "url": ctx.presign("PUT", bucket, key, [("partNumber", str(n)), ("uploadId", upload_id)],
                                             expires=URL_SECONDS)} for n in range(1, count + 1)]


async def start(ctx: Ctx) -> Response:
    body = ctx.req.json
    bucket, key, size = _field(body, "bucket"), _field(body, "key"), _field(body, "size", int)
    if size < 0:
        raise HTTPError(400, "size must not be negative.")
    if not await ctx.can("PutObject", bucket, key):
        return json_response({"error": "AccessDenied", "message": "You may not upload to this bucket."}, 403)
    if size <= MULTIPART_THRESHOLD:
        return json_response({"mode": "single", "url": ctx.presign("PUT", bucket, key, expires=URL_SECONDS)})
    reply = await ctx.must("POST", bucket, key, query=[("uploads", "")])
    upload_id = xml.child_text(reply.document(), "UploadId") or ""
    part = _part_size(size)
    return json_response({"mode": "multipart", "upload_id": upload_id, "part_size": part,
                          "parts": _part_urls(ctx, bucket, key, upload_id, size, part)})


async def parts(ctx: Ctx) -> Response:
    """The parts S3 has of an upload (for resuming): number, size, ETag."""
    body = ctx.req.json
    bucket, key, upload_id = _field(body, "bucket"), _field(body, "key"), _field(body, "upload_id")
    found: list[dict[str, object]] = []
    marker = "0"
    while True:
        reply = await ctx.must("GET", bucket, key, query=[("uploadId", upload_id), ("part-number-marker", marker)])
        doc = reply.document()
        for p in doc.iter("Part"):
            found.append({"number": int(xml.child_text(p, "PartNumber") or 0),
                          "size": int(xml.child_text(p, "Size") or 0),
                          "etag": xml.child_text(p, "ETag") or ""})
        if xml.child_text(doc, "IsTruncated") != "true":
            return json_response({"parts": found})
        marker = xml.child_text(doc, "NextPartNumberMarker") or marker


async def complete(ctx: Ctx) -> Response:
    body = ctx.req.json
    bucket, key, upload_id = _field(body, "bucket"), _field(body, "key"), _field(body, "upload_id")
    given = _field(body, "parts", list)
    doc = xml.root("CompleteMultipartUpload")
    for p in given:
        if not isinstance(p, dict) or not isinstance(p.get("number"), int) or not isinstance(p.get("etag"), str):
            raise HTTPError(400, "Each part needs a number and an etag.")
        el = xml.sub(doc, "Part")
        xml.sub(el, "PartNumber", p["number"])
        xml.sub(el, "ETag", p["etag"])
    reply = await ctx.must("POST", bucket, key, query=[("uploadId", upload_id)], body=xml.render(doc))
    result = reply.document()
    if result.tag == "Error":
        return json_response({"error": xml.child_text(result, "Code"), "message": xml.child_text(result, "Message")},
                             400)
    return json_response({"etag": xml.child_text(result, "ETag"), "key": key})


async def abort(ctx: Ctx) -> Response:
    body = ctx.req.json
    bucket, key, upload_id = _field(body, "bucket"), _field(body, "key"), _field(body, "upload_id")
    await ctx.must("DELETE", bucket, key, query=[("uploadId", upload_id)])
    return json_response({"aborted": upload_id})


ROUTES = [
    Route("POST", r"/api/upload/start", start),
    Route("POST", r"/api/upload/parts", parts),
    Route("POST", r"/api/upload/complete", complete),
    Route("POST", r"/api/upload/abort", abort),
]
