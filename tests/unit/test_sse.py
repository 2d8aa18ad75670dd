"""Server-side encryption primitives: AES-GCM chunks readable from any offset and refusing altered
bytes, the earlier AES-CTR streams still readable from any offset, data-key wrapping, the master key
file."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from pathlib import Path

import pytest

from nuage.core.sse import (
    DEFAULT_KMS_KEY_ID,
    GCM_CHUNK,
    GCM_PREFIX,
    GCM_TAG,
    HEADER_SIZE,
    SSE_C,
    SSE_KMS,
    SSE_S3,
    BlobCipher,
    CtrBlobCipher,
    DataKeyUnopenable,
    GcmBlobCipher,
    Keyring,
    SSESpec,
    blob_cipher,
    customer_key_md5,
    gcm_stored_size,
    load_master_key,
    object_etag,
    read_decrypted,
)
from nuage.errors import AccessDenied, InvalidRequest
from nuage.storage.blobs.integrity import BlobCorrupt
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.extra import SSE_CUSTOMER_MAC, SSE_KMS_KEY_ID, SSE_WRAPPED_KEY, Facts


def _encrypt(key: bytes, data: bytes, chunk: int, cipher: GcmBlobCipher | CtrBlobCipher | None = None) -> bytes:
    cipher = cipher or CtrBlobCipher(key)
    out = [cipher.header]
    for i in range(0, len(data), chunk):
        out.append(cipher.update(data[i:i + chunk]))
    out.append(cipher.final())
    return b"".join(out)


def _store_blob(store: LocalBlobStore, stored: bytes) -> str:
    async def run() -> str:
        writer = store.writer()
        await writer.write(stored)
        return await writer.finish()
    return asyncio.run(run())


def _read_gcm(store: LocalBlobStore, blob: str, key: bytes, offset: int, length: int, size: int) -> bytes:
    async def run() -> bytes:
        return b"".join([c async for c in read_decrypted(store, blob, key, offset, length, gcm=True,
                                                         plain_size=size)])
    return asyncio.run(run())


def test_new_keys_are_sealed_for_gcm_blobs() -> None:
    _, extra = Keyring(os.urandom(32)).seal(SSESpec(SSE_S3))
    assert Facts(extra).sse is not None and Facts(extra).sse.gcm
    assert isinstance(BlobCipher(os.urandom(32)), GcmBlobCipher)


@pytest.mark.parametrize("size", [1, GCM_CHUNK - 1, GCM_CHUNK, GCM_CHUNK + 1, 3 * GCM_CHUNK, 200_000])
@pytest.mark.parametrize("piece", [1000, GCM_CHUNK, 1 << 20])
def test_gcm_chunks_round_trip_whatever_the_pieces(tmp_path: Path, size: int, piece: int) -> None:
    key, data = os.urandom(32), os.urandom(size)
    stored = _encrypt(key, data, piece, GcmBlobCipher(key))
    assert len(stored) == gcm_stored_size(size)
    assert size < 16 or data[:64] not in stored
    store = LocalBlobStore(tmp_path, fsync=False, inline_max=0)
    assert _read_gcm(store, _store_blob(store, stored), key, 0, size, size) == data


@pytest.mark.parametrize("offset,length", [(0, 1), (1, 50_000), (GCM_CHUNK - 1, 2), (GCM_CHUNK, GCM_CHUNK),
                                           (150_000, 50_000), (199_999, 1), (0, 200_000)])
def test_gcm_decrypts_any_range(tmp_path: Path, offset: int, length: int) -> None:
    key, data = os.urandom(32), os.urandom(200_000)
    store = LocalBlobStore(tmp_path, fsync=False)
    blob = _store_blob(store, _encrypt(key, data, 7777, GcmBlobCipher(key)))
    assert _read_gcm(store, blob, key, offset, length, len(data)) == data[offset:offset + length]


@pytest.mark.parametrize("where", [GCM_PREFIX - 1, GCM_PREFIX + 10, GCM_PREFIX + GCM_CHUNK + 3,
                                   GCM_PREFIX + GCM_CHUNK + GCM_TAG + 5])
def test_gcm_refuses_an_altered_chunk_even_in_a_range_read(tmp_path: Path, where: int) -> None:
    key, data = os.urandom(32), os.urandom(3 * GCM_CHUNK)
    stored = bytearray(_encrypt(key, data, 4096, GcmBlobCipher(key)))
    stored[where] ^= 0x10
    store = LocalBlobStore(tmp_path, fsync=False)
    blob = _store_blob(store, bytes(stored))
    chunk = 0 if where < GCM_PREFIX + GCM_CHUNK + GCM_TAG else 1
    with pytest.raises(BlobCorrupt):
        _read_gcm(store, blob, key, chunk * GCM_CHUNK + 100, 10, len(data))
    # a chunk the damage is not in still reads (its own tag vouches for it)
    other = 2 * GCM_CHUNK
    if where >= GCM_PREFIX:
        assert _read_gcm(store, blob, key, other, 10, len(data)) == data[other:other + 10]


def test_gcm_chunks_cannot_be_cut_off_or_reordered(tmp_path: Path) -> None:
    key, data = os.urandom(32), os.urandom(2 * GCM_CHUNK)
    stored = _encrypt(key, data, GCM_CHUNK, GcmBlobCipher(key))
    one = GCM_CHUNK + GCM_TAG
    store = LocalBlobStore(tmp_path, fsync=False)
    cut = _store_blob(store, stored[:GCM_PREFIX + one])             # the first chunk alone, as if whole
    with pytest.raises(BlobCorrupt):
        _read_gcm(store, cut, key, 0, GCM_CHUNK, GCM_CHUNK)
    swapped = _store_blob(store, stored[:GCM_PREFIX] + stored[GCM_PREFIX + one:] + stored[GCM_PREFIX:GCM_PREFIX + one])
    with pytest.raises(BlobCorrupt):
        _read_gcm(store, swapped, key, 0, 10, len(data))


def test_ctr_blobs_written_before_still_read(tmp_path: Path) -> None:
    key, data = os.urandom(32), os.urandom(100_000)
    store = LocalBlobStore(tmp_path, fsync=False)
    blob = _store_blob(store, _encrypt(key, data, 5000, blob_cipher({}, key)))

    async def run() -> bytes:
        return b"".join([c async for c in read_decrypted(store, blob, key, 10, 90_000)])
    assert asyncio.run(run()) == data[10:90_010]


def test_ciphertext_differs_and_each_blob_has_its_own_counter_block() -> None:
    key = os.urandom(32)
    data = b"A" * 4096
    one, two = _encrypt(key, data, 1000), _encrypt(key, data, 4096)
    assert len(one) == len(two) == HEADER_SIZE + len(data)
    assert data[:64] not in one
    assert one[:HEADER_SIZE] != two[:HEADER_SIZE]
    assert one[HEADER_SIZE:] != two[HEADER_SIZE:]


@pytest.mark.parametrize("offset", [0, 1, 15, 16, 17, 4095, 65536, 65537, 199_999])
def test_decrypts_from_any_offset(tmp_path: Path, offset: int) -> None:
    key = os.urandom(32)
    data = os.urandom(200_000)
    store = LocalBlobStore(tmp_path, fsync=False)

    async def run() -> bytes:
        writer = store.writer()
        await writer.write(_encrypt(key, data, 7777))
        blob = await writer.finish()
        length = min(50_000, len(data) - offset)
        return b"".join([c async for c in read_decrypted(store, blob, key, offset, length)])

    got = asyncio.run(run())
    assert got == data[offset:offset + 50_000]


def test_counter_wraps_like_openssl(tmp_path: Path) -> None:
    key = os.urandom(32)
    data = os.urandom(100)
    cipher = CtrBlobCipher(key)
    cipher.header = b"\xff" * 16      # the counter wraps after the first block
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(key), modes.CTR(cipher.header)).encryptor()
    store = LocalBlobStore(tmp_path, fsync=False)

    async def run() -> bytes:
        writer = store.writer()
        await writer.write(cipher.header + enc.update(data))
        blob = await writer.finish()
        return b"".join([c async for c in read_decrypted(store, blob, key, 33, 50)])

    assert asyncio.run(run()) == data[33:83]


def test_server_keys_seal_and_open() -> None:
    ring = Keyring(os.urandom(32))
    key, extra = ring.seal(SSESpec(SSE_S3))
    assert ring.open(extra, None) == key
    assert SSE_KMS_KEY_ID not in extra
    key2, extra2 = ring.seal(SSESpec(SSE_KMS))
    assert extra2[SSE_KMS_KEY_ID] == DEFAULT_KMS_KEY_ID
    assert ring.open(extra2, None) == key2 != key
    assert base64.b64decode(extra[SSE_WRAPPED_KEY]).find(key) == -1
    with pytest.raises(InvalidRequest):
        ring.open(extra, os.urandom(32))       # SSE-C headers on an SSE-S3 object


def test_wrapped_key_is_bound_to_its_metadata() -> None:
    ring = Keyring(os.urandom(32))
    _, extra = ring.seal(SSESpec(SSE_KMS, "key-1"))
    with pytest.raises(DataKeyUnopenable):
        ring.open({**extra, SSE_KMS_KEY_ID: "key-2"}, None)
    with pytest.raises(DataKeyUnopenable):
        Keyring(os.urandom(32)).open(extra, None)


def test_customer_keys_are_never_stored() -> None:
    ring = Keyring(os.urandom(32))
    customer = os.urandom(32)
    key, extra = ring.seal(SSESpec(SSE_C, customer_key=customer))
    stored = "".join(extra.values()).encode()
    assert base64.b64encode(customer) not in stored
    assert all(customer not in base64.b64decode(extra[name]) for name in (SSE_WRAPPED_KEY, SSE_CUSTOMER_MAC))
    assert extra["sse-c-key-md5"] == customer_key_md5(customer)
    assert ring.open(extra, customer) == key
    with pytest.raises(InvalidRequest):
        ring.open(extra, None)
    with pytest.raises(AccessDenied):
        ring.open(extra, os.urandom(32))


def test_etag_is_md5_for_sse_s3_only() -> None:
    md5 = "5d41402abc4b2a76b9719d911017c592"
    key = os.urandom(32)
    assert object_etag({"sse": SSE_S3}, key, md5) == md5
    opaque = object_etag({"sse": SSE_C}, key, md5)
    assert opaque != md5 and len(opaque) == 32 and int(opaque, 16) >= 0


def test_master_key_file_is_created_once_private(tmp_path: Path) -> None:
    first = load_master_key(tmp_path)
    path = tmp_path / "keys" / "master.key"
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_master_key(tmp_path) == first
    assert not [p for p in path.parent.iterdir() if p.name != "master.key"]


def test_master_key_from_environment(tmp_path: Path) -> None:
    key = os.urandom(32)
    assert load_master_key(tmp_path, base64.b64encode(key).decode()) == key
    assert not (tmp_path / "keys").exists()
    with pytest.raises(ValueError):
        load_master_key(tmp_path, base64.b64encode(b"short").decode())
    with pytest.raises(ValueError):
        load_master_key(tmp_path, "not base64!")


def test_bucket_default_round_trips() -> None:
    spec = SSESpec(SSE_KMS, "k", None, True)
    assert SSESpec.from_config(spec.to_config()) == spec
