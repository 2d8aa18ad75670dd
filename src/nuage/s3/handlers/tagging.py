"""Get/Put/DeleteObjectTagging."""

from __future__ import annotations

from nuage.s3.context import Services
from nuage.s3.handlers.common import MAX_TAGS_OBJECT, parse_tagging, render_tagging, version_id, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import NULL_VERSION, BucketName, ObjectKey
from nuage.xml import render


def _version_header(version: str) -> list[tuple[str, str]]:
    return [("x-amz-version-id", version)] if version != NULL_VERSION else []


async def get_tagging(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    rec = await svc.objects.get_tags(bucket, key, version_id(req))
    return xml_response(render(render_tagging(rec.tags)), headers=_version_header(rec.version_id))


async def put_tagging(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    await svc.objects.head(bucket, key, version_id(req))
    el = await xml_body(req)
    assert el is not None
    tags = parse_tagging(el, MAX_TAGS_OBJECT)
    rec = await svc.objects.set_tags(bucket, key, version_id(req), tags)
    return empty(200, _version_header(rec.version_id))


async def delete_tagging(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    rec = await svc.objects.set_tags(bucket, key, version_id(req), {})
    return empty(204, _version_header(rec.version_id))
