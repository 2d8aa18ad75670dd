"""The AWS event-stream framing of SelectObjectContent responses.

A message is a prelude (total length, headers length, CRC32 of those 8 bytes), the headers (name
length byte, name, type 7 = string, 2-byte value length, value), the payload, and a CRC32 of
everything before it. All integers are big-endian.
"""

from __future__ import annotations

import struct
import zlib

from nuage.core.select.spec import SelectStats

STRING = 7


def _headers(pairs: list[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in pairs:
        n, v = name.encode(), value.encode()
        out += struct.pack("!B", len(n)) + n + struct.pack("!BH", STRING, len(v)) + v
    return bytes(out)


def message(headers: list[tuple[str, str]], payload: bytes = b"") -> bytes:
    head = _headers(headers)
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack("!II", total, len(head))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack("!I", zlib.crc32(body))


def event(event_type: str, payload: bytes = b"", content_type: str | None = None) -> bytes:
    headers = [(":event-type", event_type)]
    if content_type is not None:
        headers.append((":content-type", content_type))
    headers.append((":message-type", "event"))
    return message(headers, payload)


def records(payload: bytes) -> bytes:
    return event("Records", payload, "application/octet-stream")


def _details(tag: str, stats: SelectStats) -> bytes:
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><{tag} xmlns=\"\"><BytesScanned>{stats.bytes_scanned}"
            f"</BytesScanned><BytesProcessed>{stats.bytes_processed}</BytesProcessed><BytesReturned>"
            f"{stats.bytes_returned}</BytesReturned></{tag}>").encode()


def stats(s: SelectStats) -> bytes:
    return event("Stats", _details("Stats", s), "text/xml")


def progress(s: SelectStats) -> bytes:
    return event("Progress", _details("Progress", s), "text/xml")


def cont() -> bytes:
    return event("Cont")


def end() -> bytes:
    return event("End")


def error(code: str, text: str) -> bytes:
    return message([(":error-code", code), (":error-message", text), (":message-type", "error")])
