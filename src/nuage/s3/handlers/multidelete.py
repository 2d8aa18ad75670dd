"""DeleteObjects: up to 1000 keys in one request, with quiet mode."""

from __future__ import annotations

from nuage.errors import NuageError
from nuage.s3 import errors as e
from nuage.s3.context import Handler, Services
from nuage.s3.handlers.common import xml_body
from nuage.s3.handlers.lock import bypass_governance
from nuage.s3.http import Request, Response, xml_response
from nuage.xml import child_text, render, root, sub

MAX_KEYS = 1000


async def delete_objects(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    if "content-md5" not in req.headers and not any(h.startswith("x-amz-checksum-") for h in req.headers) \
            and "x-amz-sdk-checksum-algorithm" not in req.headers:
        raise e.InvalidRequest("Missing required header for this request: Content-MD5")
    el = await xml_body(req)
    assert el is not None
    if el.tag != "Delete":
        raise e.MalformedXML()
    quiet = (child_text(el, "Quiet") or "false").strip().lower() == "true"
    items = el.findall("Object")
    if not items or len(items) > MAX_KEYS:
        raise e.MalformedXML()
    await svc.buckets.get(req.bucket)
    bypass = await bypass_governance(svc, req)
    doc = root("DeleteResult")
    for item in items:
        key = child_text(item, "Key")
        if key is None:
            raise e.MalformedXML()
        version = child_text(item, "VersionId")
        try:
            removed = await svc.objects.delete(req.bucket, key, version or None, req.owner_id,
                                               bypass_governance=bypass)
        except NuageError as exc:
            err = e.from_domain(exc)
            x = sub(doc, "Error")
            sub(x, "Key", key)
            if version:
                sub(x, "VersionId", version)
            sub(x, "Code", err.code)
            sub(x, "Message", err.message)
            continue
        if quiet:
            continue
        d = sub(doc, "Deleted")
        sub(d, "Key", key)
        if version:
            sub(d, "VersionId", version)
        if removed is not None and removed.delete_marker:
            sub(d, "DeleteMarker", "true")
            sub(d, "DeleteMarkerVersionId", removed.version_id)
    return xml_response(render(doc))


HANDLERS: dict[str, Handler] = {"DeleteObjects": delete_objects}
