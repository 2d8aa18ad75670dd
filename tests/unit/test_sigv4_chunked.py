"""aws-chunked body decoding: signed chunks (AWS vectors), trailers, botocore bodies, arbitrary splits."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import zlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum
from tests.unit.sigv4_data import AK, SECRET

from nuage.s3.errors import from_auth
from nuage.sigv4 import (
    AuthError,
    ChunkSigningContext,
    RequestView,
    Trailers,
    authenticate,
    decode_aws_chunked,
)

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
CHUNK_2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
CHUNK_FINAL = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
TRAILER_SIG = (
    "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"  # first:1st, second:2nd, third:3rd
)
PAYLOAD = b"a" * 66560


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def doc_context() -> ChunkSigningContext:
    """The context authenticate() derives for the AWS streaming example (checked in test_sigv4_v4)."""
    key = _hmac(_hmac(_hmac(_hmac(b"AWS4" + SECRET.encode(), "20130524"), "us-east-1"), "s3"), "aws4_request")
    return ChunkSigningContext(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", SEED)


def doc_body(final: bytes = b"\r\n") -> bytes:
    return (
        f"10000;chunk-signature={CHUNK_1}\r\n".encode()
        + PAYLOAD[:65536]
        + f"\r\n400;chunk-signature={CHUNK_2}\r\n".encode()
        + PAYLOAD[65536:]
        + f"\r\n0;chunk-signature={CHUNK_FINAL}\r\n".encode()
        + final
    )


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


async def _aiter(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def decode(
    pieces: Iterable[bytes],
    mode: str,
    ctx: ChunkSigningContext | None = None,
    max_chunk_size: int = 16 * 1024 * 1024,
) -> tuple[bytes, dict[str, str], int]:
    async def run() -> tuple[bytes, dict[str, str], int]:
        trailers = Trailers()
        out = []
        async for data in decode_aws_chunked(
            _aiter(pieces), mode=mode, ctx=ctx, trailers=trailers, max_chunk_size=max_chunk_size
        ):
            assert data
            out.append(data)
        return b"".join(out), trailers.values, len(out)

    return asyncio.run(run())


def expect(
    pieces: Iterable[bytes], mode: str, code: str, ctx: ChunkSigningContext | None = None
) -> AuthError:
    with pytest.raises(AuthError) as info:
        decode(pieces, mode, ctx)
    assert from_auth(info.value).code == code, info.value
    return info.value


def sign_chunks(
    chunks: list[bytes], ctx: ChunkSigningContext, trailers: list[tuple[str, str]] | None = None
) -> bytes:
    """Build a signed aws-chunked body the way SDKs do (independently of the decoder)."""
    body = b""
    previous = ctx.seed_signature
    empty = hashlib.sha256(b"").hexdigest()
    for chunk in [*chunks, b""]:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                ctx.amz_date,
                ctx.scope,
                previous,
                empty,
                hashlib.sha256(chunk).hexdigest(),
            ]
        )
        previous = hmac.new(ctx.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk
        body += b"\r\n" if chunk else b""
    if trailers is None:
        return body + b"\r\n"
    canonical = "".join(f"{name}:{value}\n" for name, value in trailers)
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256-TRAILER",
            ctx.amz_date,
            ctx.scope,
            previous,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    signature = hmac.new(ctx.signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    for name, value in trailers:
        body += f"{name}:{value}\r\n".encode()
    return body + f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()


# --------------------------------------------------------------------------- AWS example (signed chunks)


@pytest.mark.parametrize("piece", [1, 7, 8192, 65536 + 50, 10**6])
def test_doc_signed_chunks(piece: int) -> None:
    data, trailers, yields = decode(split(doc_body(), piece), SIGNED, doc_context())
    assert data == PAYLOAD
    assert trailers == {}
    assert yields == 2  # one verified chunk at a time


def test_doc_context_matches_authenticate() -> None:
    headers = [
        ("host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", SIGNED),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("content-length", "66824"),
        (
            "authorization",
            f"AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,"
            f"Signature={SEED}",
        ),
    ]
    req = RequestView("PUT", "/examplebucket/chunkObject.txt", "", headers, datetime(2013, 5, 24, tzinfo=UTC))
    result = authenticate(req, lambda ak: SECRET if ak == AK else None, region="us-east-1")
    assert result.chunk_context == doc_context()
    assert len(doc_body()) == 66824


def test_doc_body_without_final_crlf_is_accepted() -> None:
    assert decode([doc_body(final=b"")], SIGNED, doc_context())[0] == PAYLOAD


def test_signed_chunk_corruption() -> None:
    body = bytearray(doc_body())
    body[66000] = ord("b")  # inside the second chunk's data
    err = expect(split(bytes(body), 4096), SIGNED, "SignatureDoesNotMatch", doc_context())
    assert from_auth(err).status == 403


def test_signed_chunk_wrong_signature_or_order() -> None:
    ctx = doc_context()
    expect([doc_body().replace(CHUNK_2.encode(), b"f" * 64)], SIGNED, "SignatureDoesNotMatch", ctx)
    expect([doc_body().replace(CHUNK_FINAL.encode(), CHUNK_2.encode())], SIGNED, "SignatureDoesNotMatch", ctx)
    wrong_seed = ChunkSigningContext(ctx.signing_key, ctx.amz_date, ctx.scope, CHUNK_1)
    expect([doc_body()], SIGNED, "SignatureDoesNotMatch", wrong_seed)
    wrong_key = ChunkSigningContext(b"k" * 32, ctx.amz_date, ctx.scope, SEED)
    expect([doc_body()], SIGNED, "SignatureDoesNotMatch", wrong_key)
    # dropping the last data chunk breaks the chain
    body = doc_body()
    cut = body.index(b"400;")
    tail = body.index(b"0;chunk-signature=" + CHUNK_FINAL.encode())
    expect([body[:cut] + body[tail:]], SIGNED, "SignatureDoesNotMatch", ctx)


def test_signed_chunk_missing_signature() -> None:
    body = b"3\r\nabc\r\n0\r\n\r\n"
    expect([body], SIGNED, "SignatureDoesNotMatch", doc_context())
    expect([b"3;chunk-signature=xyz\r\nabc\r\n"], SIGNED, "SignatureDoesNotMatch", doc_context())


def test_signed_chunk_too_large() -> None:
    with pytest.raises(AuthError) as info:
        decode([doc_body()], SIGNED, doc_context(), max_chunk_size=65535)
    assert from_auth(info.value).code == "InvalidRequest"


@pytest.mark.parametrize("piece", [1, 3, 100])
def test_self_signed_multi_chunk(piece: int) -> None:
    ctx = doc_context()
    chunks = [bytes(range(256)) * 4, b"x" * 1000, b"\r\n0\r\n", b"z"]
    data, trailers, yields = decode(split(sign_chunks(chunks, ctx), piece), SIGNED, ctx)
    assert data == b"".join(chunks)
    assert yields == 4
    assert trailers == {}


# --------------------------------------------------------------------------- signed trailer


def signed_trailer_body(trailer_signature: str = TRAILER_SIG, trailers: bytes | None = None) -> bytes:
    body = doc_body(final=b"")
    if trailers is None:
        trailers = b"first:1st\r\nsecond:2nd\r\nthird:3rd\r\n"
    return body + trailers + f"x-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()


@pytest.mark.parametrize("piece", [1, 13, 70000])
def test_crt_trailer_vector(piece: int) -> None:
    data, trailers, _ = decode(split(signed_trailer_body(), piece), SIGNED_TRAILER, doc_context())
    assert data == PAYLOAD
    assert trailers == {"first": "1st", "second": "2nd", "third": "3rd"}


def test_signed_trailer_tampering() -> None:
    ctx = doc_context()
    expect([signed_trailer_body("0" * 64)], SIGNED_TRAILER, "SignatureDoesNotMatch", ctx)
    changed = b"first:1st\r\nsecond:2nd\r\nthird:4th\r\n"
    expect([signed_trailer_body(trailers=changed)], SIGNED_TRAILER, "SignatureDoesNotMatch", ctx)
    missing = doc_body(final=b"") + b"first:1st\r\n\r\n"
    err = expect([missing], SIGNED_TRAILER, "SignatureDoesNotMatch", ctx)
    assert "x-amz-trailer-signature" in err.message


def test_self_signed_trailer_with_checksum() -> None:
    ctx = doc_context()
    payload = b"hello world" * 1000
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    body = sign_chunks(split(payload, 4000), ctx, [("x-amz-checksum-crc32", crc)])
    data, trailers, _ = decode(split(body, 5), SIGNED_TRAILER, ctx)
    assert data == payload
    assert trailers == {"x-amz-checksum-crc32": crc}


# --------------------------------------------------------------------------- unsigned trailer (botocore)


def botocore_body(payload: bytes, chunk_size: int) -> tuple[bytes, str]:
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload),
        checksum_cls=Crc32Checksum,
        checksum_name="x-amz-checksum-crc32",
        chunk_size=chunk_size,
    )
    body = wrapper.read()
    assert isinstance(body, bytes)
    checksum = Crc32Checksum()
    checksum.update(payload)
    return body, checksum.b64digest()


@pytest.mark.parametrize("piece", [1, 2, 5, 64, 1 << 20])
@pytest.mark.parametrize(("size", "chunk"), [(0, 1024), (1, 1024), (5000, 1024), (100_000, 65536)])
def test_botocore_unsigned_trailer(size: int, chunk: int, piece: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    body, crc = botocore_body(payload, chunk)
    data, trailers, _ = decode(split(body, piece), UNSIGNED_TRAILER)
    assert data == payload
    assert trailers == {"x-amz-checksum-crc32": crc}


def test_unsigned_trailer_streams_before_body_ends() -> None:
    body, _ = botocore_body(b"q" * 10_000, 1000)
    consumed = 0

    async def source() -> AsyncIterator[bytes]:
        nonlocal consumed
        for piece in split(body, 1):
            consumed += 1
            yield piece

    async def run() -> int:
        trailers = Trailers()
        async for data in decode_aws_chunked(source(), mode=UNSIGNED_TRAILER, ctx=None, trailers=trailers):
            assert data == b"q"
            return consumed
        raise AssertionError("nothing decoded")

    assert asyncio.run(run()) < 10  # the first byte comes out right after the first chunk header


def test_unsigned_trailer_variants() -> None:
    # chunk signatures, uppercase hex and multiple trailers are tolerated
    body = (
        b"A;chunk-signature=ignored\r\n0123456789\r\n0\r\n"
        b"x-amz-checksum-crc32c:sOO8/Q==\r\nX-Other : v \r\n\r\n"
    )
    data, trailers, _ = decode([body], UNSIGNED_TRAILER)
    assert data == b"0123456789"
    assert trailers == {"x-amz-checksum-crc32c": "sOO8/Q==", "x-other": "v"}
    assert decode([b"1;chunk-signature=\xff\r\nx\r\n0\r\n\r\n"], UNSIGNED_TRAILER)[0] == b"x"
    # no trailers at all, or a stream that stops after the last trailer line
    assert decode([b"1\r\nx\r\n0\r\n\r\n"], UNSIGNED_TRAILER)[:2] == (b"x", {})
    assert decode([b"1\r\nx\r\n0\r\n"], UNSIGNED_TRAILER)[:2] == (b"x", {})
    assert decode([b"1\r\nx\r\n0\r\nk:v\r\n"], UNSIGNED_TRAILER)[:2] == (b"x", {"k": "v"})


def test_truncated_bodies() -> None:
    body, _ = botocore_body(b"hello world", 4)
    accepted = {body.index(b"0\r\n") + 3, len(body) - 2, len(body)}
    for cut in range(len(body) + 1):
        if cut in accepted:
            assert decode([body[:cut]], UNSIGNED_TRAILER)[0] == b"hello world"
            continue
        with pytest.raises(AuthError) as info:
            decode(split(body[:cut], 3), UNSIGNED_TRAILER)
        assert from_auth(info.value).code == "IncompleteBody", cut

    signed = doc_body()
    for cut in (0, 1, 10, 90, 65536, len(signed) - 90, len(signed) - 3):
        with pytest.raises(AuthError) as info:
            decode([signed[:cut]], SIGNED, doc_context())
        assert from_auth(info.value).code == "IncompleteBody", cut


@pytest.mark.parametrize(
    "body",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"+3\r\nabc\r\n0\r\n\r\n",
        b"\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"3\r\nabc\n0\r\n\r\n",
        b"1" * 5000 + b"\r\n",
        b"12345678901234567\r\n",
    ],
)
def test_malformed_framing(body: bytes) -> None:
    expect([body], UNSIGNED_TRAILER, "InvalidRequest")


@pytest.mark.parametrize(
    "trailer",
    [
        b"no-colon\r\n\r\n",
        b":empty-name\r\n\r\n",
        b"x:\xff\xfe\r\n\r\n",
        b"k:v\r\n\r\nextra",
        b"k:" + b"v" * 20000 + b"\r\n\r\n",
        b"".join(b"k%d:%s\r\n" % (i, b"v" * 100) for i in range(200)),
    ],
)
def test_malformed_trailers(trailer: bytes) -> None:
    err = expect([b"1\r\nx\r\n0\r\n" + trailer], UNSIGNED_TRAILER, "MalformedTrailerError")
    assert from_auth(err).status == 400


def test_data_after_final_chunk() -> None:
    expect([doc_body() + b"junk"], SIGNED, "InvalidRequest", doc_context())
    expect([doc_body(final=b"junk\r\n")], SIGNED, "InvalidRequest", doc_context())


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode"):
        decode([b""], "UNSIGNED-PAYLOAD")
    with pytest.raises(ValueError, match="ChunkSigningContext"):
        decode([b""], SIGNED)
    with pytest.raises(ValueError, match="ChunkSigningContext"):
        decode([b""], SIGNED_TRAILER)


def test_empty_pieces_are_skipped() -> None:
    pieces = [b"", b"3\r\n", b"", b"abc", b"\r\n0\r\n", b"", b"\r\n", b""]
    assert decode(pieces, UNSIGNED_TRAILER)[0] == b"abc"
