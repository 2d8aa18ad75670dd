"""The S3 router as a table: (method, target, query, headers) -> operation name."""

from __future__ import annotations

import pytest

from nuage.s3.router import LATER_BUCKET, LATER_OBJECT, ROUTES, Target, route

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
    assert route(method, target, parse_query(query), headers) == expected


@pytest.mark.parametrize("sub", LATER_BUCKET)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_later_bucket_subresources_are_not_implemented(sub: str, method: str) -> None:
    assert route(method, B, {sub: ""}, {}) == "NotImplemented"


@pytest.mark.parametrize("sub", LATER_OBJECT)
@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_later_object_subresources_are_not_implemented(sub: str, method: str) -> None:
    assert route(method, O, {sub: ""}, {}) == "NotImplemented"


def test_select_is_a_post() -> None:
    assert route("POST", O, {"select": "", "select-type": "2"}, {}) == "SelectObjectContent"
    assert route("GET", O, {"select": ""}, {}) == "NotImplemented"


def test_subresource_wins_over_plain_operation() -> None:
    # a tagging request that also carries a copy source header is still tagging
    assert route("PUT", O, {"tagging": ""}, COPY) == "PutObjectTagging"
    # versions listing ignores list-type
    assert route("GET", B, {"versions": "", "list-type": "2"}, {}) == "ListObjectVersions"


def test_every_route_is_reachable() -> None:
    """No row is shadowed by an earlier, more general row of the same method and target."""
    for i, r in enumerate(ROUTES):
        query = {r.query: ""} if r.query else {}
        headers = {r.header: "x"} if r.header else {}
        got = route(r.method, r.target, query, headers)
        if r.method == "HEAD" and r.target is S:
            continue
        assert got == r.operation, (i, r)


def test_operation_names_are_handled() -> None:
    from nuage.s3.handlers import HANDLERS

    names = {r.operation for r in ROUTES} - {"NotImplemented"}
    assert names <= set(HANDLERS), names - set(HANDLERS)
