"""Wildcards and policy variables (nuage.core.policy.matching)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from nuage.core.policy.matching import can_match_prefix, glob, match_action, match_arn

VARS = {"aws:username": ["alice"], "aws:userid": ["AIDAEXAMPLE"], "multi": ["a", "b"], "odd": ["a*b"]}


def lookup(key: str) -> Sequence[str] | None:
    return VARS.get(key.lower())


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("s3:GetObject", "s3:GetObject", True),
    ("s3:getobject", "s3:GetObject", True),
    ("S3:GETOBJECT", "s3:GetObject", True),
    ("s3:*", "s3:PutObject", True),
    ("*", "s3:PutObject", True),
    ("s3:Get*", "s3:GetObjectVersion", True),
    ("s3:Get*", "s3:PutObject", False),
    ("s3:*Object", "s3:DeleteObject", True),
    ("s3:*Object", "s3:DeleteObjectVersion", False),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:Get?bject", "s3:GetOObject", False),
    ("s3:GetObject", "s3:GetObjectAcl", False),
    ("iam:*", "s3:GetObject", False),
    ("s3:List*", "s3:ListBucket", True),
])
def test_match_action(pattern: str, action: str, expected: bool) -> None:
    assert match_action(pattern, action) is expected


@pytest.mark.parametrize(("pattern", "arn", "expected"), [
    ("*", "arn:aws:s3:::b/k", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/k", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/deep/key/with:colon", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b", False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::bb/k", False),
    ("arn:aws:s3:::b", "arn:aws:s3:::b", True),
    ("arn:aws:s3:::b", "arn:aws:s3:::b/k", False),
    ("arn:aws:s3:::b*", "arn:aws:s3:::b/k", True),
    ("arn:aws:s3:::*", "arn:aws:s3:::", True),
    ("arn:aws:s3:::*", "arn:aws:s3:::anything/at/all", True),
    ("arn:aws:s3:::B/*", "arn:aws:s3:::b/k", False),           # case-sensitive
    ("arn:aws:s3:::b/K*", "arn:aws:s3:::b/k1", False),
    ("arn:aws:s3:::b/k?", "arn:aws:s3:::b/k1", True),
    ("arn:aws:s3:::b/k?", "arn:aws:s3:::b/k12", False),
    ("arn:aws:*:::b/*", "arn:aws:s3:::b/k", True),
    ("arn:aws:*:::b/*", "arn:aws:s3:x:::b/k", False),        # a wildcard stays in its ARN part
    ("arn:aws:iam::*:user/*", "arn:aws:iam::111122223333:user/bob", True),
    ("arn:aws:iam::1111*:user/*", "arn:aws:iam::222222223333:user/bob", False),
    ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/x", True),
    ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/bob/x", False),
    ("arn:aws:s3:::b/${AWS:UserName}/*", "arn:aws:s3:::b/alice/x", True),
    ("arn:aws:s3:::b/${aws:PrincipalTag/x}/*", "arn:aws:s3:::b/alice/x", False),  # unresolved: no match
    ("arn:aws:s3:::b/${aws:PrincipalTag/x, 'shared'}/*", "arn:aws:s3:::b/shared/x", True),
    ("arn:aws:s3:::b/${multi}/*", "arn:aws:s3:::b/a/x", False),  # multivalued keys are not variables
    ("arn:aws:s3:::b/${odd}", "arn:aws:s3:::b/a*b", True),        # variable values are literal
    ("arn:aws:s3:::b/${odd}", "arn:aws:s3:::b/aXb", False),
    ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", True),
    ("arn:aws:s3:::b/${*}", "arn:aws:s3:::b/x", False),
    ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", True),
    ("arn:aws:s3:::b/${?}", "arn:aws:s3:::b/x", False),
    ("arn:aws:s3:::b/${$}x", "arn:aws:s3:::b/$x", True),
    ("arn:aws:s3:::b/${aws:x, 'it''s'}", "arn:aws:s3:::b/it's", True),
    ("arn:aws:s3:::b/a.b+c(d)", "arn:aws:s3:::b/a.b+c(d)", True),     # regex characters are literal
    ("arn:aws:s3:::b/a.b", "arn:aws:s3:::b/aXb", False),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/line\nbreak", True),
])
def test_match_arn(pattern: str, arn: str, expected: bool) -> None:
    assert match_arn(pattern, arn, lookup) is expected


def test_variables_are_literal_without_lookup() -> None:
    assert match_arn("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/${aws:username}", None)
    assert not match_arn("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/alice", None)


@pytest.mark.parametrize(("pattern", "value", "expected"), [
    ("home/*", "home/alice/x", True),
    ("home/*", "Home/alice", False),
    ("*", "", True),
    ("", "", True),
    ("a?c", "abc", True),
    ("a?c", "ac", False),
    ("*.jpg", "x/y.jpg", True),
    ("home/${aws:username}/*", "home/alice/x", True),
    ("home/${aws:username}/*", "home/bob/x", False),
])
def test_glob(pattern: str, value: str, expected: bool) -> None:
    assert glob(pattern, value, lookup=lookup) is expected


@pytest.mark.parametrize(("pattern", "prefix", "expected"), [
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/", True),
    ("arn:aws:s3:::b", "arn:aws:s3:::b/", False),
    ("arn:aws:s3:::c/*", "arn:aws:s3:::b/", False),
    ("*", "arn:aws:s3:::b/", True),
    ("arn:aws:s3:::b?", "arn:aws:s3:::b/", True),
    ("arn:aws:s3:::b/${aws:username}", "arn:aws:s3:::b/", True),
    ("arn:aws:s3:::b/x", "arn:aws:s3:::b/", True),
    ("arn:aws:s3:::*/x", "arn:aws:s3:::b/", True),
])
def test_can_match_prefix(pattern: str, prefix: str, expected: bool) -> None:
    assert can_match_prefix(pattern, prefix) is expected
