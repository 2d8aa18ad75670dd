"""A write workload for crash tests: threads with their own boto3 clients doing single PUTs (with
x-amz-checksum-crc32), repeated overwrites, concurrent overwrites of shared keys, multipart uploads of
5 MiB parts and deletes, recording every write in a History."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import botocore.exceptions

from tests.crash.helpers import History, MiB, Op, Value, crc32_b64, is_connection_error

OWN_KEYS = 6          # keys only one thread writes (sequential overwrites, deletes, multipart)
HOT_KEYS = 3          # keys every thread overwrites concurrently
PART = 5 * MiB


def _size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.06:
        return 0
    if r < 0.55:
        return rng.randint(1, 64 * 1024)
    if r < 0.8:
        return rng.randint(64 * 1024, MiB)
    return rng.randint(MiB, 3 * MiB)


class Worker(threading.Thread):
    """Writes until ``stop`` is set or a request fails. Failures count as expected once ``failing`` is
    set: connection errors always, error responses only when ``error_responses_ok``."""

    def __init__(self, n: int, client: Any, bucket: str, history: History, stop: threading.Event, seed: int,
                 *, failing: threading.Event | None = None, error_responses_ok: bool = False,
                 max_size: int = 3 * MiB, multipart_share: float = 0.10) -> None:
        super().__init__(name=f"crash-worker-{n}", daemon=True)
        self.n = n
        self.client = client
        self.bucket = bucket
        self.history = history
        self.stop_flag = stop
        self.failing = failing or stop
        self.error_responses_ok = error_responses_ok
        self.max_size = max_size
        self.multipart_share = multipart_share
        self.rng = random.Random(seed)
        self.unexpected: list[str] = []
        self.acked = 0
        self.counts: dict[str, int] = {}

    def own_key(self) -> str:
        return f"own/{self.n}/{self.rng.randrange(OWN_KEYS)}"

    def run(self) -> None:
        while not self.stop_flag.is_set():
            r = self.rng.random()
            if r < 0.50:
                kind, key = "put", self.own_key()
            elif r < 0.70:
                kind, key = "put", f"hot/{self.rng.randrange(HOT_KEYS)}"
            elif r < 0.70 + self.multipart_share:
                kind, key = "multipart", self.own_key()
            elif r < 0.92:
                kind, key = "delete", self.own_key()
            else:
                kind, key = "delete", f"hot/{self.rng.randrange(HOT_KEYS)}"
            try:
                getattr(self, kind)(key)
            except Exception as exc:  # noqa: BLE001 - classified below
                expected = is_connection_error(exc) or (
                    self.error_responses_ok and isinstance(exc, botocore.exceptions.ClientError))
                if not (self.failing.is_set() and expected):
                    self.unexpected.append(f"{kind} {key!r}: {exc!r}")
                return
            self.acked += 1
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def _fail(self, op: Op, exc: BaseException) -> None:
        if isinstance(exc, botocore.exceptions.ClientError):
            op.failed = True   # a definite answer: the write did not happen

    def put(self, key: str) -> None:
        data = self.rng.randbytes(min(_size(self.rng), self.max_size))
        op = self.history.begin(key, Value.single(data))
        try:
            resp = self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ChecksumCRC32=crc32_b64(data))
        except Exception as exc:
            self._fail(op, exc)
            raise
        op.end = time.monotonic()
        assert op.value is not None
        if resp["ETag"].strip('"') != op.value.etag or resp.get("ChecksumCRC32") != op.value.crc32:
            self.unexpected.append(f"put {key!r}: answered ETag {resp['ETag']} crc32 {resp.get('ChecksumCRC32')}, "
                                   f"expected {op.value.etag} {op.value.crc32}")

    def multipart(self, key: str) -> None:
        count = self.rng.choice((2, 3))
        parts = [self.rng.randbytes(PART) for _ in range(count - 1)]
        parts.append(self.rng.randbytes(self.rng.randint(1, PART)))
        op = self.history.begin(key, Value.multipart(parts))
        try:
            up = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, ChecksumAlgorithm="CRC32")
            done = []
            for i, data in enumerate(parts, 1):
                r = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=up["UploadId"], PartNumber=i,
                                            Body=data, ChecksumCRC32=crc32_b64(data))
                done.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumCRC32": r["ChecksumCRC32"]})
            resp = self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up["UploadId"],
                                                         MultipartUpload={"Parts": done})
        except Exception as exc:
            self._fail(op, exc)
            raise
        op.end = time.monotonic()
        assert op.value is not None
        if resp["ETag"].strip('"') != op.value.etag:
            self.unexpected.append(f"multipart {key!r}: answered ETag {resp['ETag']}, expected {op.value.etag}")

    def delete(self, key: str) -> None:
        op = self.history.begin(key, None)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            self._fail(op, exc)
            raise
        op.end = time.monotonic()


