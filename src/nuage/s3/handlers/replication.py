"""Bucket replication: Put/Get/DeleteBucketReplication (the AWS ReplicationConfiguration XML).

Versioning must be Enabled on the source bucket and on every destination bucket (InvalidRequest as on
AWS). A destination is found in this region or, through the region registry, in another one. A
destination bucket of another account must have agreed in its bucket policy (AccessDenied otherwise;
:mod:`nuage.core.replication_consent`), asked of the region that holds it when the rule is saved; the
destination asks again on every apply."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core import replication as core
from nuage.core.replication_consent import Consent, prefix_resource, save_actions
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import check_tag, config_deleter, xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.storage.meta.records import BucketRecord
from nuage.types import VERSIONING_ENABLED, BucketName
from nuage.xml import child_text, render, root, sub

STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                   "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR")


def _status(el: ET.Element | None, where: str) -> bool:
    if el is None:
        return False
    value = child_text(el, "Status")
    if value not in (core.ENABLED, core.DISABLED):
        raise e.MalformedXML(f"{where} Status must be Enabled or Disabled.")
    return value == core.ENABLED


def _tag(el: ET.Element) -> tuple[str, str]:
    key, value = child_text(el, "Key"), child_text(el, "Value")
    if key is None or value is None:
        raise e.MalformedXML()
    check_tag(key, value)
    return key, value


def _filter(rule: ET.Element) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """(form, prefix, tags) of a rule: Filter (Prefix | Tag | And), the older Rule/Prefix, or none."""
    flt = rule.find("Filter")
    if flt is None:
        prefix = child_text(rule, "Prefix")
        return ("prefix", prefix, ()) if prefix is not None else ("none", "", ())
    if rule.find("Prefix") is not None:
        raise e.MalformedXML("A rule can have Prefix or Filter, not both.")
    if len(list(flt)) > 1:
        raise e.MalformedXML("A Filter has one of Prefix, Tag or And.")
    prefix = child_text(flt, "Prefix") or ""
    tags: list[tuple[str, str]] = []
    tag = flt.find("Tag")
    if tag is not None:
        tags.append(_tag(tag))
    both = flt.find("And")
    if both is not None:
        prefix = child_text(both, "Prefix") or ""
        tags += [_tag(t) for t in both.findall("Tag")]
    if len({k for k, _ in tags}) != len(tags):
        raise e.InvalidArgument("Duplicate Tag Keys are not allowed.")
    return "filter", prefix, tuple(tags)


def parse_config(doc: ET.Element) -> core.ReplicationConfig:
    if doc.tag != "ReplicationConfiguration":
        raise e.MalformedXML()
    rules: list[core.Rule] = []
    for number, el in enumerate(doc.findall("Rule")):
        status = child_text(el, "Status")
        dest = el.find("Destination")
        if status not in (core.ENABLED, core.DISABLED) or dest is None:
            raise e.MalformedXML()
        arn = child_text(dest, "Bucket")
        if not arn:
            raise e.MalformedXML()
        storage_class = child_text(dest, "StorageClass")
        if storage_class is not None and storage_class not in STORAGE_CLASSES:
            raise e.MalformedXML(f"Invalid storage class {storage_class}.")
        form, prefix, tags = _filter(el)
        priority_text = child_text(el, "Priority")
        try:
            priority = int(priority_text) if priority_text not in (None, "") else 0
        except ValueError as exc:
            raise e.MalformedXML() from exc
        dm = el.find("DeleteMarkerReplication")
        act = dest.find("AccessControlTranslation")
        if act is not None and child_text(act, "Owner") != "Destination":
            raise e.MalformedXML("AccessControlTranslation Owner must be Destination.")
        rules.append(core.Rule(
            id=child_text(el, "ID") or f"rule-{number + 1}", destination_arn=arn, priority=priority,
            status=status, prefix=prefix, tags=tags, storage_class=storage_class,
            # the older schema (Rule/Prefix) replicates delete markers; the Filter schema says so or not
            delete_markers=_status(dm, "DeleteMarkerReplication") if form == "filter" else True,
            existing_objects=_status(el.find("ExistingObjectReplication"), "ExistingObjectReplication"),
            filter_form=form, delete_marker_given=dm is not None, account=child_text(dest, "Account"),
            owner_override=act is not None,
        ))
    return core.ReplicationConfig(child_text(doc, "Role") or "", tuple(rules))


def render_config(config: core.ReplicationConfig) -> bytes:
    doc = root("ReplicationConfiguration")
    sub(doc, "Role", config.role)
    for rule in config.rules:
        el = sub(doc, "Rule")
        sub(el, "ID", rule.id)
        if rule.filter_form == "filter":
            sub(el, "Priority", rule.priority)
            flt = sub(el, "Filter")
            if rule.tags and (rule.prefix or len(rule.tags) > 1):
                both = sub(flt, "And")
                if rule.prefix:
                    sub(both, "Prefix", rule.prefix)
                for k, v in rule.tags:
                    tag = sub(both, "Tag")
                    sub(tag, "Key", k)
                    sub(tag, "Value", v)
            elif rule.tags:
                tag = sub(flt, "Tag")
                sub(tag, "Key", rule.tags[0][0])
                sub(tag, "Value", rule.tags[0][1])
            else:
                sub(flt, "Prefix", rule.prefix)
        elif rule.filter_form == "prefix":
            sub(el, "Prefix", rule.prefix)
        sub(el, "Status", rule.status)
        if rule.existing_objects:
            sub(sub(el, "ExistingObjectReplication"), "Status", core.ENABLED)
        dest = sub(el, "Destination")
        sub(dest, "Bucket", rule.destination_arn)
        if rule.account:
            sub(dest, "Account", rule.account)
        if rule.storage_class:
            sub(dest, "StorageClass", rule.storage_class)
        if rule.owner_override:
            sub(sub(dest, "AccessControlTranslation"), "Owner", "Destination")
        if rule.filter_form == "filter":
            sub(sub(el, "DeleteMarkerReplication"), "Status", core.ENABLED if rule.delete_markers else core.DISABLED)
    return render(doc)


async def _check_destinations(svc: Services, config: core.ReplicationConfig) -> dict[str, core.BucketPlace | None]:
    """Each destination bucket exists and is versioned; returns where each is (None: here)."""
    places: dict[str, core.BucketPlace | None] = {}
    for dest in sorted({r.destination_bucket for r in config.rules}):
        local = await svc.buckets.find(BucketName(dest))
        place = None
        if local is not None:
            versioning = local.versioning
        else:
            place = await svc.locator.remote(BucketName(dest)) if svc.locator is not None else None
            if place is None:
                raise e.InvalidRequest("Destination bucket must exist.")
            versioning = place.versioning
        if versioning != VERSIONING_ENABLED:
            raise e.InvalidRequest("Destination bucket must have versioning enabled.")
        places[dest] = place
    return places


#: refusals of another region, as the S3 error the caller gets
_REFUSALS: dict[str, type[e.S3Error]] = {"AccessDenied": e.AccessDenied, "InvalidRequest": e.InvalidRequest}


async def _check_consent(svc: Services, source_bucket: BucketRecord, config: core.ReplicationConfig,
                         places: dict[str, core.BucketPlace | None]) -> None:
    """Every rule into another account's bucket has that owner's grant (the destination's own answer)."""
    consent = Consent(svc.objects.meta)
    for rule in config.rules:
        actions = save_actions(delete_markers=rule.delete_markers, tag_filter=bool(rule.tags),
                               override=rule.owner_override)
        resource = prefix_resource(rule.destination_bucket, rule.prefix)
        place = places[rule.destination_bucket]
        source = await consent.source(source_bucket, same_region=place is None, role=config.role,
                                      override=rule.owner_override, account=rule.account)
        if place is None:
            await consent.require(await svc.buckets.get(BucketName(rule.destination_bucket)), source, actions, resource)
            continue
        assert svc.locator is not None
        refusal = await svc.locator.consent(place, source, actions, resource)
        if refusal is not None:
            code, message = refusal
            if code == "NoSuchBucket":
                raise e.InvalidRequest("Destination bucket must exist.")
            raise _REFUSALS.get(code, e.ServiceUnavailable)(message)


async def put_bucket_replication(svc: Services, req: Request, bucket: BucketName) -> Response:
    doc = await xml_body(req)
    assert doc is not None
    config = parse_config(doc)
    b = await svc.buckets.get(bucket)
    if b.versioning != VERSIONING_ENABLED:
        raise e.InvalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    config.validate()
    if svc.locator is None:
        raise e.InvalidRequest("Replication needs a region registry: start the server with --regions.")
    await _check_consent(svc, b, config, await _check_destinations(svc, config))
    meta = svc.objects.meta
    await core.put_config(meta, svc.objects, bucket, config)
    return empty(200)


async def get_bucket_replication(svc: Services, req: Request, bucket: BucketName) -> Response:
    config = await core.get_config(svc.objects.meta, svc.objects, bucket)
    return xml_response(render_config(config))


delete_bucket_replication = config_deleter(core.REPLICATION)
