"""The S3 app's decoded query: what parse_qsl(keep_blank_values=True) gives, first value winning."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from nuage.s3.app import _query_dict

CASES = ["", "acl", "acl=", "prefix=a+b&prefix=c", "a%2Bb=c%20d", "list-type=2&start-after=%C3%A9t%C3%A9",
         "&&x=1&", "k=%ZZ%2", "X-Amz-Credential=AKID%2F20261126%2Fus-east-1%2Fs3%2Faws4_request",
         "p=%E9", "=v&=w", "q=a=b"]


@pytest.mark.parametrize("raw", CASES)
def test_matches_parse_qsl(raw: str) -> None:
    expected: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        expected.setdefault(name, value)
    assert _query_dict(raw) == expected
