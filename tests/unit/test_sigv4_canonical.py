"""Canonicalisation rules of SigV4 (URI, query, headers) checked against botocore's own encoders."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from tests.unit.sigv4_data import CANONICAL_EXTRA_KEYS, TRICKY_KEYS

from nuage.sigv4.canonical import (
    QueryParam,
    canonical_headers,
    canonical_query,
    canonical_uri,
    encode_component,
    header_map,
    parse_query,
)

KEYS = [*TRICKY_KEYS, *CANONICAL_EXTRA_KEYS, "", "-_.~"]


@pytest.mark.parametrize("key", KEYS)
def test_canonical_uri_matches_botocore_encoding(key: str) -> None:
    # botocore puts keys on the wire with quote(key, safe="/~") and signs that path verbatim.
    wire = "/bucket/" + quote(key, safe="/~")
    assert canonical_uri(wire) == wire
    # A client leaving sub-delimiters and other path-legal characters unencoded gets the same result.
    lax = "/bucket/" + quote(key, safe="/~!$&'()*+,;=:@")
    assert canonical_uri(lax) == wire
    # Lowercase escapes are normalised to uppercase.
    lowercase_escapes = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), wire)
    assert canonical_uri(lowercase_escapes) == wire


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/bucket", "/bucket"),
        ("/b/a b", "/b/a%20b"),
        ("/b/a+b", "/b/a%2Bb"),
        ("/b/a%2Fb", "/b/a%2Fb"),
        ("/b/a%2fb", "/b/a%2Fb"),
        ("/b//x//", "/b//x//"),
        ("/b/%zz", "/b/%25zz"),
        ("/b/%", "/b/%25"),
        ("/b/ü", "/b/%C3%BC"),
        ("/b/%C3%BC", "/b/%C3%BC"),
        ("/b/%7E~", "/b/~~"),
        ("/b/a=b&c", "/b/a%3Db%26c"),
        ("/b/../x/./y", "/b/../x/./y"),
    ],
)
def test_canonical_uri(raw: str, expected: str) -> None:
    assert canonical_uri(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc-_.~XYZ09", "abc-_.~XYZ09"),
        ("a b", "a%20b"),
        ("a%20b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("a/b", "a%2Fb"),
        ("%e2%82%ac", "%E2%82%AC"),
        ("€", "%E2%82%AC"),
        ("%41", "A"),
        ("*", "%2A"),
    ],
)
def test_encode_component(raw: str, expected: str) -> None:
    assert encode_component(raw) == expected


def test_encode_component_plus_as_space() -> None:
    assert encode_component("a+b", plus_as_space=True) == "a%20b"


def test_parse_query() -> None:
    params = parse_query("acl&versionId=a%20b&prefix=&x=1=2&&plus=a+b&%E2%82%AC=%e2%82%ac")
    assert params == [
        QueryParam("acl", "", False, "acl", ""),
        QueryParam("versionId", "a%20b", True, "versionId", "a b"),
        QueryParam("prefix", "", True, "prefix", ""),
        QueryParam("x", "1=2", True, "x", "1=2"),
        QueryParam("plus", "a+b", True, "plus", "a+b"),
        QueryParam("%E2%82%AC", "%e2%82%ac", True, "€", "€"),
    ]
    assert parse_query("") == []


@pytest.mark.parametrize(
    "params",
    [
        [("prefix", "a b"), ("delimiter", "/"), ("max-keys", "10")],
        [("b", "2"), ("a", "3"), ("a", "1"), ("A", "x"), ("_", "y"), ("~", "z")],
        [("ü", "€"), ("x*", "y*"), ("k", "!'()")],
        [("uploads", ""), ("acl", "")],
        [("response-content-disposition", 'attachment; filename="a b+c.txt"')],
        [("list-type", "2"), ("start-after", "a%2Fb"), ("continuation-token", "1/2+3==")],
    ],
)
def test_canonical_query_matches_botocore(params: list[tuple[str, str]]) -> None:
    signer = SigV4Auth(Credentials("a", "b"), "s3", "us-east-1")
    expected = signer._canonical_query_string_params(params)
    wire = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in params)
    assert canonical_query(parse_query(wire)) == expected
    lax = "&".join(f"{quote(k, safe='/:@!$*')}={quote(v, safe='/:@!$*')}" for k, v in params)
    assert canonical_query(parse_query(lax)) == expected


def test_canonical_query_rules() -> None:
    params = parse_query("uploads&X-Amz-Signature=abc&b=2&a=2&a=1&c")
    assert canonical_query(params) == "X-Amz-Signature=abc&a=1&a=2&b=2&c=&uploads="
    assert canonical_query(params, skip="X-Amz-Signature") == "a=1&a=2&b=2&c=&uploads="
    assert canonical_query(parse_query("p=a+b")) == "p=a%2Bb"
    assert canonical_query(parse_query("p=a+b"), plus_as_space=True) == "p=a%20b"
    assert canonical_query([]) == ""


def test_canonical_headers() -> None:
    headers = header_map(
        [
            ("Host", "example.com"),
            ("x-amz-meta-a", "  one   two\tthree  "),
            ("x-amz-meta-b", "first"),
            ("x-amz-meta-b", " second "),
            ("x-amz-date", "20130524T000000Z"),
        ]
    )
    assert headers["host"] == ["example.com"]
    block = canonical_headers(headers, ["host", "x-amz-date", "x-amz-meta-a", "x-amz-meta-b", "x-missing"])
    assert block == (
        "host:example.com\n"
        "x-amz-date:20130524T000000Z\n"
        "x-amz-meta-a:one two three\n"
        "x-amz-meta-b:first,second\n"
        "x-missing:\n"
    )


def _http_headers(raw: list[tuple[str, str]]) -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in raw:
        headers[name] = value
    return headers


def test_canonical_headers_match_botocore() -> None:
    raw = [
        ("host", "h:9000"),
        ("x-amz-meta-x", "  a    b "),
        ("content-type", "text/plain;  charset=utf-8"),
        ("x-amz-meta-x", "c"),
    ]
    signer = SigV4Auth(Credentials("a", "b"), "s3", "us-east-1")
    expected = signer.canonical_headers(_http_headers(raw)) + "\n"
    ours = canonical_headers(header_map(raw), sorted({name for name, _ in raw}))
    assert ours == expected
