"""Streaming checksums: MD5 for ETags and the x-amz-checksum-* algorithms (CRCs through awscrt)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Protocol

from awscrt import checksums as crt

ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
CRC_WIDTH = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def digest(self) -> bytes: ...


class _Crc:
    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.value = 0
        self._fn = {"crc32": crt.crc32, "crc32c": crt.crc32c, "crc64nvme": crt.crc64nvme}[algorithm]

    def update(self, data: bytes) -> None:
        self.value = self._fn(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(CRC_WIDTH[self.algorithm], "big")


def new_hasher(algorithm: str) -> Hasher:
    if algorithm in CRC_WIDTH:
        return _Crc(algorithm)
    if algorithm in ("sha1", "sha256", "md5"):
        return hashlib.new(algorithm)
    raise ValueError(algorithm)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def checksum_of(algorithm: str, data: bytes) -> str:
    h = new_hasher(algorithm)
    h.update(data)
    return b64(h.digest())


def valid_encoded(algorithm: str, value: str) -> bool:
    """Whether ``value`` is base64 of the right length for ``algorithm``."""
    width = CRC_WIDTH.get(algorithm) or {"sha1": 20, "sha256": 32}.get(algorithm)
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError):
        return False
    return len(raw) == width


def composite(algorithm: str, part_checksums: Iterable[str]) -> str:
    """Checksum of checksums, as S3 computes it for multipart uploads: b64(H(raw1 || raw2 ...))."""
    h = new_hasher(algorithm)
    for value in part_checksums:
        h.update(base64.b64decode(value))
    return b64(h.digest())


def combine_full_object(algorithm: str, parts: Iterable[tuple[str, int]]) -> str:
    """The CRC of the whole object from the CRCs and sizes of its parts (FULL_OBJECT type)."""
    combine = {"crc32": crt.combine_crc32, "crc32c": crt.combine_crc32c, "crc64nvme": crt.combine_crc64nvme}[
        algorithm
    ]
    total: int | None = None
    for value, size in parts:
        crc = int.from_bytes(base64.b64decode(value), "big")
        total = crc if total is None else combine(total, crc, size)
    return b64((total or 0).to_bytes(CRC_WIDTH[algorithm], "big"))


_GIL_RELEASE_MIN = 2048        # hashlib's HASHLIB_GIL_MINSIZE
_HOLD_GIL_MAX = 16 * 1024


class MultiHasher:
    """MD5 plus any requested checksum algorithms, fed the same stream once."""

    def __init__(self, algorithms: Iterable[str] = (), *, md5: bool = True) -> None:
        self.md5 = hashlib.md5() if md5 else None
        self.extra: dict[str, Hasher] = {a: new_hasher(a) for a in algorithms}
        self.size = 0

    def add_algorithm(self, algorithm: str) -> None:
        if algorithm not in self.extra:
            if self.size:
                raise ValueError("algorithm added after data")
            self.extra[algorithm] = new_hasher(algorithm)

    def update(self, data: bytes) -> None:
        self.size += len(data)
        if len(data) <= _HOLD_GIL_MAX and len(data) >= _GIL_RELEASE_MIN:
            # hashlib lets go of the GIL for updates of 2 KiB and more; for a small body that only
            # hands the core to another thread mid-request (a switch costs more than the hash)
            for start in range(0, len(data), _GIL_RELEASE_MIN - 1):
                self._update(data[start:start + _GIL_RELEASE_MIN - 1])
        else:
            self._update(data)

    def _update(self, data: bytes) -> None:
        if self.md5 is not None:
            self.md5.update(data)
        for h in self.extra.values():
            h.update(data)

    def md5_hex(self) -> str:
        assert self.md5 is not None
        return self.md5.hexdigest()

    def md5_b64(self) -> str:
        assert self.md5 is not None
        return b64(self.md5.digest())

    def checksums(self) -> dict[str, str]:
        return {a: b64(h.digest()) for a, h in self.extra.items()}
