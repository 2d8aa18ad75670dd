"""Server-side encryption at rest: the master key, per-object data keys and AES-256-CTR blob streams.

Every encrypted object (or multipart upload) has its own random 256-bit data key. The data key is
stored in the object's metadata only wrapped (AES-256-GCM) by a wrapping key:

- SSE-S3 (``AES256``) and SSE-KMS (``aws:kms``, emulated locally): the server's master key, which
  lives in ``DATA/keys/master.key`` (mode 0600, created on first start) or comes from
  ``NUAGE_MASTER_KEY`` (base64 of 32 bytes). It is never written to the metadata store.
- SSE-C: the customer's key. Only a salted HMAC of that key (to recognise it later) and its MD5
  (which S3 echoes) are stored, never the key.

Blob bytes are sealed with AES-256-GCM in chunks of 64 KiB (``sse-format: gcm`` in the metadata): each
blob starts with its own random 8-byte nonce prefix, and each chunk is followed by its 16-byte tag; the
nonce of chunk ``i`` is the prefix and ``i``, and the chunk's associated data says whether it is the
last, so chunks cannot be reordered, moved between blobs (parts of one upload share a key, never a
prefix) or cut off. A read of any range decrypts only the chunks it covers and checks each one: damaged
or altered bytes are never handed out, even by a range read.

Objects written before (no ``sse-format``) are AES-256-CTR: the blob starts with its own random 16-byte
initial counter block, and a read can start at any offset (the counter block for byte ``n`` is
``iv + n // 16``). They stay readable as they are; parts of an upload begun before are written that way too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nuage.errors import AccessDenied, InvalidRequest, NuageError
from nuage.storage.blobs.base import BlobStore
from nuage.storage.blobs.integrity import BlobCorrupt
from nuage.storage.meta.extra import Facts, Sse

SSE_S3 = "AES256"
SSE_KMS = "aws:kms"
SSE_KMS_DSSE = "aws:kms:dsse"
SSE_C = "SSE-C"
SERVER_ALGORITHMS = (SSE_S3, SSE_KMS, SSE_KMS_DSSE)
DEFAULT_KMS_KEY_ID = "nuage-default"
MASTER_KEY_PATH = Path("keys") / "master.key"
HEADER_SIZE = 16            # AES-CTR blobs: the random initial counter block at their start
KEY_SIZE = 32
GCM_CHUNK = 64 * 1024       # plaintext bytes per sealed chunk
GCM_TAG = 16
GCM_PREFIX = 8              # GCM blobs: the random nonce prefix at their start


log = logging.getLogger("nuage.sse")

MSG_KEY_REQUIRED = ("The object was stored using a form of Server Side Encryption. The correct parameters must be "
                    "provided to retrieve the object.")
MSG_KEY_MISMATCH = "The provided encryption parameters did not match the ones used originally."
MSG_NOT_ENCRYPTED = "The encryption parameters are not applicable to this object."


class DataKeyUnopenable(NuageError):
    """An object's data key does not open with the server's master key (another key than the one that sealed
    it): the read fails (500 InternalError) and says why in the server's log, never to the client."""

    default_message = "We encountered an internal error. Please try again."


@dataclass(frozen=True)
class SSESpec:
    """The encryption a write asked for (from its headers or the bucket's default)."""

    algorithm: str                          # SSE_S3, SSE_KMS, SSE_KMS_DSSE or SSE_C
    kms_key_id: str | None = None
    customer_key: bytes | None = None
    bucket_key_enabled: bool = False

    def to_config(self) -> str:
        """The stored form of a bucket's default encryption."""
        return json.dumps({"algorithm": self.algorithm, "kms_key_id": self.kms_key_id,
                           "bucket_key": self.bucket_key_enabled})

    @classmethod
    def from_config(cls, raw: str) -> SSESpec:
        doc = json.loads(raw)
        return cls(str(doc["algorithm"]), doc.get("kms_key_id"), None, bool(doc.get("bucket_key")))


# An object's or upload's encryption is kept in its ``extra`` map, read and written through the typed
# codec of nuage.storage.meta.extra (Facts, Sse).
def is_encrypted(extra: Mapping[str, str]) -> bool:
    return Facts(extra).sse_algorithm is not None


def is_customer(extra: Mapping[str, str]) -> bool:
    return Facts(extra).sse_algorithm == SSE_C


