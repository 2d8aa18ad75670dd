"""GetObjectAttributes."""

from __future__ import annotations

from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import version_id
from nuage.s3.handlers.encryption import read_customer_key
from nuage.s3.headers import http_date, quote_etag
from nuage.s3.http import Request, Response, xml_response
from nuage.types import NULL_VERSION, BucketName, ObjectKey
from nuage.xml import bool_text, render, root, sub

KNOWN = {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}


def _int_header(req: Request, name: str, default: int) -> int:
    raw = req.headers.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise e.InvalidArgument(f"Invalid {name} header", ArgumentName=name, ArgumentValue=raw)
    return min(int(raw), 1000) if name == "x-amz-max-parts" else int(raw)


async def get_attributes(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    wanted = {a.strip() for a in req.headers.get("x-amz-object-attributes", "").split(",") if a.strip()}
    if not wanted or not wanted <= KNOWN:
        raise e.InvalidArgument("Invalid attribute name specified.")
    rec = await svc.objects.head(bucket, key, version_id(req))
    svc.objects.data_key(rec, read_customer_key(req.headers))   # SSE-C objects need their key
    doc = root("GetObjectAttributesResponse")
    if "ETag" in wanted:
        sub(doc, "ETag", quote_etag(rec.etag).strip('"'))
    if "Checksum" in wanted and rec.checksums:
        c = sub(doc, "Checksum")
        for alg, value in rec.checksums.items():
            sub(c, f"Checksum{alg.upper()}", value)
        if rec.checksum_type:
            sub(c, "ChecksumType", rec.checksum_type)
    if "ObjectParts" in wanted and rec.part_sizes is not None:
        max_parts = _int_header(req, "x-amz-max-parts", 1000)
        marker = _int_header(req, "x-amz-part-number-marker", 0)
        p = sub(doc, "ObjectParts")
        sub(p, "PartsCount", len(rec.part_sizes))
        numbered = list(enumerate(rec.part_sizes, start=1))[marker:]
        page = numbered[:max_parts]
        sub(p, "PartNumberMarker", marker)
        sub(p, "NextPartNumberMarker", page[-1][0] if page else marker)
        sub(p, "MaxParts", max_parts)
        sub(p, "IsTruncated", bool_text(len(numbered) > max_parts))
        for n, size in page:
            pe = sub(p, "Part")
            sub(pe, "PartNumber", n)
            sub(pe, "Size", size)
            for alg, value in (rec.part_checksums[n - 1] if rec.part_checksums else {}).items():
                sub(pe, f"Checksum{alg.upper()}", value)
    if "StorageClass" in wanted:
        sub(doc, "StorageClass", rec.storage_class)
    if "ObjectSize" in wanted:
        sub(doc, "ObjectSize", rec.size)
    headers = [("last-modified", http_date(rec.last_modified))]
    if rec.version_id != NULL_VERSION:
        headers.append(("x-amz-version-id", rec.version_id))
    return xml_response(render(doc), headers=headers)
