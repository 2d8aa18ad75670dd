"""Block Public Access per bucket: Put/Get/DeletePublicAccessBlock. The settings are enforced where
ACLs and policies are written (:mod:`nuage.s3.handlers.acl`, :mod:`nuage.s3.handlers.policy`) and
where access is decided (:mod:`nuage.s3.access`)."""

from __future__ import annotations

import json

from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.acl import PUBLIC_BLOCK_CONFIG
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.xml import bool_text, render, root, sub

FIELDS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


async def put_public_block(svc: Services, req: Request, bucket: str) -> Response:
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
    await svc.buckets.put_config(bucket, PUBLIC_BLOCK_CONFIG, json.dumps(conf))
    return empty(200)


async def get_public_block(svc: Services, req: Request, bucket: str) -> Response:
    await svc.buckets.get(bucket)
    text = await svc.buckets.config(bucket, PUBLIC_BLOCK_CONFIG)
    if text is None:
        raise e.NoSuchPublicAccessBlockConfiguration(BucketName=bucket)
    conf = json.loads(text)
    doc = root("PublicAccessBlockConfiguration")
    for name in FIELDS:
        sub(doc, name, bool_text(bool(conf.get(name))))
    return xml_response(render(doc))


delete_public_block = config_deleter(PUBLIC_BLOCK_CONFIG)