def customer_key_md5(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def customer_key_matches(extra: Mapping[str, str], key: bytes) -> bool:
    sse = Facts(extra).sse
    if sse is None or sse.customer_mac is None:
        return False
    raw = base64.b64decode(sse.customer_mac)
    salt, mac = raw[:16], raw[16:]
    return hmac.compare_digest(hmac.new(salt, key, hashlib.sha256).digest(), mac)


def _aad(sse: Sse) -> bytes:
    return f"nuage-sse\0{sse.algorithm}\0{sse.kms_key_id or ''}".encode()


class Keyring:
    """Makes and opens per-object data keys with the server's master key (or a customer's key)."""

    def __init__(self, master: bytes) -> None:
        if len(master) != KEY_SIZE:
            raise ValueError("the master key must be 32 bytes")
        self._master = AESGCM(master)

    @classmethod
    def load(cls, data_dir: Path, env_value: str | None = None,
             sealed: Callable[[], Mapping[str, str] | None] | None = None) -> Keyring:
        """The master key of ``env_value`` or of DATA/keys/master.key (created when missing). ``sealed``
        tells of one stored object or upload sealed with the master key (None: there is none): then a
        missing key file is not created, as a new key would not open them; ValueError naming the file."""
        path = data_dir / MASTER_KEY_PATH
        if not env_value and sealed is not None and not path.exists() and sealed() is not None:
            raise ValueError(f"{path} is missing, and the metadata holds objects encrypted with the key it held "
                             f"(SSE-S3, SSE-KMS): restore it from a backup (or set NUAGE_MASTER_KEY to that key)")
        return cls(load_master_key(data_dir, env_value))

    def seal(self, spec: SSESpec) -> tuple[bytes, dict[str, str]]:
        """A new data key and the metadata entries that record it (wrapped) with the algorithm."""
        data_key = os.urandom(KEY_SIZE)
        if spec.algorithm == SSE_C:
            assert spec.customer_key is not None
            salt = os.urandom(16)
            sse = Sse(spec.algorithm, gcm=True, customer_md5=customer_key_md5(spec.customer_key),
                      customer_mac=base64.b64encode(
                          salt + hmac.new(salt, spec.customer_key, hashlib.sha256).digest()).decode())
            wrapper = AESGCM(spec.customer_key)
        else:
            kms_key = spec.kms_key_id or DEFAULT_KMS_KEY_ID if spec.algorithm != SSE_S3 else None
            sse = Sse(spec.algorithm, gcm=True, kms_key_id=kms_key, bucket_key=spec.bucket_key_enabled)
            wrapper = self._master
        nonce = os.urandom(12)
        wrapped = base64.b64encode(nonce + wrapper.encrypt(nonce, data_key, _aad(sse))).decode()
        return data_key, replace(sse, wrapped_key=wrapped).entries()

    def open(self, extra: Mapping[str, str], customer_key: bytes | None) -> bytes | None:
        """The data key of an object (None when it is not encrypted). SSE-C objects need the customer's
        key: without it InvalidRequest, with another one AccessDenied."""
        sse = Facts(extra).sse
        if sse is None:
            if customer_key is not None:
                raise InvalidRequest(MSG_NOT_ENCRYPTED)
            return None
        algorithm = sse.algorithm
        if algorithm == SSE_C:
            if customer_key is None:
                raise InvalidRequest(MSG_KEY_REQUIRED)
            if not customer_key_matches(extra, customer_key):
                raise AccessDenied()
            wrapper = AESGCM(customer_key)
        else:
            if customer_key is not None:
                raise InvalidRequest(MSG_NOT_ENCRYPTED)
            wrapper = self._master
        raw = base64.b64decode(sse.wrapped_key)
        try:
            return wrapper.decrypt(raw[:12], raw[12:], _aad(sse))
        except InvalidTag:
            if algorithm == SSE_C:
                raise AccessDenied() from None
            log.error("the data key of an object encrypted with %s does not open with this server's master key "
                      "(DATA/%s or $NUAGE_MASTER_KEY is not the key that sealed it): restore that key from a "
                      "backup", algorithm, MASTER_KEY_PATH)
            raise DataKeyUnopenable() from None


def object_etag(extra: Mapping[str, str], data_key: bytes, md5_hex: str) -> str:
    """The ETag of an encrypted object or part. As on S3, it stays the MD5 of the plaintext for SSE-S3;
    for SSE-C and SSE-KMS it is an opaque value that does not reveal the plaintext's MD5."""
    if Facts(extra).sse_algorithm == SSE_S3:
        return md5_hex
    return hmac.new(data_key, b"etag\0" + bytes.fromhex(md5_hex), hashlib.sha256).hexdigest()[:32]


class GcmBlobCipher:
    """Encrypts one new blob chunk by chunk: ``header`` (the nonce prefix) first, then what ``update``
    returns for each piece of plaintext, then ``final()`` (the last chunk is sealed only once it is known
    to be the last)."""

    def __init__(self, data_key: bytes) -> None:
        self.header = os.urandom(GCM_PREFIX)
        self._aead = AESGCM(data_key)
        self._pending = bytearray()   # plaintext of the chunk not sealed yet (up to a whole chunk)
        self._index = 0

    def _seal(self, plain: bytes | bytearray | memoryview, last: bool) -> bytes:
        sealed = self._aead.encrypt(_gcm_nonce(self.header, self._index), plain, _gcm_aad(self._index, last))
        self._index += 1
        return sealed

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        view = memoryview(data).cast("B")
        out = []
        if self._pending:
            need = GCM_CHUNK - len(self._pending)
            if len(view) <= need:
                self._pending += view
                return b""
            self._pending += view[:need]
            view = view[need:]
            out.append(self._seal(self._pending, False))
            self._pending = bytearray()
        while len(view) > GCM_CHUNK:
            out.append(self._seal(view[:GCM_CHUNK], False))
            view = view[GCM_CHUNK:]
        self._pending += view
        return b"".join(out)

    def final(self) -> bytes:
        if not self._pending:
            return b""   # nothing written at all (an empty blob has no chunk)
        last, self._pending = self._pending, bytearray()
        return self._seal(last, True)


class CtrBlobCipher:
    """Encrypts one new blob in the earlier format (parts of uploads begun before): ``header`` (the
    initial counter block) first, then ``update`` per piece; ``final()`` adds nothing."""

    def __init__(self, data_key: bytes) -> None:
        self.header = os.urandom(HEADER_SIZE)
        self._ctx = Cipher(algorithms.AES(data_key), modes.CTR(self.header)).encryptor()

    def update(self, data: bytes | bytearray | memoryview) -> bytes:
        return self._ctx.update(data)

    def final(self) -> bytes:
        return b""


BlobCipher = GcmBlobCipher   # what a new blob is encrypted with, next to the entries Keyring.seal returns


def blob_cipher(extra: Mapping[str, str], data_key: bytes) -> GcmBlobCipher | CtrBlobCipher:
    """The cipher for a new blob of the object or upload whose metadata is ``extra``."""
    sse = Facts(extra).sse
    return GcmBlobCipher(data_key) if sse is not None and sse.gcm else CtrBlobCipher(data_key)


def _gcm_nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(4, "big")


def _gcm_aad(index: int, last: bool) -> bytes:
    return b"nuage-sse-chunk\0" + index.to_bytes(8, "big") + (b"\1" if last else b"\0")


def gcm_stored_size(plain_size: int) -> int:
    """Bytes on disk of a GCM blob of ``plain_size`` plaintext bytes."""
    return GCM_PREFIX + plain_size + -(-plain_size // GCM_CHUNK) * GCM_TAG


def _decryptor(data_key: bytes, iv: bytes, offset: int) -> CipherContext:
    block, skip = divmod(offset, 16)
    counter = (int.from_bytes(iv, "big") + block) % (1 << 128)
    ctx = Cipher(algorithms.AES(data_key), modes.CTR(counter.to_bytes(16, "big"))).decryptor()
    if skip:
        ctx.update(bytes(skip))
    return ctx


async def read_decrypted(blobs: BlobStore, blob_id: str, data_key: bytes, offset: int,
                         length: int, crc: int | None = None, *, gcm: bool = False,
                         plain_size: int | None = None) -> AsyncIterator[bytes]:
    """``length`` plaintext bytes of an encrypted blob (``gcm``: sealed with AES-GCM; ``plain_size``: all its
    plaintext, needed for GCM) from plaintext ``offset``. With ``crc`` (the read covers the whole
    plaintext) the whole blob, header included, is read in one pass and checked."""
    if gcm:
        assert plain_size is not None
        async for piece in _read_gcm(blobs, blob_id, AESGCM(data_key), offset, length, plain_size, crc):
            yield piece
        return
    if crc is not None and offset == 0:
        pieces = blobs.read(blob_id, 0, HEADER_SIZE + length, crc)
        head = b""
        ctx: CipherContext | None = None
        async for piece in pieces:
            if ctx is None:
                head += piece
                if len(head) < HEADER_SIZE:
                    continue
                ctx = _decryptor(data_key, head[:HEADER_SIZE], 0)
                piece = head[HEADER_SIZE:]
                if not piece:
                    continue
            yield ctx.update(piece)
        return
    iv = b"".join([chunk async for chunk in blobs.read(blob_id, 0, HEADER_SIZE)])
    ctx = _decryptor(data_key, iv, offset)
    async for chunk in blobs.read(blob_id, HEADER_SIZE + offset, length):
        yield ctx.update(chunk)


async def _read_gcm(blobs: BlobStore, blob_id: str, aead: AESGCM, offset: int, length: int, plain_size: int,
                    crc: int | None) -> AsyncIterator[bytes]:
    """Open the chunks that hold plaintext [offset, offset + length), each checked by its tag."""
    if length <= 0:
        return
    chunks = -(-plain_size // GCM_CHUNK)
    first, last = offset // GCM_CHUNK, (offset + length - 1) // GCM_CHUNK
    start = GCM_PREFIX + first * (GCM_CHUNK + GCM_TAG)
    end = GCM_PREFIX + last * (GCM_CHUNK + GCM_TAG) + min(GCM_CHUNK, plain_size - last * GCM_CHUNK) + GCM_TAG
    if crc is not None:   # the whole blob: its prefix comes with it
        pieces = blobs.read(blob_id, 0, end, crc)
        prefix = b""
    else:
        prefix = b"".join([p async for p in blobs.read(blob_id, 0, GCM_PREFIX)])
        pieces = blobs.read(blob_id, start, end - start)
    buf = bytearray()
    index, skip, left = first, offset - first * GCM_CHUNK, length
    async for piece in pieces:
        if len(prefix) < GCM_PREFIX:
            take = GCM_PREFIX - len(prefix)
            prefix += piece[:take]
            piece = piece[take:]
        buf += piece
        out = []
        pos = 0
        with memoryview(buf) as view:   # released before buf is shortened
            while left > 0:
                size = min(GCM_CHUNK, plain_size - index * GCM_CHUNK) + GCM_TAG
                if len(buf) - pos < size:
                    break
                try:
                    plain = aead.decrypt(_gcm_nonce(prefix, index), view[pos:pos + size],
                                         _gcm_aad(index, index == chunks - 1))
                except InvalidTag:
                    raise BlobCorrupt(blob_id, f"encrypted chunk {index} fails its authentication") from None
                pos += size
                index += 1
                if skip or len(plain) > left:
                    plain = plain[skip:skip + left]
                    skip = 0
                left -= len(plain)
                out.append(plain)
        del buf[:pos]
        if out:
            yield out[0] if len(out) == 1 else b"".join(out)
    if left > 0:
        raise BlobCorrupt(blob_id, "the file is shorter than its metadata says")


def load_master_key(data_dir: Path, env_value: str | None = None) -> bytes:
    """The master key: from ``env_value`` (base64) when given, else from DATA/keys/master.key,
    created (0600, in a 0700 folder) on first use."""
    if env_value:
        try:
            key = base64.b64decode(env_value.strip(), validate=True)
        except ValueError as exc:
            raise ValueError("NUAGE_MASTER_KEY is not valid base64") from exc
        if len(key) != KEY_SIZE:
            raise ValueError("NUAGE_MASTER_KEY must be the base64 of 32 bytes")
        return key
    path = data_dir / MASTER_KEY_PATH
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".master.key.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, base64.b64encode(os.urandom(KEY_SIZE)) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)       # never replaces a key another process made meanwhile
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    key = base64.b64decode(path.read_bytes().strip(), validate=True)
    if len(key) != KEY_SIZE:
        raise ValueError(f"{path} does not hold the base64 of a 32-byte key")
    return key
