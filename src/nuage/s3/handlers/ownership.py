"""Object ownership controls: Put/Get/DeleteBucketOwnershipControls. BucketOwnerEnforced disables ACLs
(see :mod:`nuage.s3.acl_headers` and :mod:`nuage.core.access.acls`)."""

from __future__ import annotations

from nuage.core.access import ENFORCED
from nuage.core.acl import is_public
from nuage.core.bucket_config import ACL, OWNERSHIP
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import render, root, sub

RULES = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


async def put_ownership(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    el = await xml_body(req)
    assert el is not None
    if el.tag != "OwnershipControls":
        raise e.MalformedXML()
    rules = el.findall("Rule")
    if len(rules) != 1:
        raise e.MalformedXML()
    value = (rules[0].findtext("ObjectOwnership") or "").strip()
    if value not in RULES:
        raise e.MalformedXML()
    acl = await svc.buckets.config(bucket, ACL)
    if value == ENFORCED and is_public(acl):
        raise e.InvalidBucketAclWithObjectOwnership()
    await svc.buckets.set_config(bucket, OWNERSHIP, value)
    return empty(200)


async def get_ownership(svc: Services, req: Request, bucket: BucketName) -> Response:
    value = await svc.buckets.require(bucket, OWNERSHIP)
    doc = root("OwnershipControls")
    sub(sub(doc, "Rule"), "ObjectOwnership", value)
    return xml_response(render(doc))


delete_ownership = config_deleter(OWNERSHIP)
