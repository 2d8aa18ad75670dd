"""Our event-stream encoder read back by botocore's decoder (which checks both CRCs)."""

from __future__ import annotations

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from nuage.core.select.spec import SelectStats
from nuage.s3 import eventstream as es


def _decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buf = EventStreamBuffer()
    buf.add_data(data)
    return [(m.headers, m.payload) for m in buf]


def test_events_decode_with_their_headers() -> None:
    stats = SelectStats(bytes_scanned=10, bytes_processed=12, bytes_returned=3)
    data = es.records(b"a,b\n") + es.cont() + es.progress(stats) + es.stats(stats) + es.end()
    msgs = _decode(data)
    assert [h[":event-type"] for h, _ in msgs] == ["Records", "Cont", "Progress", "Stats", "End"]
    assert all(h[":message-type"] == "event" for h, _ in msgs)
    assert msgs[0] == ({":event-type": "Records", ":content-type": "application/octet-stream",
                        ":message-type": "event"}, b"a,b\n")
    assert b"<BytesScanned>10</BytesScanned><BytesProcessed>12</BytesProcessed><BytesReturned>3" in msgs[3][1]
    assert msgs[4][1] == b""


def test_error_event() -> None:
    [(headers, payload)] = _decode(es.error("CastFailed", "bad value"))
    assert headers == {":error-code": "CastFailed", ":error-message": "bad value", ":message-type": "error"}
    assert payload == b""


def test_corrupted_message_fails_the_crc() -> None:
    data = bytearray(es.records(b"hello"))
    data[-6] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        _decode(bytes(data))
