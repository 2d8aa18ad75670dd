"""Block Public Access per bucket: Put/Get/DeletePublicAccessBlock. The settings are enforced where
ACLs and policies are written (:mod:`nuage.s3.acl_headers`, :mod:`nuage.s3.handlers.acl`,
:mod:`nuage.s3.handlers.policy`) and where access is decided (:mod:`nuage.core.access`)."""

from __future__ import annotations

from nuage.core.bucket_config import PUBLIC_BLOCK
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import bool_text, render, root, sub

FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


async def put_public_block(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    el = await xml_body(req)
    assert el is not None
    if el.tag != "PublicAccessBlockConfiguration":
        raise e.MalformedXML()
    conf: dict[str, bool] = {}
    for name in FIELDS:
        text = el.findtext(name)
        if text is None:
            conf[name] = False
            continue
        value = text.strip().lower()
        if value not in ("true", "false"):
            raise e.MalformedXML()
        conf[name] = value == "true"
    await svc.buckets.set_config(bucket, PUBLIC_BLOCK, conf)
    return empty(200)


async def get_public_block(svc: Services, req: Request, bucket: BucketName) -> Response:
    conf = await svc.buckets.require(bucket, PUBLIC_BLOCK)
    doc = root("PublicAccessBlockConfiguration")
    for name in FIELDS:
        sub(doc, name, bool_text(bool(conf.get(name))))
    return xml_response(render(doc))


delete_public_block = config_deleter(PUBLIC_BLOCK)
