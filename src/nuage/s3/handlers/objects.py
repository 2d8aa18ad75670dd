"""Object reads and writes: PutObject, GetObject, HeadObject, DeleteObject."""

from __future__ import annotations

from nuage import errors as d
from nuage.core.ingest import MAX_SINGLE_PUT
from nuage.core.objects import ByteRange, resolve_range
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import (
    check_declared_size,
    integrity,
    parse_tagging_header,
    read_conditions,
    version_id,
    write_condition,
)
from nuage.s3.handlers.encryption import read_customer_key, write_spec
from nuage.s3.handlers.lock import bypass_governance
from nuage.s3.headers import http_date, object_attrs, object_headers, parse_range, quote_etag, sse_headers
from nuage.s3.http import Request, Response, empty, empty_body
from nuage.storage.meta.records import ObjectRecord
from nuage.types import NULL_VERSION, BucketName, ObjectKey

RESPONSE_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}


def write_headers(rec: ObjectRecord) -> list[tuple[str, str]]:
    out = [("etag", quote_etag(rec.etag))]
    if rec.version_id != NULL_VERSION:
        out.append(("x-amz-version-id", rec.version_id))
    for alg, value in rec.checksums.items():
        out.append((f"x-amz-checksum-{alg}", value))
    if rec.checksum_type:
        out.append(("x-amz-checksum-type", rec.checksum_type))
    if rec.extra:
        out.extend(sse_headers(rec.extra))
    return out


async def put_object(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    if "content-length" not in req.headers and "x-amz-decoded-content-length" not in req.headers and \
            "chunked" not in req.headers.get("transfer-encoding", ""):
        raise e.MissingContentLength()
    check_declared_size(req, MAX_SINGLE_PUT)
    sse = write_spec(req.headers)
    attrs = object_attrs(req.headers)
    if "x-amz-tagging" in req.headers:
        attrs.tags = parse_tagging_header(req.headers["x-amz-tagging"])
    rec = await svc.objects.put(bucket, key, req.body or empty_body(), integrity(req), attrs, req.owner_id,
                                write_condition(req), sse)
    return empty(200, write_headers(rec))


def _not_found_headers(exc: d.NuageError) -> dict[str, str]:
    if isinstance(exc, d.CurrentIsDeleteMarker):
        return {"x-amz-delete-marker": "true", "x-amz-version-id": exc.version_id}
    if isinstance(exc, d.DeleteMarkerTarget):
        return {"x-amz-delete-marker": "true", "x-amz-version-id": exc.version_id,
                "last-modified": http_date(exc.last_modified), "allow": "DELETE"}
    return {}


def _part_number(req: Request) -> int | None:
    part = req.query.get("partNumber")
    if part is None:
        return None
    if not part.isdigit() or not 1 <= int(part) <= 10000:
        raise e.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                ArgumentName="partNumber", ArgumentValue=part)
    return int(part)


