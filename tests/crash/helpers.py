"""Shared pieces of the crash tests: expected object values, a model of acknowledged writes, raw
streaming uploads, and read-only views of the data folder (blob files, the ``blobs`` table)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import json
import math
import os
import sqlite3
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions

from tests.support.server import NuageServer

MiB = 1024 * 1024
HEX = set("0123456789abcdef")


# -- expected values ----------------------------------------------------------------------------------
def crc32_raw(data: bytes) -> bytes:
    return zlib.crc32(data).to_bytes(4, "big")


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(crc32_raw(data)).decode()


@dataclass(frozen=True)
class Value:
    """What a GET must return for one written version of an object."""

    sha256: str
    size: int
    etag: str          # without quotes
    crc32: str         # x-amz-checksum-crc32 as GetObject(ChecksumMode=ENABLED) returns it

    @staticmethod
    def single(data: bytes) -> Value:
        return Value(hashlib.sha256(data).hexdigest(), len(data), hashlib.md5(data).hexdigest(), crc32_b64(data))

    def no_checksum(self) -> Value:
        """The same bytes stored without a checksum (none was sent)."""
        return dataclasses.replace(self, crc32="")

    @staticmethod
    def multipart(parts: list[bytes]) -> Value:
        whole = hashlib.sha256()
        for p in parts:
            whole.update(p)
        etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + f"-{len(parts)}"
        composite = base64.b64encode(crc32_raw(b"".join(crc32_raw(p) for p in parts))).decode() + f"-{len(parts)}"
        return Value(whole.hexdigest(), sum(len(p) for p in parts), etag, composite)


Absent = None  # the value of a deleted / never written key


@dataclass
class Op:
    key: str
    value: Value | None            # None: a delete
    start: float
    end: float | None = None       # when the 200 arrived; None while unknown
    failed: bool = False           # a definite error response: certainly not applied

    @property
    def acked(self) -> bool:
        return self.end is not None


@dataclass
class History:
    """Every write of one round, with what each key held when the round began."""

    baseline: dict[str, Value | None]
    ops: list[Op] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, key: str, value: Value | None) -> Op:
        op = Op(key, value, time.monotonic())
        with self.lock:
            self.ops.append(op)
        return op

    def candidates(self, key: str) -> list[Value | None]:
        """Values the key may hold after a crash: the baseline or any write (acknowledged or in flight)
        that no acknowledged write provably followed (started after it was acknowledged)."""
        ops = [op for op in self.ops if op.key == key and not op.failed]
        base = Op(key, self.baseline.get(key), -math.inf, -math.inf)
        out: list[Value | None] = []
        for op in [base, *ops]:
            end = op.end if op.end is not None else math.inf
            if not any(o.acked and o.start > end for o in ops):
                out.append(op.value)
        return out

    def keys(self) -> set[str]:
        return set(self.baseline) | {op.key for op in self.ops}


# -- errors -------------------------------------------------------------------------------------------
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    botocore.exceptions.HTTPClientError,          # ConnectionClosedError, ReadTimeoutError, ...
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionError,
    ConnectionError,
    http.client.HTTPException,
    OSError,
)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, CONNECTION_ERRORS) and not isinstance(exc, botocore.exceptions.ClientError)


# -- reading back --------------------------------------------------------------------------------------
def list_all(client: Any, bucket: str) -> dict[str, tuple[int, str]]:
    """key -> (size, etag) of every listed object (ListObjectsV2, all pages)."""
    out: dict[str, tuple[int, str]] = {}
    token: str | None = None
    while True:
        kw: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 50}
        if token:
            kw["ContinuationToken"] = token
        page = client.list_objects_v2(**kw)
        for item in page.get("Contents", []):
            out[item["Key"]] = (int(item["Size"]), item["ETag"].strip('"'))
        if not page.get("IsTruncated"):
            return out
        token = page["NextContinuationToken"]


@dataclass
class Observed:
    value: Value | None
    problems: list[str]


def read_back(client: Any, bucket: str, key: str) -> tuple[Value | None, dict[str, Any]]:
    """GET the whole object with checksum mode on; (observed value, response headers of interest)."""
    try:
        resp = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchKey":
            return None, {}
        raise
    body = resp["Body"]
    sha = hashlib.sha256()
    n = 0
    try:
        for chunk in iter(lambda: body.read(MiB), b""):
            sha.update(chunk)
            n += len(chunk)
    finally:
        body.close()
    info = {"etag": resp["ETag"].strip('"'), "crc32": resp.get("ChecksumCRC32"),
            "content_length": resp["ContentLength"]}
    return Value(sha.hexdigest(), n, info["etag"], info["crc32"] or ""), info


def describe(v: Value | None) -> str:
    return "absent" if v is None else f"<{v.size} bytes sha256 {v.sha256[:12]} etag {v.etag}>"


def check_bucket(client: Any, bucket: str, expected: Callable[[str], list[Value | None]],
                 keys: Iterable[str]) -> tuple[dict[str, Value | None], list[str]]:
    """Read every key back and compare with the values it may hold; check the listing agrees.
    Returns (what each key holds now, problems)."""
    problems: list[str] = []
    listed = list_all(client, bucket)
    keys = set(keys)
    for key in sorted(set(listed) - keys):
        problems.append(f"{key!r}: listed {listed[key]} but never written")
    state: dict[str, Value | None] = {}
    for key in sorted(keys):
        allowed = expected(key)
        try:
            got, info = read_back(client, bucket, key)
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            problems.append(f"{key!r}: GET failed: {exc!r} (listed: {listed.get(key)})")
            state[key] = None
            continue
        state[key] = got
        if got is None:
            if None not in allowed:
                problems.append(f"{key!r}: missing, expected one of {[describe(v) for v in allowed]}")
            if key in listed:
                problems.append(f"{key!r}: listed {listed[key]} but GET says NoSuchKey")
            continue
        if info["content_length"] != got.size:
            problems.append(f"{key!r}: Content-Length {info['content_length']} but {got.size} bytes read")
        match = [v for v in allowed if v is not None and v.sha256 == got.sha256]
        if not match:
            problems.append(f"{key!r}: holds {describe(got)}, which is none of the acknowledged or in-flight "
                            f"versions {[describe(v) for v in allowed]} (partial or mixed object?)")
            continue
        want = match[0]
        state[key] = want
        if got.size != want.size:
            problems.append(f"{key!r}: size {got.size} != {want.size}")
        if got.etag != want.etag:
            problems.append(f"{key!r}: ETag {got.etag} != {want.etag}")
        if got.crc32 != want.crc32:
            problems.append(f"{key!r}: x-amz-checksum-crc32 {got.crc32!r} != {want.crc32!r}")
        if key not in listed:
            problems.append(f"{key!r}: readable but not listed")
        elif listed[key] != (want.size, want.etag):
            problems.append(f"{key!r}: listed as {listed[key]}, object is {(want.size, want.etag)}")
    return state, problems


# -- the data folder -------------------------------------------------------------------------------------
def blob_files(data_dir: Path) -> dict[str, int]:
    """Every blob file, in place under DATA/blobs or still being written under DATA/tmp: name -> size."""
    out: dict[str, int] = {}
    for sub in ("blobs", "tmp"):
        root = data_dir / sub
        if not root.exists():
            continue
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    out[name] = os.stat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    continue
    return out


def blob_path(data_dir: Path, blob_id: str) -> Path:
    return data_dir / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id


@dataclass
class MetaView:
    registered: set[str]                        # the ``blobs`` table
    segments: dict[str, int]                    # blob -> size, from live object rows
    parts: dict[str, int]                       # blob -> size, from parts of unfinished uploads
    uploads: int


def meta_view(data_dir: Path) -> MetaView:
    """Read DATA/meta.sqlite3 without writing to it."""
    uri = f"file:{data_dir / 'meta.sqlite3'}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=10)
    try:
        registered = {r[0] for r in conn.execute("SELECT id FROM blobs")}
        segments: dict[str, int] = {}
        for (raw,) in conn.execute("SELECT segments FROM objects"):
            if isinstance(raw, bytes):   # an object whose bytes are all inline: the column holds them
                segments["raw:" + raw.decode("latin-1")] = len(raw)
                continue
            for blob, size, *_crc in json.loads(raw):   # [blob, size] or [blob, size, crc]
                segments[blob] = int(size)
        parts = {r[0]: int(r[1]) for r in conn.execute("SELECT blob, size FROM parts")}
        uploads = int(conn.execute("SELECT count(*) FROM uploads").fetchone()[0])
    finally:
        conn.close()
    return MetaView(registered, segments, parts, uploads)


def storage_problems(data_dir: Path, *, allow_leaked: bool = False) -> list[str]:
    """Blob files and metadata agree: no missing or short files, and (unless ``allow_leaked``, as right
    after a crash and before a sweep) no files that no metadata references."""
    files = blob_files(data_dir)
    view = meta_view(data_dir)
    problems = []
    leaked = set(files) - view.registered
    missing = view.registered - set(files)
    if leaked and not allow_leaked:
        problems.append(f"{len(leaked)} blob files no metadata references (of {len(files)}): {sorted(leaked)[:5]}")
    if missing:
        problems.append(f"{len(missing)} registered blobs have no file: {sorted(missing)[:5]}")
    for blob, size in {**view.segments, **view.parts}.items():
        if blob.startswith(("inline:", "raw:")):  # small blobs live in the metadata row itself
            data = (blob[len("raw:"):].encode("latin-1") if blob.startswith("raw:")
                    else base64.b64decode(blob[len("inline:"):]))
            if len(data) != size:
                problems.append(f"inline blob of {size} bytes has the wrong length")
            continue
        if blob not in view.registered:
            problems.append(f"blob {blob} is used by metadata but not registered in `blobs`")
        if blob in files and files[blob] != size:
            problems.append(f"blob {blob} is {files[blob]} bytes on disk, metadata says {size}")
    return problems


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# -- raw streaming uploads --------------------------------------------------------------------------------
@dataclass
class StreamingPut:
    """A PUT whose body is sent slowly from a thread over a raw connection (presigned URL), so the
    test decides when the server dies relative to the body."""

    server: NuageServer
    bucket: str
    key: str
    chunks: Iterator[bytes]
    length: int | None = None       # Content-Length; None: Transfer-Encoding: chunked
    sent: int = 0
    status: int | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> StreamingPut:
        client = self.server.client(signature_version="s3v4")
        url = client.generate_presigned_url("put_object", Params={"Bucket": self.bucket, "Key": self.key},
                                            ExpiresIn=600)
        client.close()
        self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
        self.thread.start()
        return self

    def _run(self, url: str) -> None:
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        try:
            conn.putrequest("PUT", f"{u.path}?{u.query}", skip_accept_encoding=True)
            if self.length is None:
                conn.putheader("Transfer-Encoding", "chunked")
            else:
                conn.putheader("Content-Length", str(self.length))
            conn.endheaders()
            for chunk in self.chunks:
                if self.length is None:
                    conn.send(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                else:
                    conn.send(chunk)
                self.sent += len(chunk)
            if self.length is None:
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            resp.read()
            self.status = resp.status
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            self.error = exc
        finally:
            conn.close()

    def join(self, timeout: float = 30) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"upload of {self.key!r} still running"


def slow_chunks(data: bytes, chunk: int, delay: float, stop: threading.Event | None = None) -> Iterator[bytes]:
    for i in range(0, len(data), chunk):
        if stop is not None and stop.is_set():
            return
        yield data[i:i + chunk]
        time.sleep(delay)
