"""Canonicalisation helpers: URI encoding, query parsing, canonical URI/query/headers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, unquote, unquote_to_bytes

__all__ = [
    "QueryParam",
    "canonical_headers",
    "canonical_query",
    "canonical_query_string",
    "canonical_uri",
    "encode_component",
    "header_map",
    "parse_query",
    "percent_decode",
    "query_params",
    "trim_header_value",
]

# Characters that the AWS URI-encode rules never escape.
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")
# Already in canonical form: unreserved characters, and %XX escapes (uppercase hex) only of bytes that
# must be escaped; decoding and re-encoding such a component gives it back unchanged.
_CANONICAL = re.compile(
    r"(?:[A-Za-z0-9._~-]|%(?:[0189A-F][0-9A-F]|2[0-9A-CF]|3[A-F]|40|5[B-E]|60|7[B-DF]))*"
)
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9._~/-]*")


class QueryParam(NamedTuple):
    """One ``name[=value]`` piece of a query string, both as received and decoded."""

    raw_name: str
    raw_value: str
    has_value: bool
    """Whether the piece contained ``=`` at all (``?acl`` vs ``?acl=``)."""
    name: str
    value: str


_HEX = "0123456789abcdefABCDEF"
# every two-hex-digit escape of an ASCII byte, in any letter case: "2F" -> "/", "2f" -> "/"
_ASCII_ESCAPES = {a + b: chr(int(a + b, 16)) for a in _HEX[:8] for b in _HEX}


@lru_cache(maxsize=4096)   # pure; credentials and common values repeat from request to request
def percent_decode(raw: str) -> str:
    """``urllib.parse.unquote`` (UTF-8, errors replaced), faster when every escape is of an ASCII byte."""
    if "%" not in raw:
        return raw
    first, *rest = raw.split("%")
    out = [first]
    for piece in rest:
        char = _ASCII_ESCAPES.get(piece[:2])
        if char is None:   # a non-ASCII byte (UTF-8 sequences) or a malformed escape
            return unquote(raw)
        out.append(char)
        out.append(piece[2:])
    return "".join(out)



@lru_cache(maxsize=2048)   # pure; a hot object's presigned URL or a client's usual query comes back often
def query_params(raw_query: str) -> tuple[QueryParam, ...]:
    """:func:`parse_query` as an immutable, memoised tuple."""
    return tuple(parse_query(raw_query))


@lru_cache(maxsize=2048)
def canonical_query_string(raw_query: str, skip: str | None = None, plus_as_space: bool = False) -> str:
    """:func:`canonical_query` of a raw query string, memoised."""
    return canonical_query(query_params(raw_query), skip=skip, plus_as_space=plus_as_space)


def parse_query(raw_query: str) -> list[QueryParam]:
    """Split a raw query string into parameters, keeping order; empty pieces are ignored.

    ``+`` is kept literally (S3 clients encode spaces as ``%20``).
    """
    if not raw_query:
        return []
    params: list[QueryParam] = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        raw_name, eq, raw_value = piece.partition("=")
        params.append(QueryParam(raw_name, raw_value, bool(eq),
                                 percent_decode(raw_name) if "%" in raw_name else raw_name,
                                 percent_decode(raw_value) if "%" in raw_value else raw_value))
    return params


@lru_cache(maxsize=8192)   # most components repeat from request to request (names, dates, credentials)
def encode_component(raw: str, plus_as_space: bool = False) -> str:
    """Re-encode an already (possibly partially) percent-encoded component with the AWS rules.

    The component is percent-decoded to bytes and every byte outside ``A-Za-z0-9-_.~`` is
    written as ``%XX`` (uppercase hex), so the result does not depend on which characters the
    client chose to leave unencoded on the wire.
    """
    if _CANONICAL.fullmatch(raw):
        return raw
    if plus_as_space:
        raw = raw.replace("+", "%20")
    return quote(unquote_to_bytes(raw), safe="")


@lru_cache(maxsize=4096)
def canonical_uri(raw_path: str) -> str:
    """The SigV4 canonical URI for S3: the path as sent, each segment normalised, never doubled."""
    if not raw_path:
        return "/"
    if _UNRESERVED_PATH.fullmatch(raw_path):
        return raw_path
    return "/".join([encode_component(segment) for segment in raw_path.split("/")])


def canonical_query(
    params: Iterable[QueryParam], *, skip: str | None = None, plus_as_space: bool = False
) -> str:
    """The SigV4 canonical query string, optionally leaving out the parameter named ``skip``."""
    pairs = [
        (encode_component(p.raw_name, plus_as_space), encode_component(p.raw_value, plus_as_space))
        for p in params
        if p.name != skip
    ]
    pairs.sort()
    return "&".join([f"{name}={value}" for name, value in pairs])


def header_map(headers: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Group header values by lowercased name, preserving the order of repeated headers."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        key = name.lower()
        values = grouped.get(key)
        if values is None:
            grouped[key] = [value]
        else:
            values.append(value)
    return grouped


def trim_header_value(value: str) -> str:
    """Trim a header value and collapse inner runs of whitespace to a single space."""
    return " ".join(value.split())


def canonical_headers(headers: dict[str, list[str]], signed: Iterable[str]) -> str:
    """The canonical header block (each ``name:value`` line ends with a newline)."""
    lines = []
    for name in signed:
        values = headers.get(name)
        value = ",".join([trim_header_value(v) for v in values]) if values else ""
        lines.append(f"{name}:{value}\n")
    return "".join(lines)
