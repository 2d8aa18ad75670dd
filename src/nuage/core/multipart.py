"""Multipart uploads: create, upload part (and part copy), complete, abort, list."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from nuage import checksums
from nuage.core.conditions import ReadConditions, check_copy_source
from nuage.core.ingest import Integrity, ingest
from nuage.core.lock_rules import check_lock_request, new_version_extra
from nuage.core.names import check_key
from nuage.core.objects import ByteRange, ObjectAttrs, ObjectService
from nuage.core.sse import (
    MSG_KEY_MISMATCH,
    SSESpec,
    blob_cipher,
    customer_key_matches,
    is_customer,
    object_etag,
)
from nuage.errors import (
    ContentDigestMismatch,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    MalformedDocument,
    UploadNotFound,
)
from nuage.storage.meta.extra import upload_entries
from nuage.storage.meta.records import (
    ObjectRecord,
    PartRecord,
    Segment,
    UploadPage,
    UploadRecord,
    WriteCondition,
)
from nuage.types import NEW_VERSION, BucketName, ObjectKey, VersionId

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


@dataclass
class CompletedPart:
    part_number: int
    etag: str
    checksums: dict[str, str]


class MultipartService:
    def __init__(self, objects: ObjectService, *, min_part_size: int = MIN_PART_SIZE) -> None:
        self.objects = objects
        self.meta = objects.meta
        self.blobs = objects.blobs
        self.min_part_size = min_part_size

    async def create(self, bucket: BucketName, key: ObjectKey, attrs: ObjectAttrs, owner: str,
                     checksum_algorithm: str | None, checksum_type: str | None,
                     sse: SSESpec | None = None) -> UploadRecord:
        check_key(key)
        b = await self.objects.bucket(bucket)
        check_lock_request(b, attrs.extra)
        _, attrs = await self.objects.encryption_for(b, attrs, sse)   # each part then opens the data key
        rec = UploadRecord(
            upload_id=uuid.uuid4().hex + uuid.uuid4().hex[:8], bucket=bucket, key=key, initiated=time.time(),
            owner=owner, content_type=attrs.content_type, headers=attrs.headers, user_meta=attrs.user_meta,
            tags=attrs.tags, checksum_algorithm=checksum_algorithm, checksum_type=checksum_type,
            storage_class=attrs.storage_class, extra=attrs.extra,
        )
        await self.meta.create_upload(rec)
        return rec

    async def upload(self, bucket: BucketName, key: ObjectKey, upload_id: str) -> UploadRecord:
        await self.objects.bucket(bucket)
        rec = await self.meta.get_upload(upload_id)
        if rec is None or rec.bucket != bucket or rec.key != key:
            raise UploadNotFound(upload=upload_id)
        return rec

    def upload_key(self, up: UploadRecord, customer_key: bytes | None) -> bytes | None:
        """The data key of an encrypted upload (None if it is not); SSE-C uploads need their key."""
        if is_customer(up.extra):
            if customer_key is None:
                raise InvalidRequest("The multipart upload initiate requested encryption. Subsequent part requests "
                                     "must include the appropriate encryption parameters.")
            if not customer_key_matches(up.extra, customer_key):
                raise InvalidRequest(MSG_KEY_MISMATCH)
        return self.objects.keyring.open(up.extra, customer_key)

    @staticmethod
    def check_part_number(n: int) -> None:
        if not 1 <= n <= MAX_PART_NUMBER:
            raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive",
                                  argument="partNumber")

    async def upload_part(self, bucket: BucketName, key: ObjectKey, upload_id: str, part_number: int,
                          body: AsyncIterator[bytes], integrity: Integrity,
                          customer_key: bytes | None = None) -> PartRecord:
        self.check_part_number(part_number)
        up = await self.upload(bucket, key, upload_id)
        data_key = self.upload_key(up, customer_key)
        if up.checksum_algorithm and up.checksum_algorithm not in integrity.algorithms:
            integrity.algorithms.append(up.checksum_algorithm)
        got = await ingest(self.blobs, body, integrity, blob_cipher(up.extra, data_key) if data_key else None)
        etag = object_etag(up.extra, data_key, got.md5_hex) if data_key else got.md5_hex
        part = PartRecord(upload_id, part_number, got.size, etag, time.time(), got.blob, got.checksums,
                          got.crc, got.chunk_crcs)
        try:
            released = await self.meta.put_part(part)
        except Exception:  # not on cancellation: the commit may still land
            self.blobs.delete([got.blob])
            raise
        self.blobs.delete(released)
        return part

    async def upload_part_copy(self, bucket: BucketName, key: ObjectKey, upload_id: str, part_number: int,
                               src_bucket: BucketName, src_key: ObjectKey, src_version: VersionId | None,
                               rng: tuple[int, int] | None,
                               cond: ReadConditions | None, source_customer_key: bytes | None = None,
                               customer_key: bytes | None = None) -> tuple[ObjectRecord, PartRecord]:
        self.check_part_number(part_number)
        up = await self.upload(bucket, key, upload_id)
        data_key = self.upload_key(up, customer_key)
        src, release = await self.objects.read_held(lambda: self.objects.head(src_bucket, src_key, src_version))
        try:
            check_copy_source(cond, src.etag, src.last_modified)
            source_key = self.objects.data_key(src, source_customer_key)
            byte_range: ByteRange | None = None
            if rng is not None:
                first, last = rng
                if first >= src.size or last >= src.size or first > last:
                    raise InvalidRange(src.size)
                byte_range = ByteRange(first, last)
            algorithms = [up.checksum_algorithm] if up.checksum_algorithm else []
            got = await ingest(self.blobs, self.objects.stream(src, byte_range, source_key),
                               Integrity(algorithms=algorithms),
                               blob_cipher(up.extra, data_key) if data_key else None)
        finally:
            release()
        etag = object_etag(up.extra, data_key, got.md5_hex) if data_key else got.md5_hex
        part = PartRecord(upload_id, part_number, got.size, etag, time.time(), got.blob, got.checksums,
                          got.crc, got.chunk_crcs)
        try:
            released = await self.meta.put_part(part)
        except Exception:  # not on cancellation: the commit may still land
            self.blobs.delete([got.blob])
            raise
        self.blobs.delete(released)
        return src, part

    async def complete(self, bucket: BucketName, key: ObjectKey, upload_id: str, parts: list[CompletedPart],
                       cond: WriteCondition | None, expected_checksum: tuple[str, str] | None = None,
                       expected_size: int | None = None, customer_key: bytes | None = None) -> ObjectRecord:
        try:
            up = await self.upload(bucket, key, upload_id)
        except UploadNotFound:
            # Completing again an upload that completed answers as the first time did (as S3 does).
            current = await self.meta.get_object(bucket, key)
            if current is not None and current.facts.upload_id == upload_id:
                return current
            raise
        b = await self.objects.bucket(bucket)
        if is_customer(up.extra):
            self.upload_key(up, customer_key)
        if not parts:
            raise MalformedDocument("You must specify at least one part")
        stored = {p.part_number: p for p in await self.meta.list_parts(upload_id)}
        chosen: list[PartRecord] = []
        last = 0
        listed: dict[int, CompletedPart] = {}
        for p in parts:
            if p.part_number < last:
                raise InvalidPartOrder()
            last = p.part_number
            listed[p.part_number] = p   # a part number listed twice in a row: the last entry counts (as RGW)
        for p in listed.values():
            have = stored.get(p.part_number)
            if have is None or p.etag.strip().strip('"') != have.etag:
                raise InvalidPart()
            for alg, value in p.checksums.items():
                if have.checksums.get(alg) not in (None, value):
                    raise InvalidPart()
            chosen.append(have)
        for part in chosen[:-1]:
            if part.size < self.min_part_size:
                raise EntityTooSmall(part=str(part.part_number), size=str(part.size))
        size = sum(p.size for p in chosen)
        if expected_size is not None and expected_size != size:
            raise InvalidRequest(f"The provided 'x-amz-mp-object-size' header value {expected_size} does not match "
                                 f"what was computed: {size}")
        md5s = b"".join(bytes.fromhex(p.etag) for p in chosen)
        etag = f"{hashlib.md5(md5s).hexdigest()}-{len(chosen)}"
        object_checksums: dict[str, str] = {}
        ctype: str | None = up.checksum_type
        algorithm = up.checksum_algorithm
        if algorithm and all(algorithm in p.checksums for p in chosen):
            if ctype == "FULL_OBJECT" or (ctype is None and algorithm == "crc64nvme"):
                ctype = "FULL_OBJECT"
                object_checksums[algorithm] = checksums.combine_full_object(
                    algorithm, [(p.checksums[algorithm], p.size) for p in chosen])
            else:
                ctype = "COMPOSITE"
                object_checksums[algorithm] = (
                    checksums.composite(algorithm, [p.checksums[algorithm] for p in chosen]) + f"-{len(chosen)}")
        if expected_checksum is not None:
            expected_alg, expected_value = expected_checksum
            if object_checksums.get(expected_alg, "").split("-")[0] != expected_value.split("-")[0]:
                raise ContentDigestMismatch(f"The {expected_alg.upper()} you specified for the object did not "
                                            "match the calculated checksum.")
        extra = await new_version_extra(self.meta, b, {**up.extra, **upload_entries(upload_id)})
        rec = ObjectRecord(
            bucket=bucket, key=key, version_id=NEW_VERSION, size=size, etag=etag, last_modified=time.time(),
            owner=up.owner, content_type=up.content_type, headers=up.headers, user_meta=up.user_meta,
            checksums=object_checksums, checksum_type=ctype if object_checksums else None,
            part_sizes=[p.size for p in chosen],
            part_checksums=[p.checksums for p in chosen] if object_checksums else None,
            segments=[Segment(p.blob, p.size, p.crc) for p in chosen if p.size], tags=up.tags,
            storage_class=up.storage_class, extra=extra,
        )
        result, released = await self.meta.complete_upload(upload_id, rec, b.versioning, cond, chosen)
        self.blobs.delete(released)
        return result

    async def abort(self, bucket: BucketName, key: ObjectKey, upload_id: str) -> None:
        await self.upload(bucket, key, upload_id)
        released = await self.meta.abort_upload(upload_id)
        self.blobs.delete(released)


    async def list_parts(self, bucket: BucketName, key: ObjectKey, upload_id: str, after: int,
                         limit: int) -> tuple[UploadRecord, list[PartRecord]]:
        up = await self.upload(bucket, key, upload_id)
        return up, await self.meta.list_parts(upload_id, after, limit)

    async def list_uploads(self, bucket: BucketName, prefix: str, delimiter: str, key_marker: str | None,
                           upload_marker: str | None, max_uploads: int) -> UploadPage:
        await self.objects.bucket(bucket)
        return await self.meta.list_uploads(bucket, prefix, delimiter, key_marker, upload_marker, max_uploads)


def decode_b64(value: str) -> bytes:
    return base64.b64decode(value)