async def _read(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> ObjectRecord:
    """The version a GET or HEAD asks for, its read conditions checked."""
    try:
        return await svc.objects.read_checked(bucket, key, version_id(req), read_conditions(req))
    except (d.CurrentIsDeleteMarker, d.DeleteMarkerTarget) as exc:
        err = e.from_domain(exc)
        err.headers.update(_not_found_headers(exc))
        raise err from exc
    except d.NotModified as exc:
        raise _NotModified(exc) from exc


class _NotModified(e.S3Error):
    status = 304

    def __init__(self, exc: d.NotModified) -> None:
        super().__init__("Not Modified", headers={"etag": quote_etag(exc.etag),
                                                  "last-modified": http_date(exc.last_modified)})


def _part_range(rec: ObjectRecord, part_number: int) -> ByteRange | None:
    sizes = rec.part_sizes or [rec.size]
    if part_number > len(sizes):
        raise e.InvalidPart("The requested partnumber is not satisfiable", PartNumber=str(part_number))
    start = sum(sizes[: part_number - 1])
    size = sizes[part_number - 1]
    if size == 0:
        return None
    return ByteRange(start, start + size - 1)


def _selected(req: Request, rec: ObjectRecord, part_number: int | None) -> tuple[ByteRange | None, bool]:
    """(range to send, whether the answer is 206)."""
    if part_number is not None:
        if "range" in req.headers:
            raise e.InvalidRequest("Cannot specify both Range header and partNumber query parameter")
        return _part_range(rec, part_number), rec.part_sizes is not None or part_number == 1
    spec = parse_range(req.headers.get("range"))
    if spec is None:
        return None, False
    try:
        return resolve_range(spec, rec.size), True
    except d.InvalidRange as exc:
        raise e.InvalidRange(headers={"content-range": f"bytes */{rec.size}"}, RangeRequested=req.headers.get(
            "range", ""), ActualObjectSize=str(rec.size)) from exc


_CONTROLS = dict.fromkeys([*range(9), *range(10, 32), 127])   # str.translate deletes these


def _response_headers(req: Request, rec: ObjectRecord, part_number: int | None,
                      ranged: bool) -> list[tuple[str, str]]:
    checksum_mode = req.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED" and not (
        ranged and part_number is None)
    headers = object_headers(rec, checksum_mode=checksum_mode, part_number=part_number)
    overrides = {v: req.query[k] for k, v in RESPONSE_OVERRIDES.items() if k in req.query}
    if overrides:
        for name, value in overrides.items():   # a header line cannot carry control characters but tab
            if len(value.translate(_CONTROLS)) != len(value):
                raise e.InvalidArgument(f"Invalid value for response-{name}", ArgumentName=f"response-{name}")
        headers = [(n, v) for n, v in headers if n not in overrides] + list(overrides.items())
    return headers


async def get_object(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    part_number = _part_number(req)
    # The version's bytes stay readable until the answer is sent, whatever happens to it meanwhile.
    rec, release = await svc.objects.read_held(lambda: _read(svc, req, bucket, key))
    try:
        response = await _get_response(svc, req, rec, part_number)
    except BaseException:
        release()
        raise
    response.on_done = release
    return response


async def _get_response(svc: Services, req: Request, rec: ObjectRecord, part_number: int | None) -> Response:
    rng, partial = _selected(req, rec, part_number)
    data_key = svc.objects.data_key(rec, read_customer_key(req.headers))
    headers = _response_headers(req, rec, part_number, rng is not None)
    # Streams are checked against their blobs' CRCs as they are sent: a damaged blob stops the body
    # before its last byte (the connection is dropped); one that fits in the first piece is found
    # before the answer begins, and answered with an error.
    if rng is None:
        whole = await svc.objects.whole_inline(rec, data_key)
        if whole is not None:
            return Response(200 if not partial else 206, headers, whole)
        return Response(200 if not partial else 206, headers,
                        await svc.objects.opened(svc.objects.stream(rec, None, data_key)) if rec.size else b"",
                        content_length=rec.size)
    headers.append(("content-range", f"bytes {rng.start}-{rng.end}/{rec.size}"))
    return Response(206 if partial else 200, headers, await svc.objects.opened(svc.objects.stream(rec, rng, data_key)),
                    content_length=rng.length)


async def head_object(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    part_number = _part_number(req)
    rec = await _read(svc, req, bucket, key)
    rng, partial = _selected(req, rec, part_number)
    svc.objects.data_key(rec, read_customer_key(req.headers))
    headers = _response_headers(req, rec, part_number, rng is not None)
    length = rec.size if rng is None else rng.length
    if rng is not None:
        headers.append(("content-range", f"bytes {rng.start}-{rng.end}/{rec.size}"))
    headers.append(("content-length", str(length)))
    return Response(206 if partial else 200, headers, b"")


async def delete_object(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    cond_match = req.headers.get("if-match")
    if cond_match is not None:
        current = await svc.objects.current(bucket, key)
        if current is None or current.delete_marker:
            raise e.NoSuchKey()
        if cond_match.strip() != "*" and cond_match.strip().strip('"') != current.etag:
            raise e.PreconditionFailed()
    removed = await svc.objects.delete(bucket, key, version_id(req), req.owner_id,
                                       bypass_governance=await bypass_governance(svc, req))
    headers: list[tuple[str, str]] = []
    if removed is not None:
        if removed.delete_marker:
            headers.append(("x-amz-delete-marker", "true"))
        if removed.version_id != NULL_VERSION or req.query.get("versionId") == NULL_VERSION or removed.delete_marker:
            headers.append(("x-amz-version-id", removed.version_id))
    return empty(204, headers)
