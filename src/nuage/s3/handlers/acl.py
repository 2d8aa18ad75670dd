"""Access control lists, for now the owner-only model: canned ACLs are stored and reported with
their grants; enforcement of grants to others arrives with tenants and policies (issue 3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.s3 import errors as e
from nuage.s3.context import Handler, Services
from nuage.s3.handlers.common import version_id, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.xml import render, root, sub

CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
          "bucket-owner-full-control", "log-delivery-write", "aws-exec-read")
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def _grant(parent: ET.Element, permission: str, *, owner: tuple[str, str] | None = None,
           group: str | None = None) -> None:
    g = sub(parent, "Grant")
    grantee = sub(g, "Grantee")
    grantee.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    if owner is not None:
        grantee.set("xsi:type", "CanonicalUser")
        sub(grantee, "ID", owner[0])
        sub(grantee, "DisplayName", owner[1])
    else:
        grantee.set("xsi:type", "Group")
        sub(grantee, "URI", group)
    sub(g, "Permission", permission)


def render_acl(canned: str, owner: tuple[str, str]) -> bytes:
    doc = root("AccessControlPolicy")
    o = sub(doc, "Owner")
    sub(o, "ID", owner[0])
    sub(o, "DisplayName", owner[1])
    acl = sub(doc, "AccessControlList")
    if canned in ("public-read", "public-read-write"):
        _grant(acl, "READ", group=ALL_USERS)
    if canned == "public-read-write":
        _grant(acl, "WRITE", group=ALL_USERS)
    if canned == "authenticated-read":
        _grant(acl, "READ", group=AUTH_USERS)
    _grant(acl, "FULL_CONTROL", owner=owner)
    return render(doc)


def canned_from(req: Request) -> str:
    canned = req.headers.get("x-amz-acl", "private")
    if canned not in CANNED:
        raise e.InvalidArgument(ArgumentName="x-amz-acl", ArgumentValue=canned)
    return canned


async def get_bucket_acl(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    b = await svc.buckets.get(req.bucket)
    canned = await svc.buckets.get_config_or_none(req.bucket, "acl") or "private"
    return xml_response(render_acl(canned, (b.owner, req.owner_name if b.owner == req.owner_id else b.owner)))


async def put_bucket_acl(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    await svc.buckets.get(req.bucket)
    canned = canned_from(req)
    if "x-amz-acl" not in req.headers:
        el = await xml_body(req, required=False)
        if el is not None and el.tag != "AccessControlPolicy":
            raise e.MalformedACLError()
    await svc.buckets.put_config(req.bucket, "acl", canned)
    return empty(200)


async def get_object_acl(svc: Services, req: Request) -> Response:
    assert req.bucket is not None and req.key is not None
    rec = await svc.objects.head(req.bucket, req.key, version_id(req))
    canned = rec.extra.get("acl", "private")
    headers = [("x-amz-version-id", rec.version_id)] if rec.version_id != "null" else []
    owner = (rec.owner, req.owner_name if rec.owner == req.owner_id else rec.owner)
    return xml_response(render_acl(canned, owner), headers=headers)


async def put_object_acl(svc: Services, req: Request) -> Response:
    assert req.bucket is not None and req.key is not None
    canned = canned_from(req)
    if "x-amz-acl" not in req.headers:
        el = await xml_body(req, required=False)
        if el is not None and el.tag != "AccessControlPolicy":
            raise e.MalformedACLError()
    rec = await svc.objects.update_extra(req.bucket, req.key, version_id(req), {"acl": canned})
    headers = [("x-amz-version-id", rec.version_id)] if rec.version_id != "null" else []
    return empty(200, headers)


HANDLERS: dict[str, Handler] = {
    "GetBucketAcl": get_bucket_acl,
    "PutBucketAcl": put_bucket_acl,
    "GetObjectAcl": get_object_acl,
    "PutObjectAcl": put_object_acl,
}
