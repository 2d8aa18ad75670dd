"""The operation table walked row by row: every operation is complete, and none hides another."""

from __future__ import annotations

import inspect
from collections import Counter

import pytest

from nuage.core.policy import S3_ACTIONS
from nuage.s3.operation import Access, AccessLevel, Metering, Operation, Target
from nuage.s3.operations import BY_NAME, OPERATIONS
from nuage.s3.router import route

IDS = [f"{op.method}-{op.target.value}-{op.name}" for op in OPERATIONS]
#: The address each target hands its handler, after (svc, req).
ADDRESS = {Target.SERVICE: [], Target.BUCKET: ["bucket"], Target.OBJECT: ["bucket", "key"]}


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
def test_every_row_has_a_handler_that_takes_its_address(op: Operation) -> None:
    assert inspect.iscoroutinefunction(op.handler), op.name
    params = list(inspect.signature(op.handler).parameters)
    assert params[:2] == ["svc", "req"], op.name
    # a CORS preflight of an object is answered from the bucket's rules: it takes the bucket only
    expected = ADDRESS[Target.BUCKET] if op.access is Access.NONE else ADDRESS[op.target]
    assert params[2:] == expected, op.name


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
def test_every_row_has_a_known_iam_action_of_its_resource_level(op: Operation) -> None:
    assert S3_ACTIONS.get(op.action) == op.resource, (op.name, op.action)
    if op.target is Target.SERVICE:
        assert op.resource == "service"


def test_no_two_rows_match_the_same_requests() -> None:
    keys = Counter((op.method, op.target, op.query, op.header) for op in OPERATIONS)
    assert [k for k, n in keys.items() if n > 1] == []


@pytest.mark.parametrize("op", OPERATIONS, ids=IDS)
def test_no_row_is_shadowed_by_an_earlier_one(op: Operation) -> None:
    query = {op.query: ""} if op.query else {}
    headers = {op.header: "x"} if op.header else {}
    assert route(op.method, op.target, query, headers) is op


def test_names_are_unique_but_for_the_two_preflights() -> None:
    names = Counter(op.name for op in OPERATIONS)
    assert {n: c for n, c in names.items() if c > 1} == {"PreflightRequest": 2}
    assert set(BY_NAME) == set(names)


@pytest.mark.parametrize(("name", "level"), [
    ("ListBuckets", AccessLevel.LIST), ("ListObjectsV2", AccessLevel.LIST), ("ListParts", AccessLevel.LIST),
    ("GetObject", AccessLevel.READ), ("HeadBucket", AccessLevel.LIST), ("GetBucketAcl", AccessLevel.READ),
    ("PutObject", AccessLevel.WRITE), ("DeleteBucket", AccessLevel.WRITE), ("PutBucketCors", AccessLevel.WRITE),
    ("PutBucketAcl", AccessLevel.PERMISSIONS), ("PutObjectAcl", AccessLevel.PERMISSIONS),
    ("PutBucketPolicy", AccessLevel.PERMISSIONS), ("DeleteBucketPolicy", AccessLevel.PERMISSIONS),
    ("PutPublicAccessBlock", AccessLevel.PERMISSIONS), ("PutObjectTagging", AccessLevel.TAGGING),
    ("DeleteObjectTagging", AccessLevel.TAGGING), ("PutBucketTagging", AccessLevel.TAGGING),
    ("PutObjectRetention", AccessLevel.WRITE), ("AbortMultipartUpload", AccessLevel.WRITE),
])
def test_access_levels_follow_the_service_authorization_reference(name: str, level: AccessLevel) -> None:
    assert BY_NAME[name].access_level is level


@pytest.mark.parametrize(("name", "cls"), [
    ("PutObject", Metering.TIER1), ("CopyObject", Metering.TIER1), ("PostObject", Metering.TIER1),
    ("ListObjectsV2", Metering.TIER1), ("ListBuckets", Metering.TIER1), ("ListParts", Metering.TIER1),
    ("CompleteMultipartUpload", Metering.TIER1), ("PutBucketPolicy", Metering.TIER1),
    ("GetObject", Metering.TIER2), ("HeadObject", Metering.TIER2), ("SelectObjectContent", Metering.TIER2),
    ("GetBucketAcl", Metering.TIER2), ("HeadBucket", Metering.TIER2),
    ("DeleteObject", Metering.FREE), ("DeleteObjects", Metering.FREE), ("AbortMultipartUpload", Metering.FREE),
    ("DeleteBucket", Metering.FREE),
])
def test_metering_classes_follow_the_price_lists(name: str, cls: Metering) -> None:
    assert BY_NAME[name].metering is cls


def test_data_events_are_object_operations_and_listings() -> None:
    data = {op.name for op in OPERATIONS if op.data_event}
    assert {"GetObject", "PutObject", "DeleteObject", "DeleteObjects", "ListObjects", "ListObjectsV2",
            "ListObjectVersions", "ListMultipartUploads", "CompleteMultipartUpload"} <= data
    assert not data & {"CreateBucket", "PutBucketPolicy", "GetBucketAcl", "PutBucketCors", "ListBuckets"}


def test_only_the_preflight_skips_authentication_and_only_the_form_upload_authorizes_itself() -> None:
    assert {op.name for op in OPERATIONS if op.access is Access.NONE} == {"PreflightRequest"}
    assert {op.name for op in OPERATIONS if op.access is Access.FORM} == {"PostObject"}


def test_flags_name_the_operations_authorization_treats_apart() -> None:
    def named(flag: str) -> set[str]:
        return {op.name for op in OPERATIONS if getattr(op, flag)}

    assert named("copies") == {"CopyObject", "UploadPartCopy"}
    assert named("creates_object") == {"PutObject", "PostObject", "CopyObject", "CreateMultipartUpload"}
    assert named("lists") == {"ListObjects", "ListObjectsV2", "ListObjectVersions"}
    assert named("per_key") == {"DeleteObjects"}
    assert named("expiration_header") == {"GetObject", "HeadObject", "PutObject", "CopyObject",
                                          "CompleteMultipartUpload"}


def test_body_readers_are_writes() -> None:
    readers = {op.name for op in OPERATIONS if op.reads_body}
    assert all(BY_NAME[n].method in ("PUT", "POST") for n in readers)
    # copies and upload starts and aborts have no body; a form upload and a select do
    assert not readers & {"CopyObject", "UploadPartCopy", "CreateMultipartUpload", "AbortMultipartUpload"}
    assert {"PutObject", "UploadPart", "PostObject", "SelectObjectContent", "DeleteObjects"} <= readers
