"""Object Lock: Get/PutObjectLockConfiguration, Get/PutObjectRetention, Get/PutObjectLegalHold."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

from nuage import checksums
from nuage.core.ingest import valid_md5_header
from nuage.core.lock import LockService
from nuage.core.lock_rules import (
    DefaultRetention,
    Retention,
    check_mode,
    default_retention,
    format_until,
    parse_until,
)
from nuage.core.policy import BYPASS_GOVERNANCE
from nuage.s3 import errors as e
from nuage.s3.access import allowed_on_objects
from nuage.s3.context import Services
from nuage.s3.handlers.common import MAX_XML_BODY, version_id
from nuage.s3.headers import requested_checksums
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName, ObjectKey
from nuage.xml import child_text, parse, render, root, sub

BYPASS_HEADER = "x-amz-bypass-governance-retention"


def _service(svc: Services) -> LockService:
    return LockService(svc.buckets, svc.objects)


def asks_bypass(req: Request) -> bool:
    """Whether the request carries ``x-amz-bypass-governance-retention: true``."""
    return req.headers.get(BYPASS_HEADER, "").strip().lower() == "true"


async def bypass_governance(svc: Services, req: Request) -> bool:
    """Whether the request asks to bypass GOVERNANCE retention of the addressed object and may: the
    header alone is not enough, the caller needs s3:BypassGovernanceRetention on the object (the account's
    root user has it unless a bucket policy denies it). Without it the header counts as absent, so the lock
    refuses the change as it would without the header."""
    if not asks_bypass(req) or req.bucket is None or req.key is None:
        return False
    (allowed,) = await allowed_on_objects(svc, req, [(BYPASS_GOVERNANCE, req.key, version_id(req))])
    return allowed


def _require_integrity(req: Request) -> None:
    h = req.headers
    if "content-md5" in h or "x-amz-sdk-checksum-algorithm" in h or "x-amz-trailer" in h or any(
            n.startswith("x-amz-checksum-") for n in h):
        return
    raise e.InvalidRequest("Missing required header for this request: Content-MD5")


async def _document(req: Request, name: str) -> ET.Element:
    """The request's XML document named ``name``, after its Content-MD5 or checksum was verified."""
    _require_integrity(req)
    md5 = req.headers.get("content-md5")
    if md5 is not None and not valid_md5_header(md5):
        raise e.InvalidDigest()
    _, expected, trailer_alg = requested_checksums(req.headers)
    try:
        data = await req.read_body(MAX_XML_BODY)
    except ValueError as exc:
        raise e.MalformedXML() from exc
    if md5 is not None and base64.b64encode(hashlib.md5(data).digest()).decode() != md5:
        raise e.BadDigest()
    trailers = req.trailers
    if trailer_alg is not None and trailers is not None:
        value = trailers.values.get(f"x-amz-checksum-{trailer_alg}")
        if value is None:
            raise e.MalformedTrailerError()
        expected[trailer_alg] = value
    for alg, value in expected.items():
        if checksums.checksum_of(alg, data) != value:
            raise e.BadDigest(f"The {alg.upper()} you specified did not match the calculated checksum.")
    el = parse(data)
    if el.tag != name:
        raise e.MalformedXML()
    return el


def _period(el: ET.Element, name: str) -> int | None:
    text = child_text(el, name)
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError as exc:
        raise e.MalformedXML() from exc


# -- bucket configuration ----------------------------------------------------------------------------
async def get_configuration(svc: Services, req: Request, bucket: BucketName) -> Response:
    rule = await _service(svc).get_config(bucket)
    doc = root("ObjectLockConfiguration")
    sub(doc, "ObjectLockEnabled", "Enabled")
    if rule is not None:
        dr = sub(sub(doc, "Rule"), "DefaultRetention")
        sub(dr, "Mode", rule.mode)
        if rule.days is not None:
            sub(dr, "Days", rule.days)
        if rule.years is not None:
            sub(dr, "Years", rule.years)
    return xml_response(render(doc))


async def put_configuration(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    el = await _document(req, "ObjectLockConfiguration")
    if child_text(el, "ObjectLockEnabled") != "Enabled":
        raise e.MalformedXML()
    rule: DefaultRetention | None = None
    rule_el = el.find("Rule")
    if rule_el is not None:
        dr = rule_el.find("DefaultRetention")
        if dr is None:
            raise e.MalformedXML()
        mode = child_text(dr, "Mode")
        if mode is None:
            raise e.MalformedXML()
        rule = default_retention(mode, _period(dr, "Days"), _period(dr, "Years"))
    await _service(svc).put_config(bucket, rule)
    return empty(200)


# -- retention ---------------------------------------------------------------------------------------
async def get_retention(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    _, retention = await _service(svc).get_retention(bucket, key, version_id(req))
    if retention is None:
        raise e.NoSuchObjectLockConfiguration()
    doc = root("Retention")
    sub(doc, "Mode", retention.mode)
    sub(doc, "RetainUntilDate", format_until(retention.until))
    return xml_response(render(doc))


async def put_retention(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    version = version_id(req)
    lock = _service(svc)
    await lock.get_retention(bucket, key, version)   # bucket, Object Lock and version checks first
    el = await _document(req, "Retention")
    mode, until = child_text(el, "Mode"), child_text(el, "RetainUntilDate")
    retention: Retention | None = None
    if mode is not None or until is not None:
        if mode is None or until is None:
            raise e.MalformedXML()
        ts = parse_until(until)
        if ts is None:
            raise e.MalformedXML()
        retention = Retention(check_mode(mode), ts)
    await lock.put_retention(bucket, key, version, retention, await bypass_governance(svc, req))
    return empty(200)


# -- legal hold --------------------------------------------------------------------------------------
async def get_legal_hold(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    _, status = await _service(svc).get_legal_hold(bucket, key, version_id(req))
    if status is None:
        raise e.NoSuchObjectLockConfiguration()
    doc = root("LegalHold")
    sub(doc, "Status", status)
    return xml_response(render(doc))


async def put_legal_hold(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    version = version_id(req)
    lock = _service(svc)
    await lock.get_legal_hold(bucket, key, version)
    el = await _document(req, "LegalHold")
    status = child_text(el, "Status")
    if status is None:
        raise e.MalformedXML()
    await lock.put_legal_hold(bucket, key, version, status)
    return empty(200)
