"""HTTP header values of S3: dates, ETags, ranges, metadata, checksums."""

from __future__ import annotations

import email.utils
import functools
import re
import time
from datetime import UTC, datetime

from nuage import checksums
from nuage.core.acl import GRANT_HEADERS, Grant, encode
from nuage.core.lock_rules import lock_extra, new_version_lock
from nuage.core.objects import ObjectAttrs
from nuage.core.sse import SSE_C
from nuage.s3 import errors as e
from nuage.storage.meta.extra import Facts, acl_entries
from nuage.storage.meta.records import ObjectRecord
from nuage.types import NULL_VERSION

STORED_HEADERS = ("content-encoding", "content-disposition", "content-language", "cache-control", "expires",
                  "x-amz-website-redirect-location")
STORAGE_CLASSES = {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                   "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"}
MAX_USER_META = 2048
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@functools.lru_cache(maxsize=4096)
def _http_date_of_second(second: int) -> str:
    t = time.gmtime(second)
    return (f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT")


def http_date(ts: float) -> str:
    """RFC 7231 IMF-fixdate (as email.utils.formatdate(usegmt=True)); recent seconds are cached."""
    return _http_date_of_second(int(ts))


def iso_date(ts: float) -> str:
    t = time.gmtime(ts)
    return (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
            f".{int(ts * 1000) % 1000:03d}Z")


def parse_http_date(value: str | None) -> float | None:
    """An HTTP date, or None when absent or unparseable (S3 ignores bad conditional dates)."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def parse_range(value: str | None) -> tuple[int | None, int | None] | None:
    """A single byte range; None for no or ignorable (malformed / multi-range) headers, as S3 does."""
    if not value:
        return None
    m = _RANGE_RE.match(value.strip())
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if first and last and int(last) < int(first):
        return None
    return (int(first) if first else None, int(last) if last else None)


def object_attrs(headers: dict[str, str]) -> ObjectAttrs:
    """Attributes of a new object from PUT / POST-uploads / copy-with-REPLACE headers."""
    meta: dict[str, str] = {}
    size = 0
    for name, value in headers.items():
        if name.startswith("x-amz-meta-"):
            short = name[len("x-amz-meta-"):]
            meta[short] = value
            size += len(short) + len(value)
    if size > MAX_USER_META:
        raise e.MetadataTooLarge(MaxSizeAllowed=str(MAX_USER_META), Size=str(size))
    stored = {h: headers[h] for h in STORED_HEADERS if h in headers}
    if "content-encoding" in stored:  # aws-chunked describes the upload, not the object
        kept = [t for t in (x.strip() for x in stored["content-encoding"].split(",")) if t and t != "aws-chunked"]
        if kept:
            stored["content-encoding"] = ", ".join(kept)
        else:
            del stored["content-encoding"]
    storage_class = headers.get("x-amz-storage-class", "STANDARD")
    if storage_class not in STORAGE_CLASSES:
        raise e.InvalidStorageClass()
    extra: dict[str, str] = {}
    acl = stored_acl(headers)
    if acl is not None and acl != "private":
        extra.update(acl_entries(acl))
    extra.update(lock_request(headers))
    return ObjectAttrs(content_type=headers.get("content-type"), headers=stored, user_meta=meta,
                       storage_class=storage_class, extra=extra)


def stored_acl(headers: dict[str, str]) -> str | None:
    """The ACL to store for a new object: the canned x-amz-acl, or the x-amz-grant-* grants (already
    checked by authorization: see nuage.s3.acl_headers.check_write_acl)."""
    grants: list[Grant] = []
    for header, permission in GRANT_HEADERS.items():
        if header not in headers:
            continue
        for part in headers[header].split(","):
            kind, sep, value = part.strip().partition("=")
            value = value.strip().strip('"')
            if not sep:
                continue
            if kind.strip().lower() == "id":
                grants.append(Grant(permission, id=value))
            elif kind.strip().lower() == "uri":
                grants.append(Grant(permission, uri=value))
    if grants:
        return encode(grants)
    return headers.get("x-amz-acl")


def lock_request(headers: dict[str, str]) -> dict[str, str]:
    """The Object Lock entries (for ObjectRecord.extra) asked for by the x-amz-object-lock-* headers."""
    retention, hold = new_version_lock(headers.get("x-amz-object-lock-mode"),
                                       headers.get("x-amz-object-lock-retain-until-date"),
                                       headers.get("x-amz-object-lock-legal-hold"))
    return lock_extra(retention, hold)


def sse_headers(extra: dict[str, str]) -> list[tuple[str, str]]:
    """The server-side encryption headers S3 answers for an encrypted object or upload."""
    sse = Facts(extra).sse
    if sse is None:
        return []
    if sse.algorithm == SSE_C:
        return [("x-amz-server-side-encryption-customer-algorithm", "AES256"),
                ("x-amz-server-side-encryption-customer-key-md5", sse.customer_md5 or "")]
    out = [("x-amz-server-side-encryption", sse.algorithm)]
    if sse.kms_key_id is not None:
        out.append(("x-amz-server-side-encryption-aws-kms-key-id", sse.kms_key_id))
    if sse.bucket_key:
        out.append(("x-amz-server-side-encryption-bucket-key-enabled", "true"))
    return out


def object_headers(rec: ObjectRecord, *, checksum_mode: bool = False, part_number: int | None = None) -> list[
        tuple[str, str]]:
    out = [
        ("etag", quote_etag(rec.etag)),
        ("last-modified", http_date(rec.last_modified)),
        ("content-type", rec.content_type or "binary/octet-stream"),
        ("accept-ranges", "bytes"),
    ]
    if rec.version_id != NULL_VERSION:
        out.append(("x-amz-version-id", rec.version_id))
    for name, value in rec.headers.items():
        out.append((name, value))
    for name, value in rec.user_meta.items():
        out.append((f"x-amz-meta-{name}", value))
    if rec.storage_class != "STANDARD":
        out.append(("x-amz-storage-class", rec.storage_class))
    if rec.tags:
        out.append(("x-amz-tagging-count", str(len(rec.tags))))
    if rec.part_sizes is not None:
        out.append(("x-amz-mp-parts-count", str(len(rec.part_sizes))))
    if rec.extra:
        facts = rec.facts
        if facts.sse_algorithm is not None:
            out.extend(sse_headers(rec.extra))
        retention = facts.retention
        if retention is not None:
            out.append(("x-amz-object-lock-mode", retention.mode))
            out.append(("x-amz-object-lock-retain-until-date", retention.until))
        if facts.legal_hold is not None:
            out.append(("x-amz-object-lock-legal-hold", facts.legal_hold))
        if facts.replication is not None:
            out.append(("x-amz-replication-status", facts.replication))
    if checksum_mode:
        if part_number is not None and rec.part_checksums:
            for alg, value in rec.part_checksums[part_number - 1].items():
                out.append((f"x-amz-checksum-{alg}", value))
            if rec.checksum_type:
                out.append(("x-amz-checksum-type", rec.checksum_type))
        elif part_number is None:
            for alg, value in rec.checksums.items():
                out.append((f"x-amz-checksum-{alg}", value))
            if rec.checksum_type:
                out.append(("x-amz-checksum-type", rec.checksum_type))
    return out


def checksum_algorithm(declared: str) -> str:
    """A checksum algorithm named by a request header, lowercase; InvalidRequest when it is none of S3's."""
    alg = declared.lower()
    if alg not in checksums.ALGORITHMS:
        raise e.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the "
                               "valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
    return alg


def requested_checksums(headers: dict[str, str]) -> tuple[list[str], dict[str, str], str | None]:
    """(algorithms to compute, expected values from headers, algorithm expected in a trailer)."""
    algorithms: list[str] = []
    expected: dict[str, str] = {}
    for alg in checksums.ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{alg}")
        if value is not None:
            if not checksums.valid_encoded(alg, value):
                raise e.BadDigest(f"The {alg.upper()} you specified did not match the calculated checksum.")
            algorithms.append(alg)
            expected[alg] = value
    if len(expected) > 1:
        raise e.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                               "allowed.")
    declared = headers.get("x-amz-sdk-checksum-algorithm") or headers.get("x-amz-checksum-algorithm")
    if declared:
        alg = checksum_algorithm(declared)
        if alg not in algorithms:
            algorithms.append(alg)
    trailer_alg: str | None = None
    trailer = headers.get("x-amz-trailer")
    if trailer:
        name = trailer.strip().lower()
        if not name.startswith("x-amz-checksum-") or name[len("x-amz-checksum-"):] not in checksums.ALGORITHMS:
            raise e.InvalidRequest("The value specified in the x-amz-trailer header is not supported")
        trailer_alg = name[len("x-amz-checksum-"):]
        if trailer_alg not in algorithms:
            algorithms.append(trailer_alg)
    return algorithms, expected, trailer_alg


def now() -> float:
    return time.time()
