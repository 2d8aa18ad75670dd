"""Access control lists: Get/Put Bucket/Object ACL with AccessControlPolicy bodies, canned ACLs and
the x-amz-grant-* headers (the grant model lives in :mod:`nuage.core.acl`, the headers are read by
:mod:`nuage.s3.acl_headers`). ACLs are disabled on a bucket whose ownership controls say
BucketOwnerEnforced; Block Public Access refuses public ACLs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core.access import ENFORCED, account_name, ownership, public_block
from nuage.core.acl import CANNED, PERMISSIONS, Grant, encode, grants_of, ordered
from nuage.core.bucket_config import ACL
from nuage.s3 import errors as e
from nuage.s3.acl_headers import acl_from_headers, is_public_acl, resolve
from nuage.s3.context import Services
from nuage.s3.handlers.common import version_id, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.storage.meta.extra import acl_change
from nuage.storage.meta.records import BucketRecord
from nuage.types import NULL_VERSION, BucketName, ObjectKey
from nuage.xml import render, root, sub

XSI = "http://www.w3.org/2001/XMLSchema-instance"


# -- parsing ---------------------------------------------------------------------------------------
def canned_from(req: Request) -> str:
    canned = req.headers.get("x-amz-acl", "private")
    if canned not in CANNED:
        raise e.InvalidArgument(ArgumentName="x-amz-acl", ArgumentValue=canned)
    return canned


def parse_policy_body(el: ET.Element) -> tuple[str | None, list[Grant]]:
    """(owner id, grants) of an AccessControlPolicy document; MalformedACLError when it is not one."""
    if el.tag != "AccessControlPolicy":
        raise e.MalformedACLError()
    owner = el.find("Owner")
    owner_id = owner.findtext("ID") if owner is not None else None
    acl = el.find("AccessControlList")
    grants: list[Grant] = []
    if acl is None:
        raise e.MalformedACLError()
    for g in acl:
        if g.tag != "Grant":
            raise e.MalformedACLError()
        grantee = g.find("Grantee")
        permission = (g.findtext("Permission") or "").strip()
        if grantee is None or permission not in PERMISSIONS:
            raise e.MalformedACLError()
        kind = next((v for k, v in grantee.attrib.items() if k == f"{{{XSI}}}type" or k.endswith("type")), None)
        if kind == "CanonicalUser" or (kind is None and grantee.find("ID") is not None):
            ident = (grantee.findtext("ID") or "").strip()
            if not ident:
                raise e.MalformedACLError()
            grants.append(Grant(permission, id=ident))
        elif kind == "Group" or (kind is None and grantee.find("URI") is not None):
            grants.append(Grant(permission, uri=(grantee.findtext("URI") or "").strip()))
        elif kind == "AmazonCustomerByEmail" or (kind is None and grantee.find("EmailAddress") is not None):
            grants.append(Grant(permission, email=(grantee.findtext("EmailAddress") or "").strip()))
        else:
            raise e.MalformedACLError()
    return owner_id, grants


async def _new_acl(svc: Services, req: Request, bucket: BucketRecord) -> str:
    """The stored ACL a Put*Acl request asks for (headers or AccessControlPolicy body)."""
    if await ownership(svc, bucket.name) == ENFORCED:
        raise e.AccessControlListNotSupported()
    canned, grants = acl_from_headers(req.headers)
    if canned is None and grants is None:
        el = await xml_body(req, required=False)
        if el is None:
            raise e.MalformedACLError()
        _, grants = parse_policy_body(el)
    if is_public_acl(canned, grants) and (await public_block(svc, bucket.name)).get("BlockPublicAcls"):
        raise e.AccessDenied()
    if grants is not None:
        return encode(await resolve(svc, grants))
    assert canned is not None
    return canned


# -- rendering -----------------------------------------------------------------------------------------
async def _names(svc: Services, req: Request, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for canonical_id in ids:
        if canonical_id == req.owner_id and req.owner_name:
            names[canonical_id] = req.owner_name
        else:
            names[canonical_id] = await account_name(svc, canonical_id) or canonical_id
    return names


async def acl_document(svc: Services, req: Request, grants: list[Grant], owner: str) -> bytes:
    names = await _names(svc, req, {owner} | {g.id for g in grants if g.id is not None})
    return render_acl(grants, owner, names)


def render_acl(grants: list[Grant], owner: str, names: dict[str, str]) -> bytes:
    doc = root("AccessControlPolicy")
    o = sub(doc, "Owner")
    sub(o, "ID", owner)
    sub(o, "DisplayName", names.get(owner, owner))
    acl = sub(doc, "AccessControlList")
    for grant in ordered(grants):
        g = sub(acl, "Grant")
        grantee = sub(g, "Grantee")
        grantee.set("xmlns:xsi", XSI)
        if grant.id is not None:
            grantee.set("xsi:type", "CanonicalUser")
            sub(grantee, "ID", grant.id)
            sub(grantee, "DisplayName", names.get(grant.id, grant.id))
        else:
            grantee.set("xsi:type", "Group")
            sub(grantee, "URI", grant.uri)
        sub(g, "Permission", grant.permission)
    return render(doc)


# -- handlers ------------------------------------------------------------------------------------------
async def get_bucket_acl(svc: Services, req: Request, bucket: BucketName) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await svc.buckets.config(bucket, ACL)
    if await ownership(svc, b.name) == ENFORCED:
        stored = None
    return xml_response(await acl_document(svc, req, grants_of(stored, b.owner), b.owner))


async def put_bucket_acl(svc: Services, req: Request, bucket: BucketName) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await _new_acl(svc, req, b)
    await svc.buckets.set_config(bucket, ACL, None if stored == ACL.absent else stored)
    return empty(200)


async def get_object_acl(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    b = await svc.buckets.get(bucket)
    rec = await svc.objects.head(bucket, key, version_id(req))
    headers: list[tuple[str, str]] = [("x-amz-version-id", rec.version_id)] if rec.version_id != NULL_VERSION else []
    if await ownership(svc, b.name) == ENFORCED:
        grants, owner = grants_of(None, b.owner), b.owner
    else:
        grants, owner = grants_of(rec.facts.acl, rec.owner, b.owner), rec.owner
    return xml_response(await acl_document(svc, req, grants, owner), headers=headers)


async def put_object_acl(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await _new_acl(svc, req, b)
    rec = await svc.objects.update_extra(bucket, key, version_id(req), acl_change(stored))
    headers: list[tuple[str, str]] = [("x-amz-version-id", rec.version_id)] if rec.version_id != NULL_VERSION else []
    return empty(200, headers)
