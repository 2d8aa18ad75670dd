"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts, ListMultipartUploads."""

from __future__ import annotations

import re

from nuage import checksums
from nuage.core.access import account_name
from nuage.core.multipart import CompletedPart
from nuage.errors import UploadNotFound
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.copy_source import copy_source, version_to_read
from nuage.s3.handlers.common import (
    check_declared_size,
    int_param,
    integrity,
    owner_el,
    parse_tagging_header,
    read_conditions,
    write_condition,
    xml_body,
)
from nuage.s3.handlers.encryption import customer_key, source_customer_key, write_spec
from nuage.s3.headers import iso_date, object_attrs, quote_etag, sse_headers
from nuage.s3.http import Request, Response, empty, empty_body, xml_response
from nuage.types import NULL_VERSION, BucketName, ObjectKey
from nuage.xml import bool_text, child_text, render, root, sub

MAX_PART_SIZE = 5 * 1024**3
_COPY_RANGE = re.compile(r"^bytes=(\d+)-(\d+)$")


def _upload_id(req: Request) -> str:
    return req.query.get("uploadId", "")


def _part_number(req: Request) -> int:
    raw = req.query.get("partNumber", "")
    if not raw.lstrip("-").isdigit():
        raise e.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                ArgumentName="partNumber", ArgumentValue=raw)
    n = int(raw)
    if not 1 <= n <= 10000:
        raise e.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                ArgumentName="partNumber", ArgumentValue=raw)
    return n


async def create(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    attrs = object_attrs(req.headers)
    if "x-amz-tagging" in req.headers:
        attrs.tags = parse_tagging_header(req.headers["x-amz-tagging"])
    algorithm = req.headers.get("x-amz-checksum-algorithm")
    if algorithm is not None and algorithm.lower() not in checksums.ALGORITHMS:
        raise e.InvalidRequest("Checksum algorithm provided is unsupported.")
    ctype = req.headers.get("x-amz-checksum-type")
    if ctype is not None and ctype.upper() not in ("COMPOSITE", "FULL_OBJECT"):
        raise e.InvalidRequest("Value for x-amz-checksum-type header is invalid.")
    alg = algorithm.lower() if algorithm else None
    if ctype and ctype.upper() == "FULL_OBJECT" and alg in ("sha1", "sha256"):
        raise e.InvalidRequest("The FULL_OBJECT checksum type cannot be used with the sha1 or sha256 algorithm.")
    if ctype and not alg:
        raise e.InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm "
                               "header.")
    up = await svc.multipart.create(bucket, key, attrs, req.owner_id, alg, ctype.upper() if ctype else None,
                                    write_spec(req.headers))
    doc = root("InitiateMultipartUploadResult")
    sub(doc, "Bucket", bucket)
    sub(doc, "Key", key)
    sub(doc, "UploadId", up.upload_id)
    headers = []
    if alg:
        headers.append(("x-amz-checksum-algorithm", alg.upper()))
        headers.append(("x-amz-checksum-type", up.checksum_type or
                        ("FULL_OBJECT" if alg == "crc64nvme" else "COMPOSITE")))
    headers.extend(sse_headers(up.extra))
    return xml_response(render(doc), headers=headers)


