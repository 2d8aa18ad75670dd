"""The S3 router over the operation table: (method, target, query, headers) -> operation row."""

from __future__ import annotations

import pytest

from nuage.s3.operations import LATER_BUCKET, OPERATIONS
from nuage.s3.router import Target, route

S, B, O = Target.SERVICE, Target.BUCKET, Target.OBJECT  # noqa: E741
COPY = {"x-amz-copy-source": "/b/k"}

CASES: list[tuple[str, Target, str, dict[str, str], str | None]] = [
    # service
    ("GET", S, "", {}, "ListBuckets"),
    ("HEAD", S, "", {}, None),
    ("PUT", S, "", {}, None),
    ("DELETE", S, "", {}, None),
    # bucket
    ("PUT", B, "", {}, "CreateBucket"),
    ("HEAD", B, "", {}, "HeadBucket"),
    ("DELETE", B, "", {}, "DeleteBucket"),
    ("GET", B, "", {}, "ListObjects"),
    ("GET", B, "prefix=a&delimiter=/", {}, "ListObjects"),
    ("GET", B, "list-type=2", {}, "ListObjectsV2"),
    ("GET", B, "list-type=2&encoding-type=url", {}, "ListObjectsV2"),
    ("GET", B, "versions", {}, "ListObjectVersions"),
    ("GET", B, "versions&prefix=x", {}, "ListObjectVersions"),
    ("GET", B, "uploads", {}, "ListMultipartUploads"),
    ("GET", B, "location", {}, "GetBucketLocation"),
    ("GET", B, "versioning", {}, "GetBucketVersioning"),
    ("PUT", B, "versioning", {}, "PutBucketVersioning"),
    ("GET", B, "tagging", {}, "GetBucketTagging"),
    ("PUT", B, "tagging", {}, "PutBucketTagging"),
    ("DELETE", B, "tagging", {}, "DeleteBucketTagging"),
    ("GET", B, "acl", {}, "GetBucketAcl"),
    ("PUT", B, "acl", {}, "PutBucketAcl"),
    ("POST", B, "delete", {}, "DeleteObjects"),
    ("POST", B, "", {}, "PostObject"),  # browser upload (HTML form)
    # object
    ("PUT", O, "", {}, "PutObject"),
    ("PUT", O, "x-id=PutObject", {}, "PutObject"),
    ("GET", O, "", {}, "GetObject"),
    ("GET", O, "versionId=null", {}, "GetObject"),
    ("GET", O, "response-content-type=text/plain", {}, "GetObject"),
    ("GET", O, "partNumber=1", {}, "GetObject"),
    ("HEAD", O, "", {}, "HeadObject"),
    ("HEAD", O, "versionId=null", {}, "HeadObject"),
    ("DELETE", O, "", {}, "DeleteObject"),
    ("DELETE", O, "versionId=abc", {}, "DeleteObject"),
    ("PUT", O, "", COPY, "CopyObject"),
    ("PUT", O, "x-id=CopyObject", COPY, "CopyObject"),
    ("GET", O, "tagging", {}, "GetObjectTagging"),
    ("PUT", O, "tagging", {}, "PutObjectTagging"),
    ("DELETE", O, "tagging", {}, "DeleteObjectTagging"),
    ("GET", O, "tagging&versionId=v", {}, "GetObjectTagging"),
    ("GET", O, "acl", {}, "GetObjectAcl"),
    ("PUT", O, "acl", {}, "PutObjectAcl"),
    ("GET", O, "attributes", {}, "GetObjectAttributes"),
    ("POST", O, "uploads", {}, "CreateMultipartUpload"),
    ("POST", O, "uploads&x-id=CreateMultipartUpload", {}, "CreateMultipartUpload"),
    ("PUT", O, "partNumber=1&uploadId=u", {}, "UploadPart"),
    ("PUT", O, "partNumber=1&uploadId=u", COPY, "UploadPartCopy"),
    ("GET", O, "uploadId=u", {}, "ListParts"),
    ("GET", O, "uploadId=u&max-parts=2", {}, "ListParts"),
    ("POST", O, "uploadId=u", {}, "CompleteMultipartUpload"),
    ("DELETE", O, "uploadId=u", {}, "AbortMultipartUpload"),
    ("POST", O, "", {}, None),
    ("PATCH", O, "", {}, None),
    ("OPTIONS", B, "", {}, "PreflightRequest"),
    ("OPTIONS", O, "", {}, "PreflightRequest"),
    ("OPTIONS", S, "", {}, None),
    ("GET", B, "lifecycle", {}, "GetBucketLifecycleConfiguration"),
    ("PUT", B, "lifecycle", {}, "PutBucketLifecycleConfiguration"),
    ("DELETE", B, "lifecycle", {}, "DeleteBucketLifecycle"),
    ("GET", B, "cors", {}, "GetBucketCors"),
    ("PUT", B, "cors", {}, "PutBucketCors"),
    ("DELETE", B, "cors", {}, "DeleteBucketCors"),
    ("GET", B, "replication", {}, "GetBucketReplication"),
    ("PUT", B, "replication", {}, "PutBucketReplication"),
    ("DELETE", B, "replication", {}, "DeleteBucketReplication"),
    ("GET", B, "website", {}, "GetBucketWebsite"),
    ("PUT", B, "website", {}, "PutBucketWebsite"),
    ("DELETE", B, "website", {}, "DeleteBucketWebsite"),
]


def name(method: str, target: Target, query: dict[str, str], headers: dict[str, str]) -> str | None:
    """The routed operation's name; "NotImplemented" for rows this server does not implement."""
    op = route(method, target, query, headers)
    if op is None:
        return None
    return op.name if op.implemented else "NotImplemented"


def parse_query(raw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, raw.split("&")):
        k, _, v = part.partition("=")
        out.setdefault(k, v)
    return out


@pytest.mark.parametrize(("method", "target", "query", "headers", "expected"), CASES,
                         ids=[f"{m}-{t.value}-{q or '_'}{'-copy' if h else ''}" for m, t, q, h, _ in CASES])
def test_route_table(method: str, target: Target, query: str, headers: dict[str, str],
                     expected: str | None) -> None:
    assert name(method, target, parse_query(query), headers) == expected


@pytest.mark.parametrize("sub", [q for q, *_ in LATER_BUCKET])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_later_bucket_subresources_are_not_implemented(sub: str, method: str) -> None:
    assert name(method, B, {sub: ""}, {}) == "NotImplemented"


@pytest.mark.parametrize("sub", ["restore", "torrent"])
@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_later_object_subresources_are_not_implemented(sub: str, method: str) -> None:
    assert name(method, O, {sub: ""}, {}) == "NotImplemented"


def test_select_is_a_post() -> None:
    assert name("POST", O, {"select": "", "select-type": "2"}, {}) == "SelectObjectContent"
    assert name("GET", O, {"select": ""}, {}) == "NotImplemented"


def test_subresource_wins_over_plain_operation() -> None:
    # a tagging request that also carries a copy source header is still tagging
    assert name("PUT", O, {"tagging": ""}, COPY) == "PutObjectTagging"
    # versions listing ignores list-type
    assert name("GET", B, {"versions": "", "list-type": "2"}, {}) == "ListObjectVersions"


def test_every_route_is_reachable() -> None:
    """No row is shadowed by an earlier, more general row of the same method and target."""
    for i, r in enumerate(OPERATIONS):
        query = {r.query: ""} if r.query else {}
        headers = {r.header: "x"} if r.header else {}
        assert route(r.method, r.target, query, headers) is r, (i, r.name)
