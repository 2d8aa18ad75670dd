"""Object ownership controls: Put/Get/DeleteBucketOwnershipControls. BucketOwnerEnforced disables ACLs
(see :mod:`nuage.s3.handlers.acl` and :func:`nuage.s3.access.acl_allows`)."""

from __future__ import annotations

from nuage.core.acl import is_public
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.acl import ENFORCED, OWNERSHIP_CONFIG
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.xml import render, root, sub

RULES = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


async def put_ownership(svc: Services, req: Request, bucket: str) -> Response:
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
    if value == ENFORCED and is_public(await svc.buckets.config(bucket, "acl")):
        raise e.InvalidBucketAclWithObjectOwnership()
    await svc.buckets.put_config(bucket, OWNERSHIP_CONFIG, value)
    return empty(200)


async def get_ownership(svc: Services, req: Request, bucket: str) -> Response:
    await svc.buckets.get(bucket)
    value = await svc.buckets.config(bucket, OWNERSHIP_CONFIG)
    if value is None:
        raise e.OwnershipControlsNotFoundError(BucketName=bucket)
    doc = root("OwnershipControls")
    sub(sub(doc, "Rule"), "ObjectOwnership", value)
    return xml_response(render(doc))


delete_ownership = config_deleter(OWNERSHIP_CONFIG)
