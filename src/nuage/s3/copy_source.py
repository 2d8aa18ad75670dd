"""The ``x-amz-copy-source`` header of CopyObject and UploadPartCopy, parsed once per request.

Authorization (:mod:`nuage.s3.access`) and the copy handlers must agree on exactly which version is
read, so both take it from :func:`copy_source`, which parses the header the first time and keeps the
result on the request. A source named without a versionId is read at the version that authorization
decided on (``req.copy_version``, set by authorization; :func:`version_to_read`), not at one written in
between.

The header is ``[/]BUCKET/KEY`` (URL-encoded), optionally followed by ``?versionId=ID``; S3 knows no
other parameter there, so anything else, or ``versionId`` twice, is refused rather than guessed at.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import unquote

from nuage.s3 import errors as e
from nuage.s3.http import Request
from nuage.types import BucketName, ObjectKey, VersionId

HEADER = "x-amz-copy-source"


class CopySource(NamedTuple):
    bucket: BucketName
    key: ObjectKey
    version_id: VersionId | None

    @property
    def condition_value(self) -> str:
        """The value of the ``s3:x-amz-copy-source`` condition key: ``BUCKET/KEY``."""
        return f"{self.bucket}/{self.key}"


def _invalid(raw: str, message: str = "Invalid copy source object key") -> e.S3Error:
    return e.InvalidArgument(message, ArgumentName=HEADER, ArgumentValue=raw)


def parse_copy_source(raw: str) -> CopySource:
    """``[/]BUCKET/KEY[?versionId=ID]`` -> :class:`CopySource`; InvalidArgument for anything else."""
    raw_path, sep, query = raw.partition("?")
    version: str | None = None
    if sep and query:
        seen = False
        for part in query.split("&"):
            name, has_value, value = part.partition("=")
            if name != "versionId" or not has_value:
                raise _invalid(raw, "Unsupported copy source parameter.")
            if seen:
                raise _invalid(raw, "Duplicate versionId in the copy source.")
            seen, version = True, unquote(value)
        if version == "":
            raise e.InvalidArgument("Invalid version id specified", ArgumentName=HEADER, ArgumentValue=raw)
    path = unquote(raw_path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise _invalid(raw)
    return CopySource(BucketName(bucket), ObjectKey(key), VersionId(version) if version is not None else None)


def copy_source(req: Request) -> CopySource:
    """The request's copy source, parsed on first use and then reused (the header does not change)."""
    if req.copy_source is not None:
        return req.copy_source
    raw = req.headers.get(HEADER)
    if raw is None:
        raise _invalid("", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
    parsed = parse_copy_source(raw)
    req.copy_source = parsed
    return parsed


def version_to_read(req: Request) -> VersionId | None:
    """The version of the source the copy reads: the one named, else the one authorization decided on (none
    when the decision needed no object, as for the bucket owner without a bucket policy: the current one)."""
    named = copy_source(req).version_id
    if named is not None:
        return named
    return req.copy_version
