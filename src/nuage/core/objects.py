"""Object use-cases: put, get, head, delete, copy, tagging. No HTTP here."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

from nuage.checksums import MultiHasher
from nuage.core import memo
from nuage.core.bucket_config import ENCRYPTION
from nuage.core.bucket_config import read as read_config
from nuage.core.bucket_config import write as write_config
from nuage.core.conditions import ReadConditions, check_copy_source, check_read
from nuage.core.ingest import MAX_SINGLE_PUT, Integrity, ingest
from nuage.core.lock_rules import check_lock_request, check_removable, new_version_extra
from nuage.core.names import check_key
from nuage.core.sse import (
    Keyring,
    SSESpec,
    blob_cipher,
    is_encrypted,
    object_etag,
    read_decrypted,
)
from nuage.errors import (
    BucketNotFound,
    CurrentIsDeleteMarker,
    DeleteMarkerTarget,
    InvalidArgument,
    InvalidRange,
    InvalidRequest,
    KeyNotFound,
    ObjectChanged,
    ObjectCorrupt,
    VersionNotFound,
)
from nuage.storage.blobs.base import BlobStore
from nuage.storage.blobs.inline import inline_bytes, is_inline
from nuage.storage.blobs.integrity import CRC_CHUNK, BlobCorrupt, crc32c
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import (
    BucketRecord,
    ListPage,
    ObjectRecord,
    ScrubItem,
    Segment,
    VersionPage,
    WriteCondition,
)
from nuage.types import NEW_VERSION, NULL_VERSION, BucketName, ObjectKey, VersionId

log = logging.getLogger("nuage.objects")

HOLD_ATTEMPTS = 5   # lookups of a key replaced again and again before its bytes could be held


MSG_CORRUPT = ("The object's stored data failed its integrity check and has been quarantined. It cannot be "
               "read until it is restored or deleted.")


@dataclass
class ObjectAttrs:
    """Caller-supplied attributes of a new object."""

    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    user_meta: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class ByteRange:
    start: int
    end: int            # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass
class CopySpec:
    source_bucket: BucketName
    source_key: ObjectKey
    source_version: VersionId | None
    conditions: ReadConditions | None
    replace_metadata: bool
    replace_tags: bool
    attrs: ObjectAttrs
    checksum_algorithm: str | None = None
    storage_class_set: bool = False
    encryption_set: bool = False
    sse: SSESpec | None = None                  # the destination's encryption (None: the bucket default)
    source_customer_key: bytes | None = None    # SSE-C key of the source


class ObjectService:
    def __init__(self, meta: MetadataStore, blobs: BlobStore, keyring: Keyring | None = None) -> None:
        self.meta = meta
        self.blobs = blobs
        self._keyring = keyring

    @property
    def keyring(self) -> Keyring:
        if self._keyring is None:
            self._keyring = Keyring.load(self.blobs.root.parent)
        return self._keyring

    # -- encryption -------------------------------------------------------------------------------
    async def default_sse(self, b: BucketRecord) -> SSESpec | None:
        return await read_config(self.meta, b.name, ENCRYPTION)  # cached by the store, exact

    async def get_default_sse(self, bucket: BucketName) -> SSESpec:
        b = await self.bucket(bucket)
        spec = await self.default_sse(b)
        if spec is None:
            raise ENCRYPTION.missing(bucket)
        return spec

    async def set_default_sse(self, bucket: BucketName, spec: SSESpec | None) -> None:
        await self.bucket(bucket)
        await write_config(self.meta, bucket, ENCRYPTION, spec)

    def data_key(self, rec: ObjectRecord, customer_key: bytes | None) -> bytes | None:
        """The data key to read ``rec`` (None when it is not encrypted); checks an SSE-C key."""
        return self.keyring.open(rec.extra, customer_key)

    async def encryption_for(self, b: BucketRecord, attrs: ObjectAttrs,
                          sse: SSESpec | None) -> tuple[bytes | None, ObjectAttrs]:
        """A new data key (None: no encryption) and the attributes that record it."""
        if sse is None:
            sse = await self.default_sse(b)
            if sse is None:
                return None, attrs
        data_key, entries = self.keyring.seal(sse)
        return data_key, replace(attrs, extra={**attrs.extra, **entries})

    async def bucket(self, name: BucketName) -> BucketRecord:
        rec = await memo.bucket(self.meta, name)
        if rec is None:
            raise BucketNotFound(bucket=name)
        return rec

    async def release(self, blobs: list[str]) -> None:
        if blobs:
            self.blobs.delete(blobs)

    # -- write ------------------------------------------------------------------------------------
    async def put(self, bucket: BucketName, key: ObjectKey, body: AsyncIterator[bytes], integrity: Integrity,
                  attrs: ObjectAttrs, owner: str, cond: WriteCondition | None = None,
                  sse: SSESpec | None = None) -> ObjectRecord:
        check_key(key)
        b = await self.bucket(bucket)
        check_lock_request(b, attrs.extra)
        data_key, attrs = await self.encryption_for(b, attrs, sse)
        got = await ingest(self.blobs, body, integrity, blob_cipher(attrs.extra, data_key) if data_key else None)
        try:
            extra = await new_version_extra(self.meta, b, attrs.extra)
        except BaseException:
            self.blobs.delete([got.blob])
            raise
        rec = ObjectRecord(
            bucket=bucket, key=key, version_id=NEW_VERSION, size=got.size, last_modified=time.time(),
            etag=object_etag(attrs.extra, data_key, got.md5_hex) if data_key else got.md5_hex,
            owner=owner, content_type=attrs.content_type, headers=attrs.headers, user_meta=attrs.user_meta,
            checksums=got.checksums, checksum_type="FULL_OBJECT" if got.checksums else None,
            segments=[Segment(got.blob, got.size, got.crc, got.chunk_crcs)] if got.size else [], tags=attrs.tags,
            storage_class=attrs.storage_class, extra=extra,
        )
        if not got.size:
            self.blobs.delete([got.blob])
        try:
            stored, released = await self.meta.put_object(rec, b.versioning, cond)
        except Exception:  # not on cancellation: the commit may still land
            self.blobs.delete([got.blob])
            raise
        await self.release(released)
        return stored

    # -- read -------------------------------------------------------------------------------------
    async def head(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None) -> ObjectRecord:
        await self.bucket(bucket)
        rec = await self.meta.get_object(bucket, key, version_id)
        if rec is None:
            if version_id is not None:
                if version_id != NULL_VERSION and not _plausible_version(version_id):
                    raise InvalidArgument("Invalid version id specified", argument="versionId")
                raise VersionNotFound(key=key, version=version_id)
            raise KeyNotFound(key=key)
        if rec.delete_marker:
            if version_id is not None:
                raise DeleteMarkerTarget(rec.version_id, rec.last_modified)
            raise CurrentIsDeleteMarker(rec.version_id)
        return rec

    async def read_checked(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None,
                     cond: ReadConditions | None) -> ObjectRecord:
        rec = await self.head(bucket, key, version_id)
        check_intact(rec)
        check_read(cond, rec.etag, rec.last_modified)
        return rec

    async def whole_inline(self, rec: ObjectRecord, data_key: bytes | None) -> bytes | None:
        """All the bytes of a small unencrypted object kept in its metadata row, or None (stream it).
        They are checked against their CRC on every read (a record may come from the store's cache, but
        what it holds was read from the row): damaged, they are quarantined and ObjectCorrupt raised."""
        if data_key is not None or len(rec.segments) != 1 or not is_inline(rec.segments[0].blob) or (
                is_encrypted(rec.extra)):
            return None
        seg = rec.segments[0]
        data = inline_bytes(seg.blob)
        if seg.crc is not None and (len(data) != rec.size or crc32c(data) != seg.crc):
            raise await self._corrupt(rec, seg, BlobCorrupt("row", "CRC32C of the bytes kept in the row "
                                                                  "does not match"))
        if len(data) != rec.size:
            raise OSError(f"inline blob is shorter than its metadata says ({len(data)} < {rec.size})")
        return data

    async def _corrupt(self, rec: ObjectRecord, seg: Segment, exc: BlobCorrupt) -> ObjectCorrupt:
        """Log a damaged blob of ``rec``, quarantine the version, and return the error to raise."""
        log.error("damaged bytes in %s/%s (version %s): %s", rec.bucket, rec.key, rec.version_id, exc)
        try:
            self.blobs.keep_evidence(seg.blob)
            await self.meta.quarantine(ScrubItem(rec.seq, rec.bucket, rec.key, rec.version_id, seg.blob, seg.crc),
                                       "read", exc.detail)
        except Exception:   # the read is refused all the same; a scrub records it later
            log.exception("could not quarantine %s/%s", rec.bucket, rec.key)
        return ObjectCorrupt(MSG_CORRUPT, key=rec.key)

    def hold(self, rec: ObjectRecord) -> Callable[[], None] | None:
        """Keep the bytes of ``rec`` readable, even if it is overwritten or deleted meanwhile, until the
        returned function is called; None when it was replaced since it was looked up (look again)."""
        files = [seg.blob for seg in rec.segments if not is_inline(seg.blob)]
        if not files:
            return _nothing
        if not self.blobs.hold(files):
            return None
        return functools.partial(self.blobs.release, files)

    async def read_held(self, lookup: Callable[[], Awaitable[ObjectRecord]]) -> tuple[ObjectRecord, Callable[[], None]]:
        """The record ``lookup`` finds with its bytes held (see :meth:`hold`), looked up again when it
        was replaced in between."""
        for _ in range(HOLD_ATTEMPTS):
            rec = await lookup()
            release = self.hold(rec)
            if release is not None:
                return rec, release
        raise ObjectChanged()

    async def stream(self, rec: ObjectRecord, rng: ByteRange | None = None,
                     data_key: bytes | None = None) -> AsyncIterator[bytes]:
        """The (plaintext) bytes of an object; encrypted objects need their ``data_key`` (SSE-S3 and
        SSE-KMS ones are opened here when it is not given). Its bytes stay readable until the stream
        is done (ObjectChanged when they were gone before it began)."""
        check_intact(rec)
        release = self.hold(rec)
        if release is None:
            raise ObjectChanged()
        try:
            async for chunk in self._stream(rec, rng, data_key):
                yield chunk
        finally:
            release()

    async def _stream(self, rec: ObjectRecord, rng: ByteRange | None,
                      data_key: bytes | None) -> AsyncIterator[bytes]:
        if data_key is None and is_encrypted(rec.extra):
            data_key = self.data_key(rec, None)
        sse = rec.facts.sse
        gcm = sse is not None and sse.gcm
        start = rng.start if rng else 0
        end = rng.end if rng else rec.size - 1
        pos = 0
        for seg in rec.segments:
            seg_start, seg_end = pos, pos + seg.size - 1
            pos += seg.size
            if seg_end < start:
                continue
            if seg_start > end:
                break
            lo = max(start, seg_start) - seg_start
            hi = min(end, seg_end) - seg_start
            # A read of a whole segment is checked against its blob's CRC, a read of part of one against
            # the CRCs of the chunks it covers. The segment of bytes kept in the row counts what is
            # stored (an encrypted one, its header too).
            whole = lo == 0 and (hi == seg.size - 1 or (len(rec.segments) == 1 and hi == rec.size - 1))
            crc = seg.crc if whole else None
            if data_key is not None:
                parts = read_decrypted(self.blobs, seg.blob, data_key, lo, hi - lo + 1, crc,
                                       gcm=gcm,
                                       plain_size=rec.size if len(rec.segments) == 1 else seg.size)
            elif crc is None and seg.crc is not None:
                parts = self._part_checked(seg, lo, hi - lo + 1)
            else:
                parts = self.blobs.read(seg.blob, lo, hi - lo + 1, crc)
            try:
                async for chunk in parts:
                    yield chunk
            except BlobCorrupt as exc:
                raise await self._corrupt(rec, seg, exc) from exc

    def _part_checked(self, seg: Segment, offset: int, length: int) -> AsyncIterator[bytes]:
        """Part of an unencrypted blob, checked: a small blob (one chunk) is read whole against its CRC,
        a larger one chunk by chunk against the CRCs of the chunks the range covers. Blobs written without
        chunk CRCs are read unchecked."""
        if is_inline(seg.blob) or seg.size <= CRC_CHUNK:
            return _slice(self.blobs.read(seg.blob, 0, seg.size, seg.crc), offset, length)
        first, last = offset // CRC_CHUNK, (offset + length - 1) // CRC_CHUNK
        crcs = self.meta.blob_chunk_crcs(seg.blob, first, last - first + 1)
        if crcs is None:
            return self.blobs.read(seg.blob, offset, length)
        return self.blobs.read_checked(seg.blob, seg.size, offset, length, crcs)

    async def opened(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """``stream`` with its first piece read already: a response whose bytes fit in one piece is
        checked before it begins, so a damaged object is answered with an error rather than a
        dropped connection."""
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            return _pieces(b"", stream)
        except BaseException:
            await stream.aclose()  # type: ignore[attr-defined]
            raise
        return _pieces(first, stream)

    # -- delete -----------------------------------------------------------------------------------
    async def delete(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None, owner: str, *,
                     bypass_governance: bool = False) -> ObjectRecord | None:
        """Remove a version (refused while Object Lock protects it) or, without ``version_id`` on a
        versioned bucket, add a delete marker."""
        b = await self.bucket(bucket)
        if version_id is not None and version_id != NULL_VERSION and not _plausible_version(version_id):
            raise InvalidArgument("Invalid version id specified", argument="versionId")

        def guard(rec: ObjectRecord) -> None:
            check_removable(rec, bypass_governance)

        removed, released = await self.meta.delete_object(bucket, key, version_id, b.versioning, owner,
                                                          guard if b.object_lock else None)
        await self.release(released)
        return removed

    # -- copy -------------------------------------------------------------------------------------
    async def copy(self, bucket: BucketName, key: ObjectKey, spec: CopySpec, owner: str,
                   cond: WriteCondition | None = None) -> tuple[ObjectRecord, ObjectRecord]:
        check_key(key)
        dest_bucket = await self.bucket(bucket)
        check_lock_request(dest_bucket, spec.attrs.extra)
        src, release = await self.read_held(
            lambda: self.head(spec.source_bucket, spec.source_key, spec.source_version))
        try:
            return src, await self._copy(dest_bucket, key, spec, src, owner, cond)
        finally:
            release()

    async def _copy(self, dest_bucket: BucketRecord, key: ObjectKey, spec: CopySpec, src: ObjectRecord, owner: str,
                    cond: WriteCondition | None) -> ObjectRecord:
        bucket = dest_bucket.name
        check_copy_source(spec.conditions, src.etag, src.last_modified)
        same = spec.source_bucket == bucket and spec.source_key == key and spec.source_version in (
            None, src.version_id) and src.is_latest
        if same and not spec.replace_metadata and not spec.storage_class_set and not spec.encryption_set:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without "
                "changing the object's metadata, storage class, website redirect location or encryption "
                "attributes."
            )
        if src.size > MAX_SINGLE_PUT:
            raise InvalidRequest("The specified copy source is larger than the maximum allowable size for a "
                                 "copy source: 5368709120")
        attrs = spec.attrs if spec.replace_metadata else ObjectAttrs(
            content_type=src.content_type, headers=dict(src.headers), user_meta=dict(src.user_meta),
            storage_class=spec.attrs.storage_class, extra=dict(spec.attrs.extra),
        )
        tags = spec.attrs.tags if spec.replace_tags else dict(src.tags)
        algorithms = [spec.checksum_algorithm] if spec.checksum_algorithm else list(src.checksums)
        source_key = self.data_key(src, spec.source_customer_key)
        data_key, attrs = await self.encryption_for(dest_bucket, attrs, spec.sse)
        cipher = blob_cipher(attrs.extra, data_key) if data_key else None
        hasher = MultiHasher(algorithms)
        writer = self.blobs.writer(chunk_crcs=cipher is None)
        try:
            if cipher is not None:
                await writer.write(cipher.header)
            async for chunk in self.stream(src, data_key=source_key):
                hasher.update(chunk)
                await writer.write(chunk if cipher is None else cipher.update(chunk))
            if cipher is not None:
                await writer.write(cipher.final())
            blob = await writer.finish()
        except BaseException:
            writer.abort()
            raise
        etag = hasher.md5_hex() if data_key is None else object_etag(attrs.extra, data_key, hasher.md5_hex())
        try:
            extra = await new_version_extra(self.meta, dest_bucket, attrs.extra)
        except BaseException:
            self.blobs.delete([blob])
            raise
        rec = ObjectRecord(
            bucket=bucket, key=key, version_id=NEW_VERSION, size=src.size, etag=etag, last_modified=time.time(),
            owner=owner, content_type=attrs.content_type, headers=attrs.headers, user_meta=attrs.user_meta,
            checksums=hasher.checksums(), checksum_type="FULL_OBJECT" if algorithms else None,
            segments=[Segment(blob, src.size, writer.crc, writer.chunk_crcs)] if src.size else [], tags=tags,
            storage_class=attrs.storage_class, extra=extra,
        )
        if not src.size:
            self.blobs.delete([blob])
        try:
            stored, released = await self.meta.put_object(rec, dest_bucket.versioning, cond)
        except Exception:  # not on cancellation: the commit may still land
            self.blobs.delete([blob])
            raise
        await self.release(released)
        return stored

    # -- listing ----------------------------------------------------------------------------------
    async def list(self, bucket: BucketName, prefix: str, delimiter: str, marker: str | None,
                   max_keys: int) -> ListPage:
        await self.bucket(bucket)
        return await self.meta.list_objects(bucket, prefix, delimiter, marker, max_keys)

    async def list_versions(self, bucket: BucketName, prefix: str, delimiter: str, key_marker: str | None,
                            version_marker: str | None, max_keys: int) -> VersionPage:
        await self.bucket(bucket)
        return await self.meta.list_versions(bucket, prefix, delimiter, key_marker, version_marker, max_keys)

    async def find(self, bucket: BucketName, key: ObjectKey,
                   version_id: VersionId | None = None) -> ObjectRecord | None:
        return await self.meta.get_object(bucket, key, version_id)

    async def current(self, bucket: BucketName, key: ObjectKey) -> ObjectRecord | None:
        """The latest version of a key (maybe a delete marker), or None."""
        return await self.meta.get_object(bucket, key)

    # -- tagging ----------------------------------------------------------------------------------
    async def get_tags(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None) -> ObjectRecord:
        return await self.head(bucket, key, version_id)

    async def set_tags(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None,
                       tags: dict[str, str]) -> ObjectRecord:
        await self.head(bucket, key, version_id)
        return await self.meta.set_object_tags(bucket, key, version_id, tags)

    async def update_extra(self, bucket: BucketName, key: ObjectKey, version_id: VersionId | None,
                           changes: dict[str, str | None]) -> ObjectRecord:
        await self.head(bucket, key, version_id)
        return await self.meta.update_object_extra(bucket, key, version_id, changes)


def _plausible_version(version_id: str) -> bool:
    return len(version_id) == 32 and all(c in "0123456789abcdef" for c in version_id)


def resolve_range(spec: tuple[int | None, int | None], size: int) -> ByteRange:
    """(first, last) from a Range header to an absolute range; suffix ranges longer than the object
    give the whole object; a range that starts past the end is unsatisfiable."""
    first, last = spec
    if first is None:
        assert last is not None
        if last == 0:
            raise InvalidRange(size)
        return ByteRange(max(0, size - last), size - 1) if size else _empty(size)
    if first >= size:
        raise InvalidRange(size)
    end = size - 1 if last is None or last >= size else last
    return ByteRange(first, end)


def _empty(size: int) -> ByteRange:
    raise InvalidRange(size)


def check_intact(rec: ObjectRecord) -> None:
    """Refuse a version whose bytes were found damaged (by an earlier read or a scrub)."""
    if rec.facts.quarantined:
        raise ObjectCorrupt(MSG_CORRUPT, key=rec.key)


async def _slice(pieces: AsyncIterator[bytes], offset: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes from ``offset`` of what ``pieces`` yield."""
    pos = 0
    async for piece in pieces:
        lo, hi = max(offset - pos, 0), min(offset + length - pos, len(piece))
        pos += len(piece)
        if lo < hi:
            yield piece[lo:hi]


async def _pieces(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for piece in rest:
            yield piece
    finally:
        await rest.aclose()  # type: ignore[attr-defined]


def _nothing() -> None:
    """The release of a hold on an object whose bytes all live in its metadata."""
