"""DeleteObjects: up to 1000 keys in one request, with quiet mode."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core.policy import BYPASS_GOVERNANCE
from nuage.errors import NuageError
from nuage.s3 import errors as e
from nuage.s3.access import allowed_on_objects
from nuage.s3.context import Services
from nuage.s3.handlers.common import xml_body
from nuage.s3.handlers.lock import asks_bypass
from nuage.s3.http import Request, Response, xml_response
from nuage.types import BucketName, ObjectKey, VersionId
from nuage.xml import child_text, render, root, sub

MAX_KEYS = 1000
DELETE, DELETE_VERSION = "s3:DeleteObject", "s3:DeleteObjectVersion"


async def _bypass(svc: Services, req: Request, entries: list[tuple[ObjectKey, VersionId | None]],
                  allowed: list[bool]) -> list[bool]:
    """For each entry, whether it may bypass GOVERNANCE retention: asked for by the header, and
    s3:BypassGovernanceRetention on that object (only the removal of a version can meet a lock)."""
    out = [False] * len(entries)
    if not asks_bypass(req):
        return out
    wanted = [i for i, (_, v) in enumerate(entries) if v is not None and allowed[i]]
    decided = await allowed_on_objects(svc, req, [(BYPASS_GOVERNANCE, entries[i][0], entries[i][1]) for i in wanted])
    for i, ok in zip(wanted, decided, strict=True):
        out[i] = ok
    return out


def _error(doc: ET.Element, key: str, version: str | None, err: e.S3Error) -> None:
    x = sub(doc, "Error")
    sub(x, "Key", key)
    if version:
        sub(x, "VersionId", version)
    sub(x, "Code", err.code)
    sub(x, "Message", err.message)


async def delete_objects(svc: Services, req: Request, bucket: BucketName) -> Response:
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
    await svc.buckets.get(bucket)
    entries: list[tuple[ObjectKey, VersionId | None]] = []
    for item in items:
        key = child_text(item, "Key")
        if key is None:
            raise e.MalformedXML()
        version = child_text(item, "VersionId") or None
        entries.append((ObjectKey(key), VersionId(version) if version is not None else None))
    # Each entry is authorized as its own DeleteObject would be: s3:DeleteObjectVersion for a version,
    # s3:DeleteObject otherwise, on that key (a Deny on a prefix holds). A caller allowed none of them is
    # refused outright; otherwise the refused entries are reported one by one.
    allowed = await allowed_on_objects(svc, req, [(DELETE_VERSION if v else DELETE, k, v) for k, v in entries])
    if not any(allowed):
        raise e.AccessDenied()
    bypass = await _bypass(svc, req, entries, allowed)
    doc = root("DeleteResult")
    for (key, version), may, may_bypass in zip(entries, allowed, bypass, strict=True):
        if not may:
            _error(doc, key, version, e.AccessDenied())
            continue
        try:
            removed = await svc.objects.delete(bucket, key, version, req.owner_id,
                                               bypass_governance=may_bypass)
        except NuageError as exc:
            _error(doc, key, version, e.from_domain(exc))
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
