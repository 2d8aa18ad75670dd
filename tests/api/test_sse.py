"""Server-side encryption (SSE-S3, SSE-KMS emulated, SSE-C, bucket default encryption) with boto3 against a
real server: headers as S3 answers them, the errors S3 gives, and bytes that are really encrypted on disk."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest

from nuage.core.sse import CtrBlobCipher, Keyring
from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import SQLITE_ONLY, NuageServer

KEY_A = base64.b64encode(b"A" * 16 + b"k" * 16).decode()
KEY_B = base64.b64encode(os.urandom(32)).decode()
PART = 5 * 1024 * 1024


def _md5(key_b64: str) -> str:
    return base64.b64encode(hashlib.md5(base64.b64decode(key_b64)).digest()).decode()


def ssec(key: str = KEY_A) -> dict[str, str]:
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key, "SSECustomerKeyMD5": _md5(key)}


def copy_ssec(key: str = KEY_A) -> dict[str, str]:
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": key,
            "CopySourceSSECustomerKeyMD5": _md5(key)}


def _hdr(resp: dict[str, Any]) -> dict[str, str]:
    return dict(resp["ResponseMetadata"]["HTTPHeaders"])


def _marked(size: int) -> tuple[bytes, bytes]:
    marker = uuid.uuid4().hex.encode()
    return marker, (marker * (size // len(marker) + 1))[:size]


def _on_disk(server: NuageServer, needle: bytes) -> bool:
    """Whether any blob file holds ``needle`` (files other tests delete meanwhile are skipped)."""
    for path in (server.data_dir / "blobs").rglob("*"):
        try:
            if path.is_file() and needle in path.read_bytes():
                return True
        except FileNotFoundError:
            continue
    return False


def _raw_put(server: NuageServer, bucket: str, key: str, headers: dict[str, str]) -> rawhttp.Reply:
    return rawhttp.request(server, "PUT", rawhttp.key_path(bucket, key), body=b"data", headers=headers)


# -- SSE-S3 ----------------------------------------------------------------------------------------
def test_sse_s3_put_get_head_and_bytes_encrypted_at_rest(server: NuageServer, s3: Any, bucket: str) -> None:
    marker, data = _marked(300_000)
    put = s3.put_object(Bucket=bucket, Key="enc", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"].strip('"') == hashlib.md5(data).hexdigest()   # MD5 of the plaintext, as on S3
    got = s3.get_object(Bucket=bucket, Key="enc")
    assert got["ServerSideEncryption"] == "AES256"
    assert got["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="enc")["ServerSideEncryption"] == "AES256"
    assert not _on_disk(server, marker)
    plain_marker, plain = _marked(100_000)     # large enough to be a blob file, never inlined
    s3.put_object(Bucket=bucket, Key="plain", Body=plain)
    assert _on_disk(server, plain_marker)          # the check above can see plaintext
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket, Key="plain")


@pytest.mark.parametrize("rng", ["bytes=0-0", "bytes=1-16", "bytes=15-17", "bytes=100000-250000", "bytes=-7",
                                 "bytes=299990-"])
def test_sse_s3_ranges_decrypt_at_any_offset(s3: Any, bucket: str, rng: str) -> None:
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="r", Body=data, ServerSideEncryption="AES256")
    first, _, last = rng[len("bytes="):].partition("-")
    expected = data[-int(last):] if not first else data[int(first):int(last) + 1 if last else None]
    assert s3.get_object(Bucket=bucket, Key="r", Range=rng)["Body"].read() == expected


def test_read_with_server_side_encryption_header_is_invalid(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="AES256")
    s3.meta.events.register("before-call.s3.GetObject", lambda params, **_: params["headers"].update(
        {"x-amz-server-side-encryption": "AES256"}))
    assert_error(s3.get_object, "InvalidArgument", 400, Bucket=bucket, Key="k")


# -- SSE-KMS (emulated with the local master key) -------------------------------------------------------
def test_sse_kms_echoes_key_id_and_defaults_it(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"kms", ServerSideEncryption="aws:kms", SSEKMSKeyId="key-1",
                        BucketKeyEnabled=True)
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"], put["BucketKeyEnabled"]) == ("aws:kms", "key-1", True)
    assert put["ETag"].strip('"') != hashlib.md5(b"kms").hexdigest()
    got = s3.get_object(Bucket=bucket, Key="k")
    assert (got["ServerSideEncryption"], got["SSEKMSKeyId"], got["Body"].read()) == ("aws:kms", "key-1", b"kms")
    put = s3.put_object(Bucket=bucket, Key="d", Body=b"kms", ServerSideEncryption="aws:kms")
    assert put["SSEKMSKeyId"] == "nuage-default"


@pytest.mark.parametrize("headers", [
    {"x-amz-server-side-encryption": "aes:kms"},
    {"x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-aws-kms-key-id": "k"},
    {"x-amz-server-side-encryption-aws-kms-key-id": "k"},
    {"x-amz-server-side-encryption": "AES256", "x-amz-server-side-encryption-customer-algorithm": "AES256",
     "x-amz-server-side-encryption-customer-key": KEY_A, "x-amz-server-side-encryption-customer-key-md5": _md5(KEY_A)},
    {"x-amz-server-side-encryption-customer-algorithm": "AES256"},
    {"x-amz-server-side-encryption-customer-key": KEY_A, "x-amz-server-side-encryption-customer-key-md5": _md5(KEY_A)},
    {"x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": KEY_A},
    {"x-amz-server-side-encryption-customer-algorithm": "AES256", "x-amz-server-side-encryption-customer-key": KEY_A,
     "x-amz-server-side-encryption-customer-key-md5": _md5(KEY_B)},
    {"x-amz-server-side-encryption-customer-algorithm": "AES256",
     "x-amz-server-side-encryption-customer-key": base64.b64encode(b"short").decode(),
     "x-amz-server-side-encryption-customer-key-md5": base64.b64encode(hashlib.md5(b"short").digest()).decode()},
])
def test_conflicting_or_invalid_headers_are_invalid_argument(server: NuageServer, bucket: str,
                                                             headers: dict[str, str]) -> None:
    reply = _raw_put(server, bucket, "k", headers)
    assert (reply.status, reply.code) == (400, "InvalidArgument"), reply.body


def test_unknown_customer_algorithm(server: NuageServer, bucket: str) -> None:
    reply = _raw_put(server, bucket, "k", {
        "x-amz-server-side-encryption-customer-algorithm": "AES192",
        "x-amz-server-side-encryption-customer-key": KEY_A,
        "x-amz-server-side-encryption-customer-key-md5": _md5(KEY_A)})
    assert (reply.status, reply.code) == (400, "InvalidEncryptionAlgorithmError")


# -- SSE-C ---------------------------------------------------------------------------------------------
def test_sse_c_needs_the_right_key(server: NuageServer, s3: Any, bucket: str) -> None:
    marker, data = _marked(100_000)
    put = s3.put_object(Bucket=bucket, Key="c", Body=data, **ssec())
    assert (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]) == ("AES256", _md5(KEY_A))
    assert put["ETag"].strip('"') != hashlib.md5(data).hexdigest()
    assert_error(s3.get_object, "InvalidRequest", 400, Bucket=bucket, Key="c")
    assert_error(s3.get_object, "AccessDenied", 403, Bucket=bucket, Key="c", **ssec(KEY_B))
    assert_error(s3.head_object, "400", 400, Bucket=bucket, Key="c")
    assert_error(s3.head_object, "403", 403, Bucket=bucket, Key="c", **ssec(KEY_B))
    got = s3.get_object(Bucket=bucket, Key="c", **ssec())
    assert (got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]) == ("AES256", _md5(KEY_A))
    assert got["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="c", Range="bytes=5-99999", **ssec())["Body"].read() == data[5:]
    assert s3.head_object(Bucket=bucket, Key="c", **ssec())["ContentLength"] == len(data)
    assert not _on_disk(server, marker)
    raw = base64.b64decode(KEY_A)
    for path in server.data_dir.glob("meta.sqlite3*"):
        content = path.read_bytes()
        assert raw not in content and KEY_A.encode() not in content


def test_sse_c_key_on_unencrypted_object_is_invalid(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="p", Body=b"plain")
    assert_error(s3.get_object, "InvalidRequest", 400, Bucket=bucket, Key="p", **ssec())


def test_sse_c_object_attributes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"abc", **ssec())
    assert_error(s3.get_object_attributes, "InvalidRequest", 400, Bucket=bucket, Key="a",
                 ObjectAttributes=["ObjectSize"])
    assert s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=["ObjectSize"],
                                    **ssec())["ObjectSize"] == 3


def test_sse_c_over_https(tls_server: NuageServer, tls_bucket: str) -> None:
    client = tls_server.client()
    client.put_object(Bucket=tls_bucket, Key="t", Body=b"secret over tls", **ssec())
    assert client.get_object(Bucket=tls_bucket, Key="t", **ssec())["Body"].read() == b"secret over tls"
    assert_error(client.get_object, "AccessDenied", 403, Bucket=tls_bucket, Key="t", **ssec(KEY_B))


# -- multipart -----------------------------------------------------------------------------------------
def test_sse_c_multipart(server: NuageServer, s3: Any, bucket: str) -> None:
    marker, data = _marked(PART + 3000)
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", **ssec())
    assert up["SSECustomerKeyMD5"] == _md5(KEY_A)
    uid = up["UploadId"]
    assert_error(s3.upload_part, "InvalidRequest", 400, Bucket=bucket, Key="m", UploadId=uid, PartNumber=1,
                 Body=data[:PART])
    assert_error(s3.upload_part, "InvalidRequest", 400, Bucket=bucket, Key="m", UploadId=uid, PartNumber=1,
                 Body=data[:PART], **ssec(KEY_B))
    p1 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1, Body=data[:PART], **ssec())
    assert p1["SSECustomerKeyMD5"] == _md5(KEY_A)
    p2 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=2, Body=data[PART:], **ssec())
    parts = {"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]}
    assert_error(s3.complete_multipart_upload, "InvalidRequest", 400, Bucket=bucket, Key="m", UploadId=uid,
                 MultipartUpload=parts)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid, MultipartUpload=parts, **ssec())
    assert _hdr(done)["x-amz-server-side-encryption-customer-key-md5"] == _md5(KEY_A)
    assert s3.get_object(Bucket=bucket, Key="m", **ssec())["Body"].read() == data
    across = s3.get_object(Bucket=bucket, Key="m", Range=f"bytes={PART - 10}-{PART + 10}", **ssec())
    assert across["Body"].read() == data[PART - 10:PART + 11]
    assert s3.get_object(Bucket=bucket, Key="m", PartNumber=2, **ssec())["Body"].read() == data[PART:]
    assert_error(s3.get_object, "AccessDenied", 403, Bucket=bucket, Key="m", **ssec(KEY_B))
    assert not _on_disk(server, marker)


def test_sse_kms_multipart_and_upload_part_copy_from_sse_c(s3: Any, bucket: str) -> None:
    src = os.urandom(PART + 10)
    s3.put_object(Bucket=bucket, Key="src", Body=src, **ssec())
    up = s3.create_multipart_upload(Bucket=bucket, Key="m", ServerSideEncryption="aws:kms", SSEKMSKeyId="key-9")
    assert (up["ServerSideEncryption"], up["SSEKMSKeyId"]) == ("aws:kms", "key-9")
    uid = up["UploadId"]
    assert_error(s3.upload_part_copy, "InvalidRequest", 400, Bucket=bucket, Key="m", UploadId=uid, PartNumber=1,
                 CopySource={"Bucket": bucket, "Key": "src"})
    p1 = s3.upload_part_copy(Bucket=bucket, Key="m", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange=f"bytes=0-{PART - 1}",
                             **copy_ssec())
    assert p1["ServerSideEncryption"] == "aws:kms"
    p2 = s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=2, Body=b"tail")
    assert p2["SSEKMSKeyId"] == "key-9"
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": p2["ETag"]}]})
    assert done["ServerSideEncryption"] == "aws:kms"
    got = s3.get_object(Bucket=bucket, Key="m")
    assert got["SSEKMSKeyId"] == "key-9"
    assert got["Body"].read() == src[:PART] + b"tail"


# -- copy ----------------------------------------------------------------------------------------------
def test_copy_between_encryption_modes(s3: Any, bucket: str) -> None:
    data = os.urandom(70_000)
    s3.put_object(Bucket=bucket, Key="c", Body=data, **ssec())
    assert_error(s3.copy_object, "InvalidRequest", 400, Bucket=bucket, Key="s3",
                 CopySource={"Bucket": bucket, "Key": "c"})
    assert_error(s3.copy_object, "AccessDenied", 403, Bucket=bucket, Key="s3",
                 CopySource={"Bucket": bucket, "Key": "c"}, **copy_ssec(KEY_B))
    out = s3.copy_object(Bucket=bucket, Key="s3", CopySource={"Bucket": bucket, "Key": "c"},
                         ServerSideEncryption="AES256", **copy_ssec())
    assert out["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="s3")["Body"].read() == data
    out = s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "s3"}, **ssec(KEY_B))
    assert out["SSECustomerKeyMD5"] == _md5(KEY_B)
    assert s3.get_object(Bucket=bucket, Key="c2", **ssec(KEY_B))["Body"].read() == data
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "c2"}, **copy_ssec(KEY_B))
    got = s3.get_object(Bucket=bucket, Key="plain")
    assert "ServerSideEncryption" not in got and got["Body"].read() == data
    # re-encrypting an object in place is a legal self-copy
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"},
                   ServerSideEncryption="AES256")
    assert s3.head_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"


# -- bucket default encryption -------------------------------------------------------------------------
def test_bucket_default_encryption(server: NuageServer, s3: Any, bucket: str) -> None:
    assert_error(s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError", 404, Bucket=bucket)
    assert s3.delete_bucket_encryption(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    marker, data = _marked(100_000)
    put = s3.put_object(Bucket=bucket, Key="d", Body=data)
    assert put["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == data
    assert not _on_disk(server, marker)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert up["ServerSideEncryption"] == "AES256"
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    # an explicit SSE-C write wins over the default
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="c", Body=b"x", **ssec())
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "bk"},
         "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == "bk" and rule["BucketKeyEnabled"]
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert (put["ServerSideEncryption"], put["SSEKMSKeyId"]) == ("aws:kms", "bk")
    s3.delete_bucket_encryption(Bucket=bucket)
    assert_error(s3.get_bucket_encryption, "ServerSideEncryptionConfigurationNotFoundError", 404, Bucket=bucket)
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="n", Body=b"x")


@pytest.mark.parametrize("body", [
    b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES"
    b"</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
    b"<ServerSideEncryptionConfiguration></ServerSideEncryptionConfiguration>",
    b"<Other/>",
])
def test_bad_bucket_encryption_is_malformed(server: NuageServer, bucket: str, body: bytes) -> None:
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    reply = rawhttp.request(server, "PUT", rawhttp.key_path(bucket, query="encryption"), body=body, headers=headers)
    assert (reply.status, reply.code) == (400, "MalformedXML")


def test_kms_key_id_with_aes256_default_is_invalid(s3: Any, bucket: str) -> None:
    assert_error(s3.put_bucket_encryption, "InvalidArgument", 400, Bucket=bucket,
                 ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {
                     "SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}}]})


# -- the master key ------------------------------------------------------------------------------------
def test_master_key_file_survives_restart(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data").start()
    try:
        client = srv.client()
        client.create_bucket(Bucket="keep")
        client.put_object(Bucket="keep", Key="k", Body=b"persisted", ServerSideEncryption="AES256")
        srv.close_clients()
    finally:
        assert srv.stop() == 0
    key_file = tmp_path / "data" / "keys" / "master.key"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    master = base64.b64decode(key_file.read_bytes().strip())
    for path in (tmp_path / "data").glob("meta.sqlite3*"):
        assert master not in path.read_bytes()
    srv = NuageServer(tmp_path / "data").start()
    try:
        assert srv.client().get_object(Bucket="keep", Key="k")["Body"].read() == b"persisted"
        srv.close_clients()
    finally:
        assert srv.stop() == 0


def test_master_key_from_environment(tmp_path: Path) -> None:
    env = {"NUAGE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()}
    srv = NuageServer(tmp_path / "data", env=env).start()
    try:
        client = srv.client()
        client.create_bucket(Bucket="env")
        client.put_object(Bucket="env", Key="k", Body=b"x", ServerSideEncryption="AES256")
        assert client.get_object(Bucket="env", Key="k")["Body"].read() == b"x"
        srv.close_clients()
    finally:
        assert srv.stop() == 0
    assert not (tmp_path / "data" / "keys").exists()


# -- the blob format: AES-GCM chunks (authenticated), AES-CTR objects written before ----------------------
def _row(server: NuageServer, bucket: str, key: str) -> tuple[int, dict[str, Any], list[list[Any]]]:
    db = sqlite3.connect(server.data_dir / "meta.sqlite3", timeout=30)
    try:
        seq, meta, segments = db.execute("SELECT seq, meta, segments FROM objects WHERE bucket=? AND key=? "
                                         "AND is_latest=1", (bucket, key)).fetchone()
    finally:
        db.close()
    return seq, json.loads(meta), json.loads(segments)


def _blob_path(server: NuageServer, blob: str) -> Path:
    return server.data_dir / "blobs" / blob[:2] / blob[2:4] / blob


@SQLITE_ONLY
def test_an_altered_chunk_is_refused_even_by_a_range_read(server: NuageServer, s3: Any, bucket: str) -> None:
    """Each 64 KiB chunk is authenticated: a range read of a damaged chunk is refused (a range read of
    an unencrypted object cannot check the blob's CRC), one of an intact chunk is served."""
    data = os.urandom(300_000)
    s3.put_object(Bucket=bucket, Key="enc", Body=data, ServerSideEncryption="AES256")
    _, meta, segments = _row(server, bucket, "enc")
    assert meta["x"]["sse-format"] == "gcm"
    path = _blob_path(server, segments[0][0])
    assert path.stat().st_size == 8 + len(data) + 5 * 16      # nonce prefix, 5 chunks each with its tag
    with open(path, "r+b") as f:                               # plaintext byte 150,000 is in chunk 2
        where = 8 + 2 * (65536 + 16) + (150_000 - 2 * 65536)
        f.seek(where)
        byte = f.read(1)[0]
        f.seek(where)
        f.write(bytes([byte ^ 0x04]))
    got = s3.get_object(Bucket=bucket, Key="enc", Range="bytes=0-99")
    assert got["Body"].read() == data[:100]
    assert_error(lambda: s3.get_object(Bucket=bucket, Key="enc", Range="bytes=140000-160000"),
                 "InvalidObjectState", 403)
    assert_error(lambda: s3.get_object(Bucket=bucket, Key="enc", Range="bytes=0-99"), "InvalidObjectState", 403)


@SQLITE_ONLY
def test_objects_encrypted_before_with_aes_ctr_still_read(server: NuageServer, s3: Any, bucket: str) -> None:
    """An object stored in the earlier format (AES-CTR, no format entry, no CRC) reads back whole and by
    range: its stored form is rebuilt here as the earlier version wrote it, with the same data key."""
    data = os.urandom(200_000)
    s3.put_object(Bucket=bucket, Key="old", Body=data, ServerSideEncryption="AES256")
    seq, meta, segments = _row(server, bucket, "old")
    extra = meta["x"]
    data_key = Keyring.load(server.data_dir).open(extra, None)
    assert data_key is not None
    cipher = CtrBlobCipher(data_key)
    _blob_path(server, segments[0][0]).write_bytes(cipher.header + cipher.update(data))
    del extra["sse-format"]
    db = sqlite3.connect(server.data_dir / "meta.sqlite3", timeout=30)
    try:
        db.execute("UPDATE objects SET meta=?, segments=? WHERE seq=?",
                   (json.dumps(meta), json.dumps([s[:2] for s in segments]), seq))
        db.commit()
    finally:
        db.close()
    s3.put_object(Bucket=bucket, Key="commit", Body=b"x")    # the server's caches reload
    assert s3.get_object(Bucket=bucket, Key="old")["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="old", Range="bytes=1000-150000")["Body"].read() == data[1000:150001]
