"""CopyObject (the x-amz-copy-source header is parsed by :mod:`nuage.s3.copy_source`)."""

from __future__ import annotations

from nuage.core.objects import CopySpec, ObjectAttrs
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.copy_source import copy_source, version_to_read
from nuage.s3.handlers.common import parse_tagging_header, read_conditions, write_condition
from nuage.s3.handlers.encryption import sets_encryption, source_customer_key, write_spec
from nuage.s3.headers import (
    checksum_algorithm,
    iso_date,
    lock_request,
    object_attrs,
    quote_etag,
    sse_headers,
    stored_acl,
)
from nuage.s3.http import Request, Response, xml_response
from nuage.storage.meta.extra import acl_entries
from nuage.types import NULL_VERSION, BucketName, ObjectKey
from nuage.xml import render, root, sub


async def copy_object(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    src_bucket, src_key, _ = copy_source(req)
    src_version = version_to_read(req)   # the very version authorization decided on
    directive = req.headers.get("x-amz-metadata-directive", "COPY").upper()
    tag_directive = req.headers.get("x-amz-tagging-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise e.InvalidArgument("Unknown metadata directive.", ArgumentName="x-amz-metadata-directive",
                                ArgumentValue=directive)
    if tag_directive not in ("COPY", "REPLACE"):
        raise e.InvalidArgument("Unknown tagging directive.", ArgumentName="x-amz-tagging-directive",
                                ArgumentValue=tag_directive)
    attrs = object_attrs(req.headers) if directive == "REPLACE" else ObjectAttrs(
        storage_class=req.headers.get("x-amz-storage-class", "STANDARD"), extra=lock_request(req.headers))
    if directive != "REPLACE":  # the ACL of a copy is the request's, whatever the metadata directive
        acl = stored_acl(req.headers)
        if acl is not None and acl != "private":
            attrs.extra.update(acl_entries(acl))
    if tag_directive == "REPLACE":
        attrs.tags = parse_tagging_header(req.headers.get("x-amz-tagging", ""))
    declared = req.headers.get("x-amz-checksum-algorithm")
    algorithm = checksum_algorithm(declared) if declared is not None else None
    spec = CopySpec(
        source_bucket=src_bucket, source_key=src_key, source_version=src_version,
        conditions=read_conditions(req, "x-amz-copy-source-"), replace_metadata=directive == "REPLACE",
        replace_tags=tag_directive == "REPLACE", attrs=attrs,
        checksum_algorithm=algorithm,
        storage_class_set="x-amz-storage-class" in req.headers,
        encryption_set=sets_encryption(req.headers), sse=write_spec(req.headers),
        source_customer_key=source_customer_key(req.headers),
    )
    src, rec = await svc.objects.copy(bucket, key, spec, req.owner_id, write_condition(req))
    doc = root("CopyObjectResult")
    sub(doc, "LastModified", iso_date(rec.last_modified))
    sub(doc, "ETag", quote_etag(rec.etag))
    for alg, value in rec.checksums.items():
        sub(doc, f"Checksum{alg.upper()}", value)
    headers: list[tuple[str, str]] = []
    if rec.version_id != NULL_VERSION:
        headers.append(("x-amz-version-id", rec.version_id))
    if src.version_id != NULL_VERSION:
        headers.append(("x-amz-copy-source-version-id", src.version_id))
    headers.extend(sse_headers(rec.extra))
    return xml_response(render(doc), headers=headers)
