"""ListObjects (v1), ListObjectsV2 and ListObjectVersions."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import int_param
from nuage.s3.headers import iso_date, quote_etag
from nuage.s3.http import Request, Response, xml_response
from nuage.storage.meta.records import ObjectRecord
from nuage.types import BucketName
from nuage.xml import Writer, bool_text, escape

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


def _owner(w: Writer, req: Request, owner: str) -> None:
    w.open("Owner")
    w.el("ID", owner)
    w.el("DisplayName", _owner_name(req, owner))
    w.close("Owner")


def _content(w: Writer, req: Request, rec: ObjectRecord, encode: bool, owner: bool) -> None:
    """One <Contents> entry, built as a single string (the hot loop of every listing)."""
    extra = "".join(f"<ChecksumAlgorithm>{alg.upper()}</ChecksumAlgorithm>" for alg in rec.checksums)
    if rec.checksum_type:
        extra += f"<ChecksumType>{rec.checksum_type}</ChecksumType>"
    who = (f"<Owner><ID>{escape(rec.owner)}</ID><DisplayName>{escape(_owner_name(req, rec.owner))}"
           "</DisplayName></Owner>") if owner else ""
    w.raw(f"<Contents><Key>{escape(_fmt(rec.key, encode))}</Key><LastModified>{iso_date(rec.last_modified)}"
          f"</LastModified><ETag>&quot;{escape(rec.etag)}&quot;</ETag><Size>{rec.size}</Size>{extra}"
          f"<StorageClass>{rec.storage_class}</StorageClass>{who}</Contents>")


def _prefixes(w: Writer, prefixes: list[str], encode: bool) -> None:
    for p in prefixes:
        w.open("CommonPrefixes")
        w.el("Prefix", _fmt(p, encode))
        w.close("CommonPrefixes")


async def list_v1(svc: Services, req: Request, bucket: BucketName) -> Response:
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(bucket)
    marker = req.query.get("marker", "")
    page = await svc.objects.list(bucket, prefix, delimiter, marker or None, max_keys)
    w = Writer("ListBucketResult")
    w.el("Name", bucket)
    w.el("Prefix", _fmt(prefix, encode))
    w.el("Marker", _fmt(marker, encode))
    if page.truncated and page.next_marker is not None and delimiter:
        w.el("NextMarker", _fmt(page.next_marker, encode))
    w.el("MaxKeys", max_keys)
    if delimiter:
        w.el("Delimiter", _fmt(delimiter, encode))
    w.el("IsTruncated", bool_text(page.truncated))
    if encode:
        w.el("EncodingType", "url")
    for rec in page.objects:
        _content(w, req, rec, encode, True)
    _prefixes(w, page.prefixes, encode)
    return xml_response(w.render())


def _token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode("utf-8", "surrogatepass")).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise e.InvalidArgument("The continuation token provided is incorrect",
                                ArgumentName="continuation-token") from exc


async def list_v2(svc: Services, req: Request, bucket: BucketName) -> Response:
    if req.query.get("list-type") != "2":
        raise e.InvalidArgument("Invalid List Type specified in Request", ArgumentName="list-type")
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(bucket)
    token = req.query.get("continuation-token")
    start_after = req.query.get("start-after", "")
    if token:
        marker: str | None = _untoken(token)
    else:
        marker = start_after or None
    fetch_owner = req.query.get("fetch-owner", "false").lower() == "true"
    page = await svc.objects.list(bucket, prefix, delimiter, marker, max_keys)
    w = Writer("ListBucketResult")
    w.el("Name", bucket)
    w.el("Prefix", _fmt(prefix, encode))
    if start_after:
        w.el("StartAfter", _fmt(start_after, encode))
    if token is not None:
        w.el("ContinuationToken", token)
    if page.truncated and page.next_marker is not None:
        w.el("NextContinuationToken", _token(page.next_marker))
    w.el("KeyCount", len(page.objects) + len(page.prefixes))
    w.el("MaxKeys", max_keys)
    if delimiter:
        w.el("Delimiter", _fmt(delimiter, encode))
    w.el("IsTruncated", bool_text(page.truncated))
    if encode:
        w.el("EncodingType", "url")
    for rec in page.objects:
        _content(w, req, rec, encode, fetch_owner)
    _prefixes(w, page.prefixes, encode)
    return xml_response(w.render())


async def list_versions(svc: Services, req: Request, bucket: BucketName) -> Response:
    prefix, delimiter, max_keys, encode = _common(req)
    await svc.buckets.get(bucket)
    key_marker = req.query.get("key-marker", "")
    version_marker = req.query.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise e.InvalidArgument("A version-id marker cannot be specified without a key marker.",
                                ArgumentName="version-id-marker", ArgumentValue=version_marker)
    page = await svc.objects.list_versions(bucket, prefix, delimiter, key_marker or None,
                                          version_marker or None, max_keys)
    w = Writer("ListVersionsResult")
    w.el("Name", bucket)
    w.el("Prefix", _fmt(prefix, encode))
    w.el("KeyMarker", _fmt(key_marker, encode))
    w.el("VersionIdMarker", version_marker)
    if page.truncated:
        if page.next_key_marker is not None:
            w.el("NextKeyMarker", _fmt(page.next_key_marker, encode))
        if page.next_version_marker is not None:
            w.el("NextVersionIdMarker", page.next_version_marker)
    w.el("MaxKeys", max_keys)
    if delimiter:
        w.el("Delimiter", _fmt(delimiter, encode))
    w.el("IsTruncated", bool_text(page.truncated))
    if encode:
        w.el("EncodingType", "url")
    for rec in page.versions:
        tag = "DeleteMarker" if rec.delete_marker else "Version"
        w.open(tag)
        w.el("Key", _fmt(rec.key, encode))
        w.el("VersionId", rec.version_id)
        w.el("IsLatest", bool_text(rec.is_latest))
        w.el("LastModified", iso_date(rec.last_modified))
        if not rec.delete_marker:
            w.el("ETag", quote_etag(rec.etag))
            w.el("Size", rec.size)
            for alg in rec.checksums:
                w.el("ChecksumAlgorithm", alg.upper())
            w.el("StorageClass", rec.storage_class)
        _owner(w, req, rec.owner)
        w.close(tag)
    _prefixes(w, page.prefixes, encode)
    return xml_response(w.render())
