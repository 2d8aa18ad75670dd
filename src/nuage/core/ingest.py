"""Streaming a request body into a new blob: hash while writing, verify, make durable."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from nuage.checksums import MultiHasher
from nuage.core.sse import CtrBlobCipher, GcmBlobCipher
from nuage.errors import BadDigest, ChecksumMismatch, ContentSHA256Mismatch, EntityTooLarge, IncompleteBody
from nuage.storage.blobs.base import BlobStore
from nuage.types import BlobId

MAX_OBJECT_SIZE = 5 * 1024**4
MAX_SINGLE_PUT = 5 * 1024**3


@dataclass
class Integrity:
    """What the client promised about the body; checked before anything is committed."""

    content_md5: str | None = None                   # base64, from Content-MD5
    sha256_hex: str | None = None                    # from x-amz-content-sha256 when it is a hash
    length: int | None = None                        # decoded length the client declared
    algorithms: list[str] = field(default_factory=list)        # checksums to compute and store
    expected: dict[str, str] = field(default_factory=dict)     # algorithm -> base64, known up front
    late_expected: Callable[[], dict[str, str]] | None = None  # trailer checksums, known after the body
    max_size: int = MAX_SINGLE_PUT


@dataclass
class Ingested:
    blob: BlobId
    size: int
    md5_hex: str
    checksums: dict[str, str]
    crc: int | None = None      # CRC32C of the blob as stored (ciphertext when encrypted)
    chunk_crcs: bytes | None = None   # CRC32C of each chunk of an unencrypted blob file of several chunks


async def ingest(blobs: BlobStore, body: AsyncIterator[bytes], integrity: Integrity,
                 cipher: GcmBlobCipher | CtrBlobCipher | None = None) -> Ingested:
    """Hash the plaintext; write it, or with ``cipher`` its encryption (after the cipher's header)."""
    algorithms = list(dict.fromkeys(integrity.algorithms))
    hasher = MultiHasher(algorithms)
    sha = hashlib.sha256() if integrity.sha256_hex else None
    writer = blobs.writer(chunk_crcs=cipher is None)   # encrypted chunks carry tags instead
    try:
        if cipher is not None:
            await writer.write(cipher.header)
        async for chunk in body:
            hasher.update(chunk)
            if sha is not None:
                sha.update(chunk)
            if hasher.size > integrity.max_size:
                raise EntityTooLarge()
            await writer.write(chunk if cipher is None else cipher.update(chunk))
        if cipher is not None:
            await writer.write(cipher.final())   # the last chunk is sealed once it is known to be the last
        if integrity.length is not None and hasher.size < integrity.length:
            raise IncompleteBody()
        if sha is not None and sha.hexdigest() != integrity.sha256_hex:
            raise ContentSHA256Mismatch()
        if integrity.content_md5 is not None and hasher.md5_b64() != integrity.content_md5:
            raise BadDigest()
        computed = hasher.checksums()
        expected = dict(integrity.expected)
        if integrity.late_expected is not None:
            expected.update(integrity.late_expected())
        for algorithm, value in expected.items():
            if computed.get(algorithm) != value:
                raise ChecksumMismatch(
                    f"The {algorithm.upper()} you specified did not match the calculated checksum.",
                    algorithm=algorithm,
                )
        blob = await writer.finish()
    except BaseException:
        writer.abort()
        raise
    return Ingested(blob, hasher.size, hasher.md5_hex(), computed, writer.crc, writer.chunk_crcs)


def valid_md5_header(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 16
    except (ValueError, TypeError):
        return False
