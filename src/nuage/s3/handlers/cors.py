"""Bucket CORS: Get/Put/DeleteBucketCors, browser preflight (OPTIONS) and the CORS headers of
actual requests that carry an Origin header."""

from __future__ import annotations

import logging

from nuage.core import cors
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import render, root, sub

log = logging.getLogger("nuage.s3")

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
FORBIDDEN = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, "
             "request method / Access-Control-Request-Method or Access-Control-Request-Headers are not "
             "whitelisted by the resource's CORS spec.")



def _int(text: str | None) -> int:
    if text is None or not text.strip().lstrip("-").isdigit():
        raise e.MalformedXML()
    return int(text.strip())


async def put_cors(svc: Services, req: Request, bucket: BucketName) -> Response:
    name = bucket
    await svc.buckets.get(name)
    doc = await xml_body(req)
    assert doc is not None
    if doc.tag != "CORSConfiguration":
        raise e.MalformedXML()
    rules: list[cors.CORSRule] = []
    for el in doc:
        if el.tag != "CORSRule":
            raise e.MalformedXML()
        rule = cors.CORSRule([], [])
        for child in el:
            text = (child.text or "").strip()
            if child.tag == "AllowedMethod":
                rule.allowed_methods.append(text)
            elif child.tag == "AllowedOrigin":
                rule.allowed_origins.append(text)
            elif child.tag == "AllowedHeader":
                rule.allowed_headers.append(text)
            elif child.tag == "ExposeHeader":
                rule.expose_headers.append(text)
            elif child.tag == "MaxAgeSeconds" and rule.max_age is None:
                rule.max_age = _int(child.text)
            elif child.tag == "ID" and rule.id is None:
                rule.id = child.text or ""
            else:
                raise e.MalformedXML()
        rules.append(rule)
    cors.validate(rules)
    await svc.buckets.set_config(name, cors.CORS, rules)
    return empty(200)


async def get_cors(svc: Services, req: Request, bucket: BucketName) -> Response:
    rules = await svc.buckets.require(bucket, cors.CORS)
    doc = root("CORSConfiguration")
    for rule in rules:
        el = sub(doc, "CORSRule")
        if rule.id is not None:
            sub(el, "ID", rule.id)
        for tag, values in (("AllowedHeader", rule.allowed_headers), ("AllowedMethod", rule.allowed_methods),
                            ("AllowedOrigin", rule.allowed_origins), ("ExposeHeader", rule.expose_headers)):
            for value in values:
                sub(el, tag, value)
        if rule.max_age is not None:
            sub(el, "MaxAgeSeconds", rule.max_age)
    return xml_response(render(doc))



def _headers(match: cors.Match, requested: list[str] | None = None) -> list[tuple[str, str]]:
    rule = match.rule
    out = [("access-control-allow-origin", match.allow_origin),
           ("access-control-allow-methods", ", ".join(rule.allowed_methods))]
    if requested:
        out.append(("access-control-allow-headers", ", ".join(requested)))
    if rule.expose_headers:
        out.append(("access-control-expose-headers", ", ".join(rule.expose_headers)))
    if rule.max_age is not None:
        out.append(("access-control-max-age", str(rule.max_age)))
    if match.allow_origin != "*":
        out.append(("access-control-allow-credentials", "true"))
    return out


async def preflight(svc: Services, req: Request, bucket: BucketName) -> Response:
    """OPTIONS: answered from the bucket's CORS rules, without authentication."""
    origin = req.headers.get("origin")
    if not origin:
        raise e.BadRequest("Insufficient information. Origin request header needed.")
    method = req.headers.get("access-control-request-method")
    if not method:
        raise e.BadRequest("Invalid Access-Control-Request-Method: null")
    name = bucket
    if await svc.buckets.find(name) is None:
        raise e.NoSuchBucket(BucketName=name)
    resource = "OBJECT" if req.key is not None else "BUCKET"
    rules = await svc.buckets.config(name, cors.CORS)
    if not rules:
        raise e.AccessForbidden("CORSResponse: CORS is not enabled for this bucket.", Method=method,
                                ResourceType=resource)
    requested = cors.split_header_list(req.headers.get("access-control-request-headers"))
    match = cors.find(rules, origin, method, requested)
    if match is None:
        raise e.AccessForbidden(FORBIDDEN, Method=method, ResourceType=resource)
    return empty(200, [*_headers(match, requested), ("vary", VARY)])


async def add_cors_headers(svc: Services, req: Request, response: Response) -> None:
    """An actual request with an Origin header: the CORS headers of the first rule that admits its
    origin and method (Access-Control-Request-Method when sent, as RGW does), also on errors."""
    origin = req.headers.get("origin")
    if not origin or req.bucket is None or req.method == "OPTIONS":
        return
    rules = await svc.buckets.config(req.bucket, cors.CORS)
    if not rules:
        return
    method = req.headers.get("access-control-request-method") or req.method
    match = cors.find(rules, origin, method)
    if match is not None:
        response.headers.extend(_headers(match))
    response.headers.append(("vary", VARY))


delete_cors = config_deleter(cors.CORS)
