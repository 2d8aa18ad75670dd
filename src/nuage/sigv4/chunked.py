"""Streaming decoder for ``Content-Encoding: aws-chunked`` request bodies."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

from .errors import AuthError, MalformedChunkedBody, MalformedTrailer, SignatureMismatch, TruncatedBody
from .keys import hmac_sha256_hex, sha256_hex, signatures_equal
from .model import (
    EMPTY_SHA256,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    ChunkSigningContext,
)

__all__ = ["Trailers", "decode_aws_chunked"]

_SIZE = re.compile(rb"[0-9a-fA-F]{1,16}")
_SIGNATURE = re.compile(rb"[0-9a-f]{64}")
_MAX_HEADER_LINE = 4096
_MAX_TRAILER_BYTES = 16 * 1024
_MODES = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})
_TRAILER_SIGNATURE = "x-amz-trailer-signature"
_CHUNK_MISMATCH = "The chunk signature we calculated does not match the signature you provided."
_TRAILER_MISMATCH = "The trailer signature we calculated does not match the signature you provided."
_MALFORMED_TRAILER = (
    "The request contained trailing data that was not well-formed or did not conform to our published schema."
)


@dataclass
class Trailers:
    """Trailing headers of an aws-chunked body, filled in once the body has been fully read."""

    values: dict[str, str] = field(default_factory=dict)
    """Lowercased trailer name to value, e.g. ``{"x-amz-checksum-crc32": "AAAAAA=="}``."""


def _incomplete() -> AuthError:
    return TruncatedBody(
        "The request body terminated unexpectedly before all the data was received."
    )


def _malformed(what: str) -> AuthError:
    return MalformedChunkedBody(f"Malformed aws-chunked encoding: {what}.")


def _malformed_trailer() -> AuthError:
    return MalformedTrailer(_MALFORMED_TRAILER)


class _Reader:
    """Buffered access to a stream of arbitrarily split byte pieces."""

    def __init__(self, body: AsyncIterable[bytes]) -> None:
        self._pieces = body.__aiter__()
        self._buf = bytearray()
        self._eof = False

    async def _next_piece(self) -> bytes | None:
        while not self._eof:
            try:
                piece = await self._pieces.__anext__()
            except StopAsyncIteration:
                self._eof = True
                break
            if piece:
                return bytes(piece)
        return None

    async def _fill(self) -> bool:
        piece = await self._next_piece()
        if piece is None:
            return False
        self._buf += piece
        return True

    async def readline(self, limit: int, too_long: AuthError | None = None) -> bytes | None:
        """The next CRLF-terminated line without its CRLF; ``None`` at a clean end of stream."""
        start = 0
        while True:
            end = self._buf.find(b"\r\n", start)
            if end >= 0:
                if end > limit:
                    raise too_long or _malformed("line too long")
                line = bytes(self._buf[:end])
                del self._buf[: end + 2]
                return line
            if len(self._buf) > limit + 1:
                raise too_long or _malformed("line too long")
            start = max(0, len(self._buf) - 1)
            if not await self._fill():
                if self._buf:
                    raise _incomplete()
                return None

    async def read_some(self, limit: int) -> bytes | None:
        """Up to ``limit`` bytes (at least one), or ``None`` at end of stream."""
        if self._buf:
            data = bytes(self._buf[:limit])
            del self._buf[:limit]
            return data
        piece = await self._next_piece()
        if piece is None:
            return None
        if len(piece) <= limit:
            return piece
        self._buf += piece[limit:]
        return piece[:limit]

    async def read_exact(self, size: int) -> bytes:
        parts: list[bytes] = []
        remaining = size
        while remaining:
            data = await self.read_some(remaining)
            if data is None:
                raise _incomplete()
            parts.append(data)
            remaining -= len(data)
        return b"".join(parts)

    async def expect_crlf(self) -> None:
        while len(self._buf) < 2:
            if not await self._fill():
                raise _incomplete()
        if self._buf[:2] != b"\r\n":
            raise _malformed("chunk data not followed by CRLF")
        del self._buf[:2]

    async def at_end(self) -> bool:
        while not self._buf:
            if not await self._fill():
                return True
        return False


def _parse_chunk_header(line: bytes, signed: bool) -> tuple[int, str]:
    size_field, _, extensions = line.partition(b";")
    size_field = size_field.strip(b" \t")
    if not _SIZE.fullmatch(size_field):
        raise _malformed("invalid chunk size")
    signature = b""
    if extensions:
        for extension in extensions.split(b";"):
            name, _, value = extension.partition(b"=")
            if name.strip(b" \t") == b"chunk-signature":
                signature = value.strip(b" \t")
    if not signed:
        return int(size_field, 16), ""
    if not _SIGNATURE.fullmatch(signature):
        raise SignatureMismatch("A chunk is missing a valid chunk-signature.")
    return int(size_field, 16), signature.decode("ascii")


def _check_chunk(ctx: ChunkSigningContext, previous: str, signature: str, data: bytes) -> None:
    digest = sha256_hex(data)
    to_sign = f"AWS4-HMAC-SHA256-PAYLOAD\n{ctx.amz_date}\n{ctx.scope}\n{previous}\n{EMPTY_SHA256}\n{digest}"
    if not signatures_equal(hmac_sha256_hex(ctx.signing_key, to_sign), signature):
        raise SignatureMismatch(_CHUNK_MISMATCH, details={"SignatureProvided": signature})


async def _read_trailers(reader: _Reader, ctx: ChunkSigningContext | None, previous: str) -> dict[str, str]:
    """Parse the trailer section; verify its signature when ``ctx`` is given."""
    values: dict[str, str] = {}
    canonical: list[str] = []
    signature: str | None = None
    total = 0
    while True:
        line = await reader.readline(_MAX_TRAILER_BYTES, _malformed_trailer())
        if not line:  # blank line, or a clean end of stream right after the last trailer
            break
        total += len(line) + 2
        if total > _MAX_TRAILER_BYTES:
            raise _malformed_trailer()
        raw_name, colon, raw_value = line.partition(b":")
        try:
            name = raw_name.decode("ascii").strip().lower()
            value = raw_value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise _malformed_trailer() from None
        if not colon or not name:
            raise _malformed_trailer()
        if name == _TRAILER_SIGNATURE:
            signature = value
            continue
        values[name] = value
        canonical.append(f"{name}:{value}\n")
    if not await reader.at_end():
        raise _malformed_trailer()
    if ctx is not None:
        if signature is None:
            raise SignatureMismatch("The trailer is missing x-amz-trailer-signature.")
        digest = sha256_hex("".join(canonical).encode("utf-8"))
        to_sign = f"AWS4-HMAC-SHA256-TRAILER\n{ctx.amz_date}\n{ctx.scope}\n{previous}\n{digest}"
        if not signatures_equal(hmac_sha256_hex(ctx.signing_key, to_sign), signature):
            raise SignatureMismatch(
                _TRAILER_MISMATCH, details={"SignatureProvided": signature}
            )
    return values


async def decode_aws_chunked(
    body: AsyncIterable[bytes],
    *,
    mode: str,
    ctx: ChunkSigningContext | None,
    trailers: Trailers,
    max_chunk_size: int = 16 * 1024 * 1024,
) -> AsyncIterator[bytes]:
    """Decode an aws-chunked body, yielding the payload and filling ``trailers`` at the end.

    ``mode`` is the request's ``x-amz-content-sha256`` value (one of the three ``STREAMING-*``
    modes). For the signed modes every chunk signature is verified (``ctx`` is required)
    before its data is yielded, so at most one chunk of at most ``max_chunk_size`` bytes is
    held in memory; unsigned chunks are passed through as they arrive. The caller checks
    the decoded length against ``x-amz-decoded-content-length`` and any checksum trailers.
    Raises :class:`AuthError` on a bad signature or malformed/truncated framing.
    """
    if mode not in _MODES:
        raise ValueError(f"not an aws-chunked streaming mode: {mode!r}")
    signed = mode != STREAMING_UNSIGNED_TRAILER
    if signed and ctx is None:
        raise ValueError(f"{mode} requires a ChunkSigningContext")
    reader = _Reader(body)
    previous = ctx.seed_signature if ctx is not None else ""
    while True:
        line = await reader.readline(_MAX_HEADER_LINE)
        if line is None:
            raise _incomplete()
        size, signature = _parse_chunk_header(line, signed)
        if ctx is not None and signed:
            if size > max_chunk_size:
                raise _malformed(f"chunk of {size} bytes exceeds the {max_chunk_size} bytes limit")
            data = await reader.read_exact(size)
            _check_chunk(ctx, previous, signature, data)
            previous = signature
            if data:
                yield data
        else:
            remaining = size
            while remaining:
                piece = await reader.read_some(remaining)
                if piece is None:
                    raise _incomplete()
                remaining -= len(piece)
                yield piece
        if size == 0:
            break
        await reader.expect_crlf()

    if mode == STREAMING_SIGNED:
        # The last chunk is followed by an empty line; tolerate a stream that stops right there.
        line = await reader.readline(_MAX_HEADER_LINE)
        if line or not await reader.at_end():
            raise _malformed("data after the final chunk")
        return
    signing_ctx = ctx if mode == STREAMING_SIGNED_TRAILER else None
    trailers.values.update(await _read_trailers(reader, signing_ctx, previous))
