"""Read and copy preconditions with the precedence AWS applies (RFC 7232 plus S3's rules)."""

from __future__ import annotations

from dataclasses import dataclass

from nuage.errors import NotModified, PreconditionFailed


@dataclass
class ReadConditions:
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: float | None = None
    if_unmodified_since: float | None = None


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        c = candidate.strip()
        if c.startswith("W/"):
            c = c[2:]
        if c == "*" or c.strip('"') == etag:
            return True
    return False


def check_read(cond: ReadConditions | None, etag: str, last_modified: float) -> None:
    """GET/HEAD: 412 for If-Match/If-Unmodified-Since, 304 for If-None-Match/If-Modified-Since."""
    if cond is None:
        return
    lm = int(last_modified)
    if cond.if_match is not None:
        if not _etag_matches(cond.if_match, etag):
            raise PreconditionFailed(condition="If-Match")
    elif cond.if_unmodified_since is not None and lm > cond.if_unmodified_since:
        raise PreconditionFailed(condition="If-Unmodified-Since")
    if cond.if_none_match is not None:
        if _etag_matches(cond.if_none_match, etag):
            raise NotModified(etag, last_modified)
    elif cond.if_modified_since is not None and lm <= cond.if_modified_since:
        raise NotModified(etag, last_modified)


def check_copy_source(cond: ReadConditions | None, etag: str, last_modified: float) -> None:
    """x-amz-copy-source-if-*: every failure is 412, with S3's pairing rules."""
    if cond is None:
        return
    lm = int(last_modified)
    match_ok = cond.if_match is None or _etag_matches(cond.if_match, etag)
    unmod_ok = cond.if_unmodified_since is None or lm <= cond.if_unmodified_since
    none_ok = cond.if_none_match is None or not _etag_matches(cond.if_none_match, etag)
    mod_ok = cond.if_modified_since is None or lm > cond.if_modified_since
    if cond.if_match is not None and match_ok:
        unmod_ok = True
    if cond.if_none_match is not None and not none_ok:
        raise PreconditionFailed(condition="x-amz-copy-source-If-None-Match")
    if cond.if_none_match is not None and none_ok:
        mod_ok = True if cond.if_modified_since is None else mod_ok
    if not (match_ok and unmod_ok and none_ok and mod_ok):
        raise PreconditionFailed(condition="x-amz-copy-source-If-Match")
