"""Bucket website configuration: Put/Get/DeleteBucketWebsite, validated and stored (serving the
site from a website endpoint is a later step)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from nuage.core.bucket_config import WEBSITE
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import render, root, sub

MAX_ROUTING_RULES = 50
_CONDITION = ("KeyPrefixEquals", "HttpErrorCodeReturnedEquals")
_REDIRECT = ("Protocol", "HostName", "ReplaceKeyPrefixWith", "ReplaceKeyWith", "HttpRedirectCode")



def _fields(el: ET.Element, allowed: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for child in el:
        if child.tag not in allowed or child.tag in out:
            raise e.MalformedXML()
        out[child.tag] = child.text or ""
    return out


def _protocol(value: str | None) -> None:
    if value is not None and value not in ("http", "https"):
        raise e.InvalidRequest("Invalid protocol, protocol can be http or https. If not defined the protocol will "
                               "be selected automatically.")


def _code(value: str | None, low: int, high: int, what: str) -> None:
    if value is not None and not (value.isdigit() and low <= int(value) <= high):
        raise e.InvalidRequest(f"The provided {what} is not valid: {value}")


def _routing_rule(el: ET.Element) -> dict[str, dict[str, str]]:
    if el.tag != "RoutingRule":
        raise e.MalformedXML()
    rule: dict[str, dict[str, str]] = {}
    for child in el:
        if child.tag in rule:
            raise e.MalformedXML()
        if child.tag == "Condition":
            cond = _fields(child, _CONDITION)
            if not cond:
                raise e.InvalidRequest("Condition cannot be empty. To redirect all requests without a condition, "
                                       "the condition element shouldn't be present.")
            _code(cond.get("HttpErrorCodeReturnedEquals"), 400, 599, "HttpErrorCodeReturnedEquals")
            rule["Condition"] = cond
        elif child.tag == "Redirect":
            redirect = _fields(child, _REDIRECT)
            if not redirect:
                raise e.InvalidRequest("Redirect cannot be empty.")
            if "ReplaceKeyPrefixWith" in redirect and "ReplaceKeyWith" in redirect:
                raise e.InvalidRequest("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
            _protocol(redirect.get("Protocol"))
            _code(redirect.get("HttpRedirectCode"), 300, 399, "HttpRedirectCode")
            rule["Redirect"] = redirect
        else:
            raise e.MalformedXML()
    if "Redirect" not in rule:
        raise e.MalformedXML()
    return rule


def parse_configuration(doc: ET.Element) -> dict[str, Any]:
    if doc.tag != "WebsiteConfiguration":
        raise e.MalformedXML()
    config: dict[str, Any] = {}
    for child in doc:
        if child.tag in config:
            raise e.MalformedXML()
        if child.tag == "IndexDocument":
            config["IndexDocument"] = _fields(child, ("Suffix",))
        elif child.tag == "ErrorDocument":
            config["ErrorDocument"] = _fields(child, ("Key",))
        elif child.tag == "RedirectAllRequestsTo":
            config["RedirectAllRequestsTo"] = _fields(child, ("HostName", "Protocol"))
        elif child.tag == "RoutingRules":
            config["RoutingRules"] = [_routing_rule(r) for r in child]
        else:
            raise e.MalformedXML()
    redirect_all = config.get("RedirectAllRequestsTo")
    if redirect_all is not None:
        if len(config) > 1:
            raise e.InvalidRequest("RedirectAllRequestsTo cannot be provided in conjunction with other Routing "
                                   "Rules.")
        if not redirect_all.get("HostName"):
            raise e.InvalidRequest("RedirectAllRequestsTo must have a HostName.")
        _protocol(redirect_all.get("Protocol"))
        return config
    suffix = config.get("IndexDocument", {}).get("Suffix")
    if suffix is None:
        raise e.InvalidArgument("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is "
                                "empty", ArgumentName="IndexDocument")
    if not suffix or "/" in suffix:
        raise e.InvalidArgument("The IndexDocument Suffix is not well formed", ArgumentName="IndexDocument")
    if "ErrorDocument" in config and not config["ErrorDocument"].get("Key"):
        raise e.InvalidArgument("The ErrorDocument Key is not well formed", ArgumentName="ErrorDocument")
    if len(config.get("RoutingRules", [])) > MAX_ROUTING_RULES:
        raise e.InvalidRequest(f"The number of routing rules must not exceed {MAX_ROUTING_RULES}.")
    return config


def render_configuration(config: dict[str, Any]) -> bytes:
    doc = root("WebsiteConfiguration")
    for tag in ("RedirectAllRequestsTo", "IndexDocument", "ErrorDocument"):
        if tag in config:
            el = sub(doc, tag)
            for name, value in config[tag].items():
                sub(el, name, value)
    if "RoutingRules" in config:
        rules = sub(doc, "RoutingRules")
        for rule in config["RoutingRules"]:
            el = sub(rules, "RoutingRule")
            for part in ("Condition", "Redirect"):
                if part in rule:
                    p = sub(el, part)
                    for name, value in rule[part].items():
                        sub(p, name, value)
    return render(doc)


async def put_website(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    doc = await xml_body(req)
    assert doc is not None
    await svc.buckets.set_config(bucket, WEBSITE, parse_configuration(doc))
    return empty(200)


async def get_website(svc: Services, req: Request, bucket: BucketName) -> Response:
    return xml_response(render_configuration(await svc.buckets.require(bucket, WEBSITE)))


delete_website = config_deleter(WEBSITE)
