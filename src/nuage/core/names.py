"""Validation of bucket names and object keys, as AWS applies it."""

from __future__ import annotations

import re

from nuage.errors import InvalidArgument, InvalidBucketName, KeyTooLong
from nuage.types import MAX_KEY_BYTES

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_IP_RE = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$")


def check_bucket_name(name: str) -> None:
    if (
        not _BUCKET_RE.match(name)
        or ".." in name
        or ".-" in name
        or "-." in name
        or _IP_RE.match(name)
        or name.startswith("xn--")
        or name.startswith("sthree-")
        or name.endswith("-s3alias")
        or name.endswith("--ol-s3")
    ):
        raise InvalidBucketName(bucket=name)


def check_key(key: str) -> None:
    if not key:
        raise InvalidArgument("Object key must not be empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise KeyTooLong()
    if "\x00" in key:
        raise InvalidArgument("Object key must not contain NUL")