async def upload_part(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    if "content-length" not in req.headers and "x-amz-decoded-content-length" not in req.headers and \
            "chunked" not in req.headers.get("transfer-encoding", ""):
        raise e.MissingContentLength()
    check_declared_size(req, MAX_PART_SIZE)
    part = await svc.multipart.upload_part(bucket, key, _upload_id(req), _part_number(req), req.body or empty_body(),
                                           integrity(req), customer_key(req.headers))
    headers = [("etag", quote_etag(part.etag))]
    for alg, value in part.checksums.items():
        headers.append((f"x-amz-checksum-{alg}", value))
    headers.extend(await _upload_sse_headers(svc, req, bucket, key))
    return empty(200, headers)


async def _upload_sse_headers(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> list[tuple[str, str]]:
    try:
        up = await svc.multipart.upload(bucket, key, _upload_id(req))
    except UploadNotFound:      # completed meanwhile
        return []
    return sse_headers(up.extra)


async def upload_part_copy(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    src_bucket, src_key, _ = copy_source(req)
    src_version = version_to_read(req)   # the very version authorization decided on
    rng: tuple[int, int] | None = None
    raw_range = req.headers.get("x-amz-copy-source-range")
    if raw_range is not None:
        m = _COPY_RANGE.match(raw_range.strip())
        if not m:
            raise e.InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last "
                                    "where first and last are the zero-based offsets of the first and last "
                                    "bytes to copy", ArgumentName="x-amz-copy-source-range",
                                    ArgumentValue=raw_range)
        rng = (int(m.group(1)), int(m.group(2)))
    src, part = await svc.multipart.upload_part_copy(bucket, key, _upload_id(req), _part_number(req), src_bucket,
                                                     src_key, src_version, rng,
                                                     read_conditions(req, "x-amz-copy-source-"),
                                                     source_customer_key(req.headers), customer_key(req.headers))
    doc = root("CopyPartResult")
    sub(doc, "LastModified", iso_date(part.last_modified))
    sub(doc, "ETag", quote_etag(part.etag))
    for alg, value in part.checksums.items():
        sub(doc, f"Checksum{alg.upper()}", value)
    headers: list[tuple[str, str]] = [("x-amz-copy-source-version-id", src.version_id)] \
        if src.version_id != NULL_VERSION else []
    headers.extend(await _upload_sse_headers(svc, req, bucket, key))
    return xml_response(render(doc), headers=headers)


async def complete(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    el = await xml_body(req)
    assert el is not None
    if el.tag != "CompleteMultipartUpload":
        raise e.MalformedXML()
    parts: list[CompletedPart] = []
    for p in el.findall("Part"):
        number, etag = child_text(p, "PartNumber"), child_text(p, "ETag")
        if number is None or etag is None or not number.strip().isdigit():
            raise e.MalformedXML()
        sums = {alg: v for alg in checksums.ALGORITHMS if (v := child_text(p, f"Checksum{alg.upper()}"))}
        parts.append(CompletedPart(int(number), etag, sums))
    expected: tuple[str, str] | None = None
    for alg in checksums.ALGORITHMS:
        value = req.headers.get(f"x-amz-checksum-{alg}")
        if value:
            expected = (alg, value)
    size = req.headers.get("x-amz-mp-object-size")
    rec = await svc.multipart.complete(bucket, key, _upload_id(req), parts, write_condition(req), expected,
                                       int(size) if size and size.isdigit() else None, customer_key(req.headers))
    doc = root("CompleteMultipartUploadResult")
    sub(doc, "Location", f"{req.scheme}://{req.headers.get('host', '')}/{bucket}/{key}")
    sub(doc, "Bucket", bucket)
    sub(doc, "Key", key)
    sub(doc, "ETag", quote_etag(rec.etag))
    for alg, value in rec.checksums.items():
        sub(doc, f"Checksum{alg.upper()}", value)
    if rec.checksum_type:
        sub(doc, "ChecksumType", rec.checksum_type)
    headers: list[tuple[str, str]] = [("x-amz-version-id", rec.version_id)] if rec.version_id != NULL_VERSION else []
    headers.extend(sse_headers(rec.extra))
    return xml_response(render(doc), headers=headers)


async def abort(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    await svc.multipart.abort(bucket, key, _upload_id(req))
    return empty(204)


async def list_parts(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    max_parts = int_param(req, "max-parts", 1000, lo=0, hi=1000)
    marker = int_param(req, "part-number-marker", 0, lo=0)
    up, parts = await svc.multipart.list_parts(bucket, key, _upload_id(req), marker, max_parts + 1)
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    doc = root("ListPartsResult")
    sub(doc, "Bucket", bucket)
    sub(doc, "Key", key)
    sub(doc, "UploadId", up.upload_id)
    name = req.owner_name if up.owner == req.owner_id else (await account_name(svc, up.owner) or up.owner)
    owner_el(doc, up.owner, name, "Initiator")
    owner_el(doc, up.owner, name)
    sub(doc, "StorageClass", up.storage_class)
    sub(doc, "PartNumberMarker", marker)
    if parts:
        sub(doc, "NextPartNumberMarker", parts[-1].part_number)
    sub(doc, "MaxParts", max_parts)
    sub(doc, "IsTruncated", bool_text(truncated))
    if up.checksum_algorithm:
        sub(doc, "ChecksumAlgorithm", up.checksum_algorithm.upper())
    for p in parts:
        pe = sub(doc, "Part")
        sub(pe, "PartNumber", p.part_number)
        sub(pe, "LastModified", iso_date(p.last_modified))
        sub(pe, "ETag", quote_etag(p.etag))
        sub(pe, "Size", p.size)
        for alg, value in p.checksums.items():
            sub(pe, f"Checksum{alg.upper()}", value)
    return xml_response(render(doc))


async def list_uploads(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    prefix = req.query.get("prefix", "")
    delimiter = req.query.get("delimiter", "")
    max_uploads = int_param(req, "max-uploads", 1000, lo=0, hi=1000)
    key_marker = req.query.get("key-marker", "")
    upload_marker = req.query.get("upload-id-marker", "")
    page = await svc.multipart.list_uploads(bucket, prefix, delimiter, key_marker or None,
                                         upload_marker or None, max_uploads)
    doc = root("ListMultipartUploadsResult")
    sub(doc, "Bucket", bucket)
    sub(doc, "KeyMarker", key_marker)
    sub(doc, "UploadIdMarker", upload_marker)
    sub(doc, "NextKeyMarker", page.next_key_marker or "")
    sub(doc, "NextUploadIdMarker", page.next_upload_marker or "")
    if delimiter:
        sub(doc, "Delimiter", delimiter)
    sub(doc, "Prefix", prefix)
    sub(doc, "MaxUploads", max_uploads)
    sub(doc, "IsTruncated", bool_text(page.truncated))
    names: dict[str, str] = {req.owner_id: req.owner_name}
    for up in page.uploads:
        if up.owner not in names:
            names[up.owner] = await account_name(svc, up.owner) or up.owner
        u = sub(doc, "Upload")
        sub(u, "Key", up.key)
        sub(u, "UploadId", up.upload_id)
        owner_el(u, up.owner, names[up.owner], "Initiator")
        owner_el(u, up.owner, names[up.owner])
        sub(u, "StorageClass", up.storage_class)
        sub(u, "Initiated", iso_date(up.initiated))
        if up.checksum_algorithm:
            sub(u, "ChecksumAlgorithm", up.checksum_algorithm.upper())
    for p in page.prefixes:
        cp = sub(doc, "CommonPrefixes")
        sub(cp, "Prefix", p)
    return xml_response(render(doc))
