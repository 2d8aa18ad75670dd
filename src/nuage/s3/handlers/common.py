"""Helpers shared by the handler modules: integrity, XML bodies, tag sets, small parsers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl

from nuage.core.bucket_config import ConfigKind
from nuage.core.conditions import ReadConditions
from nuage.core.ingest import Integrity, valid_md5_header
from nuage.s3 import errors as e
from nuage.s3.context import BucketHandler, Services
from nuage.s3.headers import parse_http_date, requested_checksums
from nuage.s3.http import Request, Response, empty
from nuage.storage.meta.records import WriteCondition
from nuage.types import BucketName, VersionId
from nuage.xml import child_text, parse, root, sub

MAX_XML_BODY = 1024 * 1024
MAX_TAGS_OBJECT = 10
MAX_TAGS_BUCKET = 50


def integrity(req: Request) -> Integrity:
    md5 = req.headers.get("content-md5")
    if md5 is not None and not valid_md5_header(md5):
        raise e.InvalidDigest()
    algorithms, expected, trailer_alg = requested_checksums(req.headers)
    trailers = req.trailers
    length: int | None = None
    decoded = req.headers.get("x-amz-decoded-content-length")
    if decoded is not None and decoded.isdigit():
        length = int(decoded)
    elif trailers is None and "content-length" in req.headers:
        cl = req.headers["content-length"]
        if not cl.isdigit():
            raise e.BadRequest("Content-Length is not a number")
        length = int(cl)

    def late() -> dict[str, str]:
        if trailers is None or trailer_alg is None:
            return {}
        value = trailers.values.get(f"x-amz-checksum-{trailer_alg}")
        if value is None:
            raise e.MalformedTrailerError()
        return {trailer_alg: value}

    return Integrity(content_md5=md5, sha256_hex=req.sha256, length=length, algorithms=algorithms,
                     expected=expected, late_expected=late if trailer_alg else None)


def check_declared_size(req: Request, limit: int) -> None:
    """Refuse from the headers alone a body larger than ``limit`` (before reading any of it)."""
    for name in ("x-amz-decoded-content-length", "content-length"):
        value = req.headers.get(name)
        if value is not None and value.isdigit() and int(value) > limit:
            raise e.EntityTooLarge(MaxSizeAllowed=str(limit), ProposedSize=value)


def declared_length(req: Request) -> int | None:
    cl = req.headers.get("content-length")
    return int(cl) if cl is not None and cl.isdigit() else None


async def xml_body(req: Request, *, required: bool = True) -> ET.Element | None:
    try:
        data = await req.read_body(MAX_XML_BODY)
    except ValueError as exc:
        raise e.MalformedXML() from exc
    md5 = req.headers.get("content-md5")
    if md5 is not None:
        import base64
        import hashlib
        if not valid_md5_header(md5):
            raise e.InvalidDigest()
        if base64.b64encode(hashlib.md5(data).digest()).decode() != md5:
            raise e.BadDigest()
    if not data.strip():
        if required:
            raise e.MalformedXML()
        return None
    return parse(data)


def version_id(req: Request) -> VersionId | None:
    v = req.query.get("versionId")
    if v is None:
        return None
    if v == "":
        raise e.InvalidArgument("Version id cannot be the empty string", ArgumentName="versionId",
                                ArgumentValue="")
    return VersionId(v)


def read_conditions(req: Request, prefix: str = "") -> ReadConditions | None:
    h = req.headers
    names = [f"{prefix}if-match", f"{prefix}if-none-match", f"{prefix}if-modified-since",
             f"{prefix}if-unmodified-since"]
    if not any(n in h for n in names):
        return None
    return ReadConditions(
        if_match=h.get(names[0]), if_none_match=h.get(names[1]),
        if_modified_since=parse_http_date(h.get(names[2])), if_unmodified_since=parse_http_date(h.get(names[3])),
    )


def write_condition(req: Request) -> WriteCondition | None:
    inm = req.headers.get("if-none-match")
    im = req.headers.get("if-match")
    if inm is None and im is None:
        return None
    return WriteCondition(if_none_match=inm, if_match=im)


def int_param(req: Request, name: str, default: int, *, lo: int = 0, hi: int | None = None) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise e.InvalidArgument(f"Provided {name} not an integer or within integer range",
                                ArgumentName=name, ArgumentValue=raw) from exc
    if value < lo:
        raise e.InvalidArgument(f"Argument {name} must be an integer between {lo} and 2147483647",
                                ArgumentName=name, ArgumentValue=raw)
    return min(value, hi) if hi is not None else value


# -- tag sets --------------------------------------------------------------------------------------
def check_tag(key: str, value: str) -> None:
    if not key or len(key) > 128:
        raise e.InvalidTag("The TagKey you have provided is too long, max 128" if key else
                           "The TagKey you have provided is invalid")
    if len(value) > 256:
        raise e.InvalidTag("The TagValue you have provided is too long, max 256")
    if key.startswith("aws:"):
        raise e.InvalidTag("System tags cannot be added/updated by requester")


def parse_tagging(el: ET.Element, limit: int) -> dict[str, str]:
    tagset = el.find("TagSet")
    if el.tag != "Tagging" or tagset is None:
        raise e.MalformedXML()
    tags: dict[str, str] = {}
    for tag in tagset.findall("Tag"):
        key, value = child_text(tag, "Key"), child_text(tag, "Value")
        if key is None or value is None:
            raise e.MalformedXML()
        check_tag(key, value)
        if key in tags:
            raise e.InvalidTag("Cannot provide multiple Tags with the same key")
        tags[key] = value
    if len(tags) > limit:
        raise e.InvalidTag("Object tags cannot be greater than 10") if limit == MAX_TAGS_OBJECT else \
            e.InvalidTag("Bucket tag count cannot be greater than 50")
    return tags


def parse_tagging_header(value: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for k, v in parse_qsl(value, keep_blank_values=True):
        check_tag(k, v)
        if k in tags:
            raise e.InvalidTag("Cannot provide multiple Tags with the same key")
        tags[k] = v
    if len(tags) > MAX_TAGS_OBJECT:
        raise e.BadRequest("Object tags cannot be greater than 10")
    return tags


def render_tagging(tags: dict[str, str]) -> ET.Element:
    el = root("Tagging")
    ts = sub(el, "TagSet")
    for k, v in sorted(tags.items()):
        t = sub(ts, "Tag")
        sub(t, "Key", k)
        sub(t, "Value", v)
    return el


def owner_el(parent: ET.Element, owner_id: str, name: str, tag: str = "Owner") -> ET.Element:
    o = sub(parent, tag)
    sub(o, "ID", owner_id)
    sub(o, "DisplayName", name)
    return o


def config_deleter(kind: ConfigKind[Any]) -> BucketHandler:
    """The Delete handler of a bucket configuration: 204 whether or not it was set (NoSuchBucket when
    the bucket is missing)."""
    async def delete(svc: Services, req: Request, bucket: BucketName) -> Response:
        await svc.buckets.set_config(bucket, kind, None)
        return empty(204)
    return delete
