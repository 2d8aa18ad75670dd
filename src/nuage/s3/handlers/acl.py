"""Access control lists: Get/Put Bucket/Object ACL with AccessControlPolicy bodies, canned ACLs and
the x-amz-grant-* headers (the grant model lives in :mod:`nuage.core.acl`). ACLs are disabled on a
bucket whose ownership controls say BucketOwnerEnforced; Block Public Access refuses public ACLs."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET

from nuage.core.acl import CANNED as CANNED  # re-exported for nuage.s3.handlers.post
from nuage.core.acl import (
    GRANT_HEADERS,
    GROUPS,
    PERMISSIONS,
    PUBLIC_CANNED,
    Grant,
    encode,
    grants_of,
    ordered,
)
from nuage.core.bucket_config import ACL, OWNERSHIP, PUBLIC_BLOCK
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import version_id, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.storage.meta.records import BucketRecord
from nuage.types import NULL_VERSION
from nuage.xml import render, root, sub

XSI = "http://www.w3.org/2001/XMLSchema-instance"
ENFORCED = "BucketOwnerEnforced"
#: One grantee of an x-amz-grant-* header: id="...", uri="..." or emailAddress="..." (unquoted values are
#: accepted too, as RGW does).
_GRANTEE_RE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(?:,|$)', re.IGNORECASE)


# -- parsing ---------------------------------------------------------------------------------------
def header_grants(headers: dict[str, str]) -> list[Grant] | None:
    """The grants of the x-amz-grant-* headers, or None when there are none."""
    grants: list[Grant] = []
    found = False
    for header, permission in GRANT_HEADERS.items():
        value = headers.get(header)
        if value is None:
            continue
        found = True
        pos = 0
        value = value.strip()
        while pos < len(value):
            m = _GRANTEE_RE.match(value, pos)
            if m is None or m.end() == pos:
                raise e.InvalidArgument(ArgumentName=header, ArgumentValue=value)
            kind, who = m.group(1).lower(), m.group(2) if m.group(2) is not None else m.group(3)
            if kind == "id":
                grants.append(Grant(permission, id=who))
            elif kind == "uri":
                grants.append(Grant(permission, uri=who))
            else:
                grants.append(Grant(permission, email=who))
            pos = m.end()
    return grants if found else None


def acl_from_headers(headers: dict[str, str]) -> tuple[str | None, list[Grant] | None]:
    """(canned ACL, header grants) of a request; at most one of them is given."""
    canned = headers.get("x-amz-acl")
    grants = header_grants(headers)
    if canned is not None and grants is not None:
        raise e.InvalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
    if canned is not None and canned not in CANNED:
        raise e.InvalidArgument(ArgumentName="x-amz-acl", ArgumentValue=canned)
    return canned, grants


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


async def account_name(svc: Services, canonical_id: str) -> str | None:
    """The display name of the account with this canonical id (None: no such account)."""
    account = await asyncio.to_thread(svc.identities.meta.iam.account_by_canonical, canonical_id)
    return account.name if account is not None else None


async def account_exists(svc: Services, canonical_id: str) -> bool:
    return await account_name(svc, canonical_id) is not None


async def resolve(svc: Services, grants: list[Grant]) -> list[Grant]:
    """Check the grantees: accounts must exist, groups must be known; e-mail addresses cannot be resolved
    (Nuage keeps no e-mail addresses for its accounts)."""
    for g in grants:
        if g.email is not None:
            raise e.UnresolvableGrantByEmailAddress()
        if g.uri is not None and g.uri not in GROUPS:
            raise e.InvalidArgument("Invalid group uri", ArgumentName="uri", ArgumentValue=g.uri)
        if g.id is not None and not await account_exists(svc, g.id):
            raise e.InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID", ArgumentValue=g.id)
    return grants


async def stored_from_headers(svc: Services, headers: dict[str, str]) -> str | None:
    """The stored ACL a write's headers ask for (None: none asked), with the grantees checked."""
    canned, grants = acl_from_headers(headers)
    if grants is not None:
        return encode(await resolve(svc, grants))
    return canned


# -- bucket settings that shape ACLs ------------------------------------------------------------------
async def ownership(svc: Services, bucket: str) -> str | None:
    return await svc.buckets.config(bucket, OWNERSHIP)


async def public_block(svc: Services, bucket: str) -> dict[str, bool]:
    return await svc.buckets.config(bucket, PUBLIC_BLOCK) or {}


def _public(canned: str | None, grants: list[Grant] | None) -> bool:
    return (canned in PUBLIC_CANNED) or any(g.is_public for g in grants or ())


async def check_write_acl(svc: Services, req: Request, bucket: BucketRecord) -> None:
    """For writes of objects (PutObject, CopyObject, CreateMultipartUpload): ACLs disabled by the
    bucket's ownership controls, public ACLs blocked, grantees that do not exist."""
    canned, grants = acl_from_headers(req.headers)
    if canned is None and grants is None:
        return
    if await ownership(svc, bucket.name) == ENFORCED and not (grants is None and canned == "bucket-owner-full-control"):
        raise e.AccessControlListNotSupported()
    if _public(canned, grants) and (await public_block(svc, bucket.name)).get("BlockPublicAcls"):
        raise e.AccessDenied()
    if grants is not None:
        await resolve(svc, grants)


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
    if _public(canned, grants) and (await public_block(svc, bucket.name)).get("BlockPublicAcls"):
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
async def get_bucket_acl(svc: Services, req: Request, bucket: str) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await svc.buckets.config(bucket, ACL)
    if await ownership(svc, b.name) == ENFORCED:
        stored = None
    return xml_response(await acl_document(svc, req, grants_of(stored, b.owner), b.owner))


async def put_bucket_acl(svc: Services, req: Request, bucket: str) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await _new_acl(svc, req, b)
    await svc.buckets.set_config(bucket, ACL, None if stored == ACL.absent else stored)
    return empty(200)


async def get_object_acl(svc: Services, req: Request, bucket: str, key: str) -> Response:
    b = await svc.buckets.get(bucket)
    rec = await svc.objects.head(bucket, key, version_id(req))
    headers = [("x-amz-version-id", rec.version_id)] if rec.version_id != NULL_VERSION else []
    if await ownership(svc, b.name) == ENFORCED:
        grants, owner = grants_of(None, b.owner), b.owner
    else:
        grants, owner = grants_of(rec.extra.get("acl"), rec.owner, b.owner), rec.owner
    return xml_response(await acl_document(svc, req, grants, owner), headers=headers)


async def put_object_acl(svc: Services, req: Request, bucket: str, key: str) -> Response:
    b = await svc.buckets.get(bucket)
    stored = await _new_acl(svc, req, b)
    rec = await svc.objects.update_extra(bucket, key, version_id(req), {"acl": stored})
    headers = [("x-amz-version-id", rec.version_id)] if rec.version_id != NULL_VERSION else []
    return empty(200, headers)
