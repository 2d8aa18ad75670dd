"""aws-chunked bodies: what current SDKs send over HTTPS (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC trailer),
and hand-made STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signature verified) and signed-trailer requests
inside Transfer-Encoding: chunked with no Content-Length."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.api.checksums import b64
from tests.support import rawhttp, sigv4
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

MiB = 1024 * 1024


# -- boto3 over HTTPS ------------------------------------------------------------------------------
def test_https_put_get(s3tls: Any, tls_bucket: str) -> None:
    data = os.urandom(300_000)
    put = s3tls.put_object(Bucket=tls_bucket, Key="k", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    got = s3tls.get_object(Bucket=tls_bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == data


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_https_trailer_checksum(s3tls: Any, tls_bucket: str, algorithm: str) -> None:
    data = os.urandom(100_000)
    put = s3tls.put_object(Bucket=tls_bucket, Key=f"t-{algorithm}", Body=data, ChecksumAlgorithm=algorithm)
    assert put[f"Checksum{algorithm}"] == b64(algorithm, data)
    got = s3tls.get_object(Bucket=tls_bucket, Key=f"t-{algorithm}", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got[f"Checksum{algorithm}"] == b64(algorithm, data)


def test_https_streamed_file_body(s3tls: Any, tls_bucket: str, tmp_path: Any) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(3 * MiB + 5)
    path.write_bytes(data)
    with path.open("rb") as f:
        s3tls.put_object(Bucket=tls_bucket, Key="file", Body=f)
    assert s3tls.get_object(Bucket=tls_bucket, Key="file")["Body"].read() == data


def test_https_multipart_transfer(s3tls: Any, tls_bucket: str, tmp_path: Any) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom(11 * MiB)
    path.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=3)
    s3tls.upload_file(str(path), tls_bucket, "big", Config=cfg)
    out = tmp_path / "out.bin"
    s3tls.download_file(tls_bucket, "big", str(out))
    assert out.read_bytes() == data


def test_https_empty_body(s3tls: Any, tls_bucket: str) -> None:
    s3tls.put_object(Bucket=tls_bucket, Key="empty", Body=b"")
    assert s3tls.get_object(Bucket=tls_bucket, Key="empty")["Body"].read() == b""


# -- hand-made requests ----------------------------------------------------------------------------
def send_chunked(server: NuageServer, method: str, path: str, headers: dict[str, str], body: bytes,
                 http_chunk: int = 7001) -> rawhttp.Reply:
    """Send `body` with Transfer-Encoding: chunked (HTTP chunks not aligned with aws-chunked ones)."""
    conn = rawhttp.connection(server)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            if k.lower() != "host":
                conn.putheader(k, v)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), http_chunk):
            piece = body[i:i + http_chunk]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        return rawhttp.Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def streaming_headers(server: NuageServer, path: str, mode: str, decoded_length: int,
                      extra: dict[str, str] | None = None) -> tuple[dict[str, str], str, bytes, str]:
    base = {"host": f"127.0.0.1:{server.port}", "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(decoded_length), **(extra or {})}
    return sigv4.sign_headers("PUT", path, base, mode, access_key=ACCESS_KEY, secret_key=SECRET_KEY,
                              region=server.region)


@pytest.mark.parametrize("size", [0, 1, 65536, 200_001])
def test_signed_chunks(server: NuageServer, bucket: str, size: int) -> None:
    data = os.urandom(size)
    path = rawhttp.key_path(bucket, f"signed-{size}")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", size)
    body = sigv4.signed_chunks(data, 65536, key, stamp, seed)
    reply = send_chunked(server, "PUT", path, headers, body)
    assert reply.status == 200, reply.body
    assert reply.header("etag") == f'"{hashlib.md5(data).hexdigest()}"'
    got = rawhttp.request(server, "GET", path)
    assert got.body == data


def test_signed_chunks_with_content_length(server: NuageServer, bucket: str) -> None:
    data = os.urandom(100_000)
    path = rawhttp.key_path(bucket, "signed-cl")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    body = sigv4.signed_chunks(data, 8192, key, stamp, seed)
    headers.pop("host")
    reply = rawhttp.request(server, "PUT", path, headers={**headers, "Content-Length": str(len(body))}, body=body,
                            signed=False)
    assert reply.status == 200, reply.body
    assert rawhttp.request(server, "GET", path).body == data


@pytest.mark.parametrize("tamper_index", [0, 2, 3])  # first chunk, last data chunk, the final empty chunk
def test_tampered_chunk_signature_rejected(server: NuageServer, bucket: str, tamper_index: int) -> None:
    data = os.urandom(3 * 65536 - 100)
    path = rawhttp.key_path(bucket, f"tampered-{tamper_index}")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    body = sigv4.signed_chunks(data, 65536, key, stamp, seed, tamper_index=tamper_index)
    reply = send_chunked(server, "PUT", path, headers, body)
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    assert rawhttp.request(server, "HEAD", path).status == 404
    listed = rawhttp.request(server, "GET", f"/{bucket}?list-type=2&prefix=tampered")
    assert listed.xml().findtext("KeyCount") == "0"


def test_tampered_chunk_data_rejected(server: NuageServer, bucket: str) -> None:
    data = os.urandom(70_000)
    path = rawhttp.key_path(bucket, "tampered-data")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    body = bytearray(sigv4.signed_chunks(data, 65536, key, stamp, seed))
    body[200] ^= 0xFF  # flip a byte of the first chunk's payload
    reply = send_chunked(server, "PUT", path, headers, bytes(body))
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    assert rawhttp.request(server, "HEAD", path).status == 404


def test_signed_chunks_overwrite_keeps_old_on_failure(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep", Body=b"old version")
    data = os.urandom(100_000)
    path = rawhttp.key_path(bucket, "keep")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    body = sigv4.signed_chunks(data, 65536, key, stamp, seed, tamper_index=1)
    assert send_chunked(server, "PUT", path, headers, body).status == 403
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"old version"


def test_decoded_length_mismatch(server: NuageServer, bucket: str) -> None:
    data = os.urandom(1000)
    path = rawhttp.key_path(bucket, "short")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 2000)
    body = sigv4.signed_chunks(data, 65536, key, stamp, seed)
    reply = send_chunked(server, "PUT", path, headers, body)
    assert reply.status == 400
    assert rawhttp.request(server, "HEAD", path).status == 404


def unsigned_trailer_body(data: bytes, chunk: int, trailer_name: str, trailer_value: str) -> bytes:
    out = bytearray()
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n" + f"{trailer_name}:{trailer_value}\r\n".encode() + b"\r\n"
    return bytes(out)


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_unsigned_payload_trailer(server: NuageServer, bucket: str, algorithm: str) -> None:
    data = os.urandom(150_000)
    path = rawhttp.key_path(bucket, f"ut-{algorithm}")
    name = f"x-amz-checksum-{algorithm}"
    headers, *_ = streaming_headers(server, path, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data),
                                    {"x-amz-trailer": name})
    body = unsigned_trailer_body(data, 65536, name, b64(algorithm.upper(), data))
    reply = send_chunked(server, "PUT", path, headers, body)
    assert reply.status == 200, reply.body
    got = rawhttp.request(server, "GET", path, headers={"x-amz-checksum-mode": "ENABLED"})
    assert got.body == data
    assert got.header(name) == b64(algorithm.upper(), data)


def test_unsigned_payload_trailer_wrong_checksum(server: NuageServer, bucket: str) -> None:
    data = os.urandom(10_000)
    path = rawhttp.key_path(bucket, "ut-bad")
    headers, *_ = streaming_headers(server, path, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", len(data),
                                    {"x-amz-trailer": "x-amz-checksum-crc32"})
    body = unsigned_trailer_body(data, 4096, "x-amz-checksum-crc32", b64("CRC32", data + b"!"))
    reply = send_chunked(server, "PUT", path, headers, body)
    assert (reply.status, reply.code) == (400, "BadDigest")
    assert rawhttp.request(server, "HEAD", path).status == 404


def test_signed_payload_trailer(server: NuageServer, bucket: str) -> None:
    data = os.urandom(100_000)
    path = rawhttp.key_path(bucket, "st")
    name = "x-amz-checksum-crc32c"
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                                                  len(data), {"x-amz-trailer": name})
    chunks = sigv4.signed_chunks(data, 65536, key, stamp, seed)
    # signed_chunks ends with "0;chunk-signature=S\r\n\r\n": drop the final CRLF, add the signed trailer
    assert chunks.endswith(b"\r\n\r\n")
    last_sig = chunks[:-4].rsplit(b"chunk-signature=", 1)[1].decode()
    trailer = f"{name}:{b64('CRC32C', data)}\n".encode()
    trailer_sig = sigv4.trailer_signature(key, stamp, last_sig, trailer)
    body = chunks[:-2] + trailer.replace(b"\n", b"\r\n") + f"x-amz-trailer-signature:{trailer_sig}\r\n\r\n".encode()
    reply = send_chunked(server, "PUT", path, headers, body)
    assert reply.status == 200, reply.body
    got = rawhttp.request(server, "GET", path, headers={"x-amz-checksum-mode": "ENABLED"})
    assert got.body == data
    assert got.header(name) == b64("CRC32C", data)

    # the same request with a wrong trailer signature is refused and stores nothing
    path2 = rawhttp.key_path(bucket, "st-bad")
    headers, seed, key, stamp = streaming_headers(server, path2, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                                                  len(data), {"x-amz-trailer": name})
    chunks = sigv4.signed_chunks(data, 65536, key, stamp, seed)
    body = chunks[:-2] + trailer.replace(b"\n", b"\r\n") + b"x-amz-trailer-signature:" + b"0" * 64 + b"\r\n\r\n"
    reply = send_chunked(server, "PUT", path2, headers, body)
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    assert rawhttp.request(server, "HEAD", path2).status == 404


def test_upload_part_with_signed_chunks(server: NuageServer, s3: Any, bucket: str) -> None:
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mpc")["UploadId"]
    data = os.urandom(40_000)
    path = rawhttp.key_path(bucket, "mpc", f"partNumber=1&uploadId={uid}")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    reply = send_chunked(server, "PUT", path, headers, sigv4.signed_chunks(data, 16384, key, stamp, seed))
    assert reply.status == 200, reply.body
    etag = reply.header("etag")
    s3.complete_multipart_upload(Bucket=bucket, Key="mpc", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=bucket, Key="mpc")["Body"].read() == data


def test_content_encoding_keeps_only_the_objects_own_encoding(server: NuageServer, bucket: str) -> None:
    data = b"compressed bytes, as the client says"
    path = rawhttp.key_path(bucket, "gz")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data),
                                                  {"content-encoding": "gzip, aws-chunked"})
    reply = send_chunked(server, "PUT", path, headers, sigv4.signed_chunks(data, 65536, key, stamp, seed))
    assert reply.status == 200, reply.body
    assert rawhttp.request(server, "HEAD", path).header("content-encoding") == "gzip"
    path2 = rawhttp.key_path(bucket, "plain")
    headers, seed, key, stamp = streaming_headers(server, path2, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    reply = send_chunked(server, "PUT", path2, headers, sigv4.signed_chunks(data, 65536, key, stamp, seed))
    assert reply.status == 200, reply.body
    assert rawhttp.request(server, "HEAD", path2).header("content-encoding") is None


def test_connection_survives_a_chunk_signature_failure(server: NuageServer, bucket: str) -> None:
    """The server reads and drops the rest of a rejected body, so the client reads the 403 and can send its
    next request on the same connection."""
    data = os.urandom(3 * 65536)
    path = rawhttp.key_path(bucket, "reuse")
    headers, seed, key, stamp = streaming_headers(server, path, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", len(data))
    body = sigv4.signed_chunks(data, 65536, key, stamp, seed, tamper_index=0)
    conn = rawhttp.connection(server)
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for k, v in headers.items():
            if k.lower() != "host":
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body)
        first = conn.getresponse()
        assert first.status == 403 and b"SignatureDoesNotMatch" in first.read()
        assert first.getheader("connection") != "close"
        signed = rawhttp.sign(server, "GET", f"/{bucket}?list-type=2")
        conn.putrequest("GET", f"/{bucket}?list-type=2", skip_accept_encoding=True)
        for k, v in signed.items():
            if k.lower() != "host":
                conn.putheader(k, v)
        conn.endheaders()
        second = conn.getresponse()
        assert second.status == 200 and b"<KeyCount>0</KeyCount>" in second.read()
    finally:
        conn.close()
