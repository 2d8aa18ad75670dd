"""Bucket lifecycle: Put/Get/DeleteBucketLifecycleConfiguration, and the x-amz-expiration header of
objects that an expiration rule covers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core import lifecycle as lc
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import config_deleter, xml_body
from nuage.s3.headers import http_date
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName, VersionId
from nuage.xml import render, root, sub

# Operations whose successful answer names the object's expiration (x-amz-expiration).



# -- parsing ---------------------------------------------------------------------------------------
def _int(el: ET.Element) -> int:
    text = (el.text or "").strip()
    if not text or not text.lstrip("-").isdigit():
        raise e.MalformedXML()
    return int(text)


def _only(el: ET.Element, allowed: tuple[str, ...]) -> dict[str, ET.Element]:
    """The children of ``el`` by tag; unknown or repeated tags are MalformedXML."""
    out: dict[str, ET.Element] = {}
    for child in el:
        if child.tag not in allowed or child.tag in out:
            raise e.MalformedXML()
        out[child.tag] = child
    return out


def _tag(el: ET.Element) -> tuple[str, str]:
    parts = _only(el, ("Key", "Value"))
    if "Key" not in parts:
        raise e.MalformedXML()
    value = parts.get("Value")
    return parts["Key"].text or "", (value.text or "") if value is not None else ""


def _predicates(f: lc.Filter, parts: list[ET.Element]) -> lc.Filter:
    seen: set[str] = set()
    for part in parts:
        if part.tag == "Tag":
            f.tags.append(_tag(part))
            continue
        if part.tag in seen:
            raise e.MalformedXML()
        seen.add(part.tag)
        if part.tag == "Prefix":
            f.prefix = part.text or ""
        elif part.tag == "ObjectSizeGreaterThan":
            f.size_gt = _int(part)
        elif part.tag == "ObjectSizeLessThan":
            f.size_lt = _int(part)
        else:
            raise e.MalformedXML()
    return f


def _filter(el: ET.Element) -> lc.Filter:
    children = list(el)
    if not children:
        return lc.Filter(form="none")
    if len(children) > 1:
        # Several predicates without <And> (RGW accepts this form, and clients send it): all must hold.
        return _predicates(lc.Filter(form="multi"), children)
    child = children[0]
    if child.tag == "Prefix":
        return lc.Filter(form="prefix", prefix=child.text or "")
    if child.tag == "Tag":
        return lc.Filter(form="tag", tags=[_tag(child)])
    if child.tag == "ObjectSizeGreaterThan":
        return lc.Filter(form="gt", size_gt=_int(child))
    if child.tag == "ObjectSizeLessThan":
        return lc.Filter(form="lt", size_lt=_int(child))
    if child.tag != "And":
        raise e.MalformedXML()
    return _predicates(lc.Filter(form="and"), list(child))


def _expiration(rule: lc.Rule, el: ET.Element) -> None:
    parts = _only(el, ("Days", "Date", "ExpiredObjectDeleteMarker"))
    if not parts:
        raise e.MalformedXML()
    if "Days" in parts:
        rule.expiration_days = _int(parts["Days"])
    if "Date" in parts:
        rule.expiration_date = lc.parse_date(parts["Date"].text or "")
    if "ExpiredObjectDeleteMarker" in parts:
        flag = (parts["ExpiredObjectDeleteMarker"].text or "").strip().lower()
        if flag not in ("true", "false"):
            raise e.MalformedXML()
        rule.expired_object_delete_marker = flag == "true"


def _rule(el: ET.Element) -> lc.Rule:
    rule = lc.Rule(id="", status="", filter=lc.Filter())
    has_filter = has_prefix = False
    seen: set[str] = set()
    for child in el:
        if child.tag not in ("Transition", "NoncurrentVersionTransition"):
            if child.tag in seen:
                raise e.MalformedXML()
            seen.add(child.tag)
        if child.tag == "ID":
            rule.id = child.text or ""
        elif child.tag == "Status":
            rule.status = (child.text or "").strip()
        elif child.tag == "Prefix":
            has_prefix = True
            rule.filter = lc.Filter(form="legacy", prefix=child.text or "")
        elif child.tag == "Filter":
            has_filter = True
            rule.filter = _filter(child)
        elif child.tag == "Expiration":
            _expiration(rule, child)
        elif child.tag == "NoncurrentVersionExpiration":
            parts = _only(child, ("NoncurrentDays", "NewerNoncurrentVersions"))
            if "NoncurrentDays" not in parts:
                raise e.MalformedXML()
            rule.noncurrent_days = _int(parts["NoncurrentDays"])
            if "NewerNoncurrentVersions" in parts:
                rule.newer_noncurrent_versions = _int(parts["NewerNoncurrentVersions"])
        elif child.tag == "AbortIncompleteMultipartUpload":
            parts = _only(child, ("DaysAfterInitiation",))
            if "DaysAfterInitiation" not in parts:
                raise e.MalformedXML()
            rule.abort_days = _int(parts["DaysAfterInitiation"])
        elif child.tag == "Transition":
            parts = _only(child, ("Days", "Date", "StorageClass"))
            rule.transitions.append(lc.Transition(
                days=_int(parts["Days"]) if "Days" in parts else None,
                date=lc.parse_date(parts["Date"].text or "") if "Date" in parts else None,
                storage_class=(parts["StorageClass"].text or "").strip() if "StorageClass" in parts else ""))
        elif child.tag == "NoncurrentVersionTransition":
            parts = _only(child, ("NoncurrentDays", "StorageClass", "NewerNoncurrentVersions"))
            if "NoncurrentDays" not in parts:
                raise e.MalformedXML()
            rule.noncurrent_transitions.append(lc.NoncurrentTransition(
                days=_int(parts["NoncurrentDays"]),
                storage_class=(parts["StorageClass"].text or "").strip() if "StorageClass" in parts else "",
                newer_versions=_int(parts["NewerNoncurrentVersions"]) if "NewerNoncurrentVersions" in parts
                else None))
        else:
            raise e.MalformedXML()
    if has_filter == has_prefix or not rule.status:
        raise e.MalformedXML()
    return rule


def parse_configuration(doc: ET.Element) -> list[lc.Rule]:
    if doc.tag != "LifecycleConfiguration":
        raise e.MalformedXML()
    rules = []
    for el in doc:
        if el.tag != "Rule":
            raise e.MalformedXML()
        rules.append(_rule(el))
    return lc.validate(rules)


# -- rendering -------------------------------------------------------------------------------------
def _render_tag(parent: ET.Element, key: str, value: str) -> None:
    el = sub(parent, "Tag")
    sub(el, "Key", key)
    sub(el, "Value", value)


def _render_filter(parent: ET.Element, f: lc.Filter) -> None:
    if f.form == "legacy":
        sub(parent, "Prefix", f.prefix)
        return
    el = sub(parent, "Filter")
    if f.form == "prefix":
        sub(el, "Prefix", f.prefix)
    elif f.form == "tag":
        _render_tag(el, *f.tags[0])
    elif f.form == "gt":
        sub(el, "ObjectSizeGreaterThan", f.size_gt)
    elif f.form == "lt":
        sub(el, "ObjectSizeLessThan", f.size_lt)
    elif f.form in ("and", "multi"):
        both = sub(el, "And") if f.form == "and" else el
        if f.prefix or f.form == "multi":
            sub(both, "Prefix", f.prefix)
        for key, value in f.tags:
            _render_tag(both, key, value)
        if f.size_gt is not None:
            sub(both, "ObjectSizeGreaterThan", f.size_gt)
        if f.size_lt is not None:
            sub(both, "ObjectSizeLessThan", f.size_lt)


def render_configuration(rules: list[lc.Rule]) -> bytes:
    doc = root("LifecycleConfiguration")
    for rule in rules:
        el = sub(doc, "Rule")
        sub(el, "ID", rule.id)
        _render_filter(el, rule.filter)
        sub(el, "Status", rule.status)
        for t in rule.transitions:
            tr = sub(el, "Transition")
            if t.days is not None:
                sub(tr, "Days", t.days)
            if t.date is not None:
                sub(tr, "Date", t.date)
            sub(tr, "StorageClass", t.storage_class)
        if rule.expiration_days is not None or rule.expiration_date is not None or \
                rule.expired_object_delete_marker is not None:
            ex = sub(el, "Expiration")
            if rule.expiration_days is not None:
                sub(ex, "Days", rule.expiration_days)
            if rule.expiration_date is not None:
                sub(ex, "Date", rule.expiration_date)
            if rule.expired_object_delete_marker is not None:
                sub(ex, "ExpiredObjectDeleteMarker", "true" if rule.expired_object_delete_marker else "false")
        for nt in rule.noncurrent_transitions:
            tr = sub(el, "NoncurrentVersionTransition")
            sub(tr, "NoncurrentDays", nt.days)
            sub(tr, "StorageClass", nt.storage_class)
            if nt.newer_versions is not None:
                sub(tr, "NewerNoncurrentVersions", nt.newer_versions)
        if rule.noncurrent_days is not None:
            ne = sub(el, "NoncurrentVersionExpiration")
            sub(ne, "NoncurrentDays", rule.noncurrent_days)
            if rule.newer_noncurrent_versions is not None:
                sub(ne, "NewerNoncurrentVersions", rule.newer_noncurrent_versions)
        if rule.abort_days is not None:
            sub(sub(el, "AbortIncompleteMultipartUpload"), "DaysAfterInitiation", rule.abort_days)
    return render(doc)


# -- handlers --------------------------------------------------------------------------------------
async def put_lifecycle(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    doc = await xml_body(req)
    assert doc is not None
    await svc.buckets.set_config(bucket, lc.LIFECYCLE, parse_configuration(doc))
    return empty(200, [("x-amz-transition-default-minimum-object-size", "all_storage_classes_128K")])


async def get_lifecycle(svc: Services, req: Request, bucket: BucketName) -> Response:
    rules = await svc.buckets.require(bucket, lc.LIFECYCLE)
    return xml_response(render_configuration(rules))



async def add_expiration_header(svc: Services, req: Request, response: Response) -> None:
    """x-amz-expiration on a successful object read or write that an expiration rule covers."""
    op = req.operation
    if req.bucket is None or req.key is None or response.status != 200 or op is None or not op.expiration_header:
        return
    rules = await svc.buckets.config(req.bucket, lc.LIFECYCLE)
    if not rules or not lc.has_current_expiration(rules):
        return
    version = None
    for name, value in response.headers:
        if name == "x-amz-version-id":
            version = value
    if op.method in ("GET", "HEAD"):   # a read answers for the version it read
        version = req.query.get("versionId") or version
    rec = await svc.objects.find(req.bucket, req.key, VersionId(version) if version is not None else None)
    if rec is None or rec.delete_marker or not rec.is_latest:
        return
    found = lc.expiration_of(rules, rec, lc.DAY)   # real days, also when a debug day drives the worker
    if found is not None:
        when, rule_id = found
        response.headers.append(("x-amz-expiration", f'expiry-date="{http_date(when)}", rule-id="{rule_id}"'))


delete_lifecycle = config_deleter(lc.LIFECYCLE)
