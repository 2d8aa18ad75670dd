"""The ACL a request's headers ask for: ``x-amz-acl`` (a canned ACL) or the ``x-amz-grant-*`` headers, parsed
and checked (grantees must exist; ownership controls and Block Public Access may refuse them). Used by the
ACL handlers, CreateBucket, and authorization for the writes of new objects."""

from __future__ import annotations

import re

from nuage.core.access import ENFORCED, account_name, ownership, public_block
from nuage.core.acl import CANNED, GRANT_HEADERS, GROUPS, PUBLIC_CANNED, Grant, encode
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.http import Request
from nuage.types import BucketName

#: One grantee of an x-amz-grant-* header: id="...", uri="..." or emailAddress="..." (unquoted values are
#: accepted too, as RGW does).
_GRANTEE_RE = re.compile(r'\s*(id|uri|emailAddress)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(?:,|$)', re.IGNORECASE)


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


def is_public_acl(canned: str | None, grants: list[Grant] | None) -> bool:
    return (canned in PUBLIC_CANNED) or any(g.is_public for g in grants or ())


async def resolve(svc: Services, grants: list[Grant]) -> list[Grant]:
    """Check the grantees: accounts must exist, groups must be known; e-mail addresses cannot be resolved
    (Nuage keeps no e-mail addresses for its accounts)."""
    for g in grants:
        if g.email is not None:
            raise e.UnresolvableGrantByEmailAddress()
        if g.uri is not None and g.uri not in GROUPS:
            raise e.InvalidArgument("Invalid group uri", ArgumentName="uri", ArgumentValue=g.uri)
        if g.id is not None and await account_name(svc, g.id) is None:
            raise e.InvalidArgument("Invalid id", ArgumentName="CanonicalUser/ID", ArgumentValue=g.id)
    return grants


async def stored_from_headers(svc: Services, headers: dict[str, str]) -> str | None:
    """The stored ACL a write's headers ask for (None: none asked), with the grantees checked."""
    canned, grants = acl_from_headers(headers)
    if grants is not None:
        return encode(await resolve(svc, grants))
    return canned


async def check_write_acl(svc: Services, req: Request, bucket: BucketName) -> None:
    """For writes of objects (PutObject, CopyObject, CreateMultipartUpload): ACLs disabled by the
    bucket's ownership controls, public ACLs blocked, grantees that do not exist."""
    canned, grants = acl_from_headers(req.headers)
    if canned is None and grants is None:
        return
    if await ownership(svc, bucket) == ENFORCED and not (grants is None and canned == "bucket-owner-full-control"):
        raise e.AccessControlListNotSupported()
    if is_public_acl(canned, grants) and (await public_block(svc, bucket)).get("BlockPublicAcls"):
        raise e.AccessDenied()
    if grants is not None:
        await resolve(svc, grants)
