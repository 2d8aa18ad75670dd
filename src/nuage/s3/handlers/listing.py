"""ListObjects (v1), ListObjectsV2 and ListObjectVersions."""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from urllib.parse import quote

from nuage.s3 import errors as e
from nuage.s3.context import Handler, Services
from nuage.s3.handlers.common import int_param, owner_el
from nuage.s3.headers import iso_date, quote_etag
from nuage.s3.http import Request, Response, xml_response
from nuage.storage.meta.records import ObjectRecord
from nuage.xml import bool_text, render, root, sub

MAX_KEYS = 1000


def _encoder(req: Request) -> tuple[bool, object]:
    enc = req.query.get("encoding-type")
    if enc is None:
        return False, None
    if enc.lower() != "url":
        raise e.InvalidArgument("Invalid Encoding Method specified in Request", ArgumentName="encoding-type",
                                ArgumentValue=enc)
    return True, None


def _fmt(value: str, encode: bool) -> str:
    return quote(value, safe="/") if encode else value


def _common(req: Request) -> tuple[str, str, int, bool]:
    svc_prefix = req.query.get("prefix", "")
    delimiter = req.query.get("delimiter", "")
    max_keys = int_param(req, "max-keys", MAX_KEYS, lo=0, hi=MAX_KEYS)
    encode, _ = _encoder(req)
    return svc_prefix, delimiter, max_keys, encode


def _owner_name(req: Request, owner: str) -> str:
    return req.owner_name if owner == req.owner_id else owner


def _content(parent: ET.Element, req: Request, rec: ObjectRecord, encode: bool, owner: bool) -> None:
    c = sub(parent, "Contents")
    sub(c, "Key", _fmt(rec.key, encode))
    sub(c, "LastModified", iso_date(rec.last_modified))
    sub(c, "ETag", quote_etag(rec.etag))
    sub(c, "Size", rec.size)
    for alg in rec.checksums:
        sub(c, "ChecksumAlgorithm", alg.upper())
    if rec.checksum_type:
        sub(c, "ChecksumType", rec.checksum_type)
    sub(c, "StorageClass", rec.storage_class)
    if owner:
        owner_el(c, rec.owner, _owner_name(req, rec.owner))


def _prefixes(parent: ET.Element, prefixes: list[str], encode: bool) -> None:
    for p in prefixes:
        cp = sub(parent, "CommonPrefixes")
        sub(cp, "Prefix", _fmt(p, encode))


async def list_v1(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(req.bucket)
    marker = req.query.get("marker", "")
    page = await svc.objects.list(req.bucket, prefix, delimiter, marker or None, max_keys)
    doc = root("ListBucketResult")
    sub(doc, "Name", req.bucket)
    sub(doc, "Prefix", _fmt(prefix, encode))
    sub(doc, "Marker", _fmt(marker, encode))
    if page.truncated and page.next_marker is not None and delimiter:
        sub(doc, "NextMarker", _fmt(page.next_marker, encode))
    sub(doc, "MaxKeys", max_keys)
    if delimiter:
        sub(doc, "Delimiter", _fmt(delimiter, encode))
    sub(doc, "IsTruncated", bool_text(page.truncated))
    if encode:
        sub(doc, "EncodingType", "url")
    for rec in page.objects:
        _content(doc, req, rec, encode, True)
    _prefixes(doc, page.prefixes, encode)
    return xml_response(render(doc))


def _token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode("utf-8", "surrogatepass")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise e.InvalidArgument("The continuation token provided is incorrect",
                                ArgumentName="continuation-token") from exc


async def list_v2(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    if req.query.get("list-type") != "2":
        raise e.InvalidArgument("Invalid List Type specified in Request", ArgumentName="list-type")
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(req.bucket)
    token = req.query.get("continuation-token")
    start_after = req.query.get("start-after", "")
    if token:
        marker: str | None = _untoken(token)
    else:
        marker = start_after or None
    fetch_owner = req.query.get("fetch-owner", "false").lower() == "true"
    page = await svc.objects.list(req.bucket, prefix, delimiter, marker, max_keys)
    doc = root("ListBucketResult")
    sub(doc, "Name", req.bucket)
    sub(doc, "Prefix", _fmt(prefix, encode))
    if start_after:
        sub(doc, "StartAfter", _fmt(start_after, encode))
    if token is not None:
        sub(doc, "ContinuationToken", token)
    if page.truncated and page.next_marker is not None:
        sub(doc, "NextContinuationToken", _token(page.next_marker))
    sub(doc, "KeyCount", len(page.objects) + len(page.prefixes))
    sub(doc, "MaxKeys", max_keys)
    if delimiter:
        sub(doc, "Delimiter", _fmt(delimiter, encode))
    sub(doc, "IsTruncated", bool_text(page.truncated))
    if encode:
        sub(doc, "EncodingType", "url")
    for rec in page.objects:
        _content(doc, req, rec, encode, fetch_owner)
    _prefixes(doc, page.prefixes, encode)
    return xml_response(render(doc))


async def list_versions(svc: Services, req: Request) -> Response:
    assert req.bucket is not None
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(req.bucket)
    key_marker = req.query.get("key-marker", "")
    version_marker = req.query.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise e.InvalidArgument("A version-id marker cannot be specified without a key marker.",
                                ArgumentName="version-id-marker", ArgumentValue=version_marker)
    page = await svc.objects.list_versions(req.bucket, prefix, delimiter, key_marker or None,
                                          version_marker or None, max_keys)
    doc = root("ListVersionsResult")
    sub(doc, "Name", req.bucket)
    sub(doc, "Prefix", _fmt(prefix, encode))
    sub(doc, "KeyMarker", _fmt(key_marker, encode))
    sub(doc, "VersionIdMarker", version_marker)
    if page.truncated:
        if page.next_key_marker is not None:
            sub(doc, "NextKeyMarker", _fmt(page.next_key_marker, encode))
        if page.next_version_marker is not None:
            sub(doc, "NextVersionIdMarker", page.next_version_marker)
    sub(doc, "MaxKeys", max_keys)
    if delimiter:
        sub(doc, "Delimiter", _fmt(delimiter, encode))
    sub(doc, "IsTruncated", bool_text(page.truncated))
    if encode:
        sub(doc, "EncodingType", "url")
    for rec in page.versions:
        v = sub(doc, "DeleteMarker" if rec.delete_marker else "Version")
        sub(v, "Key", _fmt(rec.key, encode))
        sub(v, "VersionId", rec.version_id)
        sub(v, "IsLatest", bool_text(rec.is_latest))
        sub(v, "LastModified", iso_date(rec.last_modified))
        if not rec.delete_marker:
            sub(v, "ETag", quote_etag(rec.etag))
            sub(v, "Size", rec.size)
            for alg in rec.checksums:
                sub(v, "ChecksumAlgorithm", alg.upper())
            sub(v, "StorageClass", rec.storage_class)
        owner_el(v, rec.owner, _owner_name(req, rec.owner))
    _prefixes(doc, page.prefixes, encode)
    return xml_response(render(doc))


HANDLERS: dict[str, Handler] = {
    "ListObjects": list_v1,
    "ListObjectsV2": list_v2,
    "ListObjectVersions": list_versions,
}
