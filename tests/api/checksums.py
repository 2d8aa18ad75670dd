"""Reference checksums as S3 encodes them: base64 of the big-endian digest."""

from __future__ import annotations

import base64
import hashlib

from awscrt import checksums as crt

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def raw_digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "CRC32":
        return crt.crc32(data).to_bytes(4, "big")
    if algorithm == "CRC32C":
        return crt.crc32c(data).to_bytes(4, "big")
    if algorithm == "CRC64NVME":
        return crt.crc64nvme(data).to_bytes(8, "big")
    return hashlib.new(algorithm.lower(), data).digest()


def b64(algorithm: str, data: bytes) -> str:
    return base64.b64encode(raw_digest(algorithm, data)).decode()


def composite(algorithm: str, parts: list[bytes]) -> str:
    inner = b"".join(raw_digest(algorithm, p) for p in parts)
    return f"{base64.b64encode(raw_digest(algorithm, inner)).decode()}-{len(parts)}"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()
