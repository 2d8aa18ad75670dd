"""The messages between the server and a SQL worker process: frames of one kind byte, a 4-byte
big-endian length and the payload, over the worker's stdin and stdout pipes."""

from __future__ import annotations

import struct
from typing import IO

HEADER = struct.Struct(">cI")

REQUEST = b"Q"      # server -> worker: the work (pickled request, the worker's only input)
READY = b"R"        # worker: the query started; JSON {"names": [...]}
DATA = b"D"         # worker: serialized records (S3 Select)
PROGRESS = b"P"     # worker: JSON {"progress": percent}
DONE = b"S"         # worker: finished; JSON (job: rows, columns, bytes; select: the statistics)
ERROR = b"E"        # worker: failed; JSON {"kind": the SelectError class name, "message"}


def encode(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def read_frame(stream: IO[bytes]) -> tuple[bytes, bytes] | None:
    """The next frame of a blocking stream; None at its end."""
    head = _read_exactly(stream, HEADER.size)
    if head is None:
        return None
    kind, length = HEADER.unpack(head)
    payload = _read_exactly(stream, length)
    if payload is None:
        return None
    return kind, payload


def _read_exactly(stream: IO[bytes], n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
