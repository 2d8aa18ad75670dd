"""Small blobs that never become files: their bytes travel inside the blob id (``raw:`` and the bytes
as Latin-1 text, one character per byte; ``inline:<base64>`` in databases written before), which the
metadata commit stores in the object's row."""

from __future__ import annotations

import base64

from nuage.types import BlobId

RAW_PREFIX = "raw:"             # the bytes as Latin-1 text: converting is a copy, not a decode
INLINE_PREFIX = "inline:"       # base64 (earlier versions): still read


def is_inline(blob_id: str) -> bool:
    return blob_id.startswith(RAW_PREFIX) or blob_id.startswith(INLINE_PREFIX)


def inline_id(data: bytes) -> BlobId:
    return BlobId(RAW_PREFIX + data.decode("latin-1"))


def inline_bytes(blob_id: str) -> bytes:
    if blob_id.startswith(RAW_PREFIX):
        return blob_id[len(RAW_PREFIX):].encode("latin-1")
    return base64.b64decode(blob_id[len(INLINE_PREFIX):])
