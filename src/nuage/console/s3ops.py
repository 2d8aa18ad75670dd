"""The S3 calls the console makes, with their XML answers read into small values."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from nuage import xml
from nuage.console.context import Ctx
from nuage.console.gateway import S3Failure


@dataclass
class Bucket:
    name: str
    created: str
    region: str = ""
    versioning: str = "Off"
    replication: str = "Off"
    objects: int = 0
    bytes: int = 0
    may_delete: bool = False
    may_version: bool = False


@dataclass
class Entry:
    key: str
    size: int
    modified: str
    etag: str
    storage_class: str = "STANDARD"


@dataclass
class Listing:
    folders: list[str] = field(default_factory=list)
    objects: list[Entry] = field(default_factory=list)
    next_token: str | None = None


@dataclass
class Version:
    key: str
    version_id: str
    size: int
    modified: str
    latest: bool
    delete_marker: bool


def _text(el: ET.Element, name: str) -> str:
    return xml.child_text(el, name) or ""


async def list_buckets(ctx: Ctx) -> list[Bucket]:
    doc = (await ctx.must("GET")).document()
    out = []
    for b in doc.iter("Bucket"):
        out.append(Bucket(_text(b, "Name"), _text(b, "CreationDate"), _text(b, "BucketRegion")))
    return out


async def bucket_region(ctx: Ctx, bucket: str) -> str:
    reply = await ctx.s3("GET", bucket, query=[("location", "")])
    if not reply.ok:
        return ""
    return (reply.document().text or "").strip() or "us-east-1"


async def bucket_versioning(ctx: Ctx, bucket: str) -> str:
    reply = await ctx.s3("GET", bucket, query=[("versioning", "")])
    if not reply.ok:
        return "?"
    return xml.child_text(reply.document(), "Status") or "Off"


async def bucket_replication(ctx: Ctx, bucket: str) -> str:
    """"Off", or the destinations of the enabled replication rules."""
    reply = await ctx.s3("GET", bucket, query=[("replication", "")])
    if not reply.ok:
        return "Off" if reply.status == 404 else "?"
    targets = []
    for rule in reply.document().iter("Rule"):
        dest = rule.find("Destination")
        if xml.child_text(rule, "Status") == "Enabled" and dest is not None:
            targets.append((xml.child_text(dest, "Bucket") or "").removeprefix("arn:aws:s3:::"))
    return "To " + ", ".join(sorted(set(targets))) if targets else "Off"


async def list_objects(ctx: Ctx, bucket: str, prefix: str, token: str | None, max_keys: int) -> Listing:
    query = [("list-type", "2"), ("delimiter", "/"), ("prefix", prefix), ("max-keys", str(max_keys))]
    if token:
        query.append(("continuation-token", token))
    doc = (await ctx.must("GET", bucket, query=query)).document()
    out = Listing()
    for p in doc.iter("CommonPrefixes"):
        out.folders.append(_text(p, "Prefix"))
    for c in doc.iter("Contents"):
        out.objects.append(Entry(_text(c, "Key"), int(_text(c, "Size") or 0), _text(c, "LastModified"),
                                 _text(c, "ETag").strip('"'), _text(c, "StorageClass") or "STANDARD"))
    if (xml.child_text(doc, "IsTruncated") or "") == "true":
        out.next_token = xml.child_text(doc, "NextContinuationToken")
    return out


@dataclass
class VersionListing:
    folders: list[str] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)
    next_key: str | None = None
    next_version: str | None = None


async def list_version_page(ctx: Ctx, bucket: str, prefix: str, key_marker: str | None, version_marker: str | None,
                            max_keys: int) -> VersionListing:
    """One page of ListObjectVersions under ``prefix`` (folders as common prefixes), delete markers included."""
    query = [("versions", ""), ("delimiter", "/"), ("prefix", prefix), ("max-keys", str(max_keys))]
    if key_marker:
        query.append(("key-marker", key_marker))
        if version_marker:
            query.append(("version-id-marker", version_marker))
    doc = (await ctx.must("GET", bucket, query=query)).document()
    out = VersionListing()
    for el in doc:
        if el.tag == "CommonPrefixes":
            out.folders.append(_text(el, "Prefix"))
        elif el.tag in ("Version", "DeleteMarker"):
            out.versions.append(Version(_text(el, "Key"), _text(el, "VersionId"), int(_text(el, "Size") or 0),
                                        _text(el, "LastModified"), _text(el, "IsLatest") == "true",
                                        el.tag == "DeleteMarker"))
    if (xml.child_text(doc, "IsTruncated") or "") == "true":
        out.next_key = xml.child_text(doc, "NextKeyMarker")
        out.next_version = xml.child_text(doc, "NextVersionIdMarker")
    return out


async def list_versions(ctx: Ctx, bucket: str, key: str) -> list[Version]:
    reply = await ctx.s3("GET", bucket, query=[("versions", ""), ("prefix", key), ("max-keys", "100")])
    if not reply.ok:
        return []
    out = []
    for el in reply.document():
        if el.tag not in ("Version", "DeleteMarker") or _text(el, "Key") != key:
            continue
        out.append(Version(key, _text(el, "VersionId"), int(_text(el, "Size") or 0), _text(el, "LastModified"),
                           _text(el, "IsLatest") == "true", el.tag == "DeleteMarker"))
    return out


async def object_tags(ctx: Ctx, bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    query = [("tagging", "")] + ([("versionId", version_id)] if version_id else [])
    reply = await ctx.s3("GET", bucket, key, query=query)
    if not reply.ok:
        return {}
    return {_text(t, "Key"): _text(t, "Value") for t in reply.document().iter("Tag")}


DELETE_BATCH = 1000          # S3 DeleteObjects takes at most 1000 keys a request


@dataclass
class BulkDeletion:
    deleted: list[str] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)     # (key, code, message)


async def delete_objects(ctx: Ctx, bucket: str, keys: list[str]) -> BulkDeletion:
    """S3 DeleteObjects for ``keys``, a request per batch of 1000: S3 authorizes each key as it would a
    DeleteObject of that key alone, and answers which were deleted and which were refused, and why."""
    out = BulkDeletion()
    for start in range(0, len(keys), DELETE_BATCH):
        doc = ET.Element("Delete")
        ET.SubElement(doc, "Quiet").text = "false"
        for key in keys[start:start + DELETE_BATCH]:
            ET.SubElement(ET.SubElement(doc, "Object"), "Key").text = key
        body = ET.tostring(doc, encoding="utf-8", xml_declaration=True)
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        batch = keys[start:start + DELETE_BATCH]
        reply = await ctx.s3("POST", bucket, query=[("delete", "")], body=body,
                             headers=[("content-md5", md5), ("content-type", "application/xml")])
        if reply.status == 403:     # refused every key of the batch: S3 answers AccessDenied for the request
            failure = S3Failure(reply)
            out.refused += [(key, failure.code, failure.message) for key in batch]
            continue
        if not reply.ok:
            raise S3Failure(reply)
        answer = reply.document()
        out.deleted += [_text(d, "Key") for d in answer.iter("Deleted")]
        out.refused += [(_text(x, "Key"), _text(x, "Code"), _text(x, "Message")) for x in answer.iter("Error")]
    return out


@dataclass
class Head:
    """The first bytes of an object, and its size."""

    data: bytes
    size: int
    content_type: str


async def read_head(ctx: Ctx, bucket: str, key: str, version_id: str | None, limit: int) -> Head:
    """At most the first ``limit`` bytes of an object (a ranged GetObject as the user)."""
    query = [("versionId", version_id)] if version_id else []
    reply = await ctx.s3("GET", bucket, key, query=query, headers=[("range", f"bytes=0-{limit - 1}")])
    ctype = reply.headers.get("content-type", "")
    if reply.status == 416:           # an empty object has no byte 0
        return Head(b"", 0, ctype)
    if not reply.ok:
        raise S3Failure(reply)
    total = reply.headers.get("content-range", "").rpartition("/")[2]
    return Head(reply.body[:limit], int(total) if total.isdigit() else len(reply.body), ctype)
