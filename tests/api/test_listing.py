"""ListObjects v1 and v2, ListObjectVersions: prefixes, delimiters, pagination, encoding, order."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.api.helpers import assert_error
from tests.support import rawhttp
from tests.support.server import NuageServer

KEYS = ["a/1", "a/2", "a/b/3", "b/4", "c", "d/5/6", "e"]


@pytest.fixture
def tree(s3: Any, bucket: str) -> str:
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def test_v2_all(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree)
    assert [o["Key"] for o in resp["Contents"]] == KEYS
    assert resp["KeyCount"] == len(KEYS)
    assert resp["IsTruncated"] is False
    assert resp["MaxKeys"] == 1000
    assert resp["Name"] == tree
    first = resp["Contents"][0]
    assert first["Size"] == 3 and first["ETag"].startswith('"') and "Owner" not in first


def test_v2_prefix_delimiter(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["c", "e"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert resp["KeyCount"] == 5
    resp = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in resp["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/b/"]
    assert resp["Prefix"] == "a/" and resp["Delimiter"] == "/"


def test_v2_non_slash_delimiter(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree, Delimiter="1")
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/1"]
    assert "a/1" not in [o["Key"] for o in resp["Contents"]]


def test_v2_pagination(s3: Any, tree: str) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"Bucket": tree, "MaxKeys": 2}
        if token:
            kwargs["ContinuationToken"] = token
        resp = s3.list_objects_v2(**kwargs)
        pages += 1
        seen += [o["Key"] for o in resp.get("Contents", [])]
        assert resp["KeyCount"] <= 2
        if not resp["IsTruncated"]:
            assert "NextContinuationToken" not in resp
            break
        token = resp["NextContinuationToken"]
        if token and "ContinuationToken" in kwargs:
            assert resp["ContinuationToken"] == kwargs["ContinuationToken"]
    assert seen == KEYS
    assert pages == 4


def test_v2_pagination_with_common_prefixes(s3: Any, tree: str) -> None:
    paginator = s3.get_paginator("list_objects_v2")
    keys: list[str] = []
    prefixes: list[str] = []
    for page in paginator.paginate(Bucket=tree, Delimiter="/", PaginationConfig={"PageSize": 1}):
        assert page["KeyCount"] <= 1
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == ["c", "e"]
    assert prefixes == ["a/", "b/", "d/"]


def test_v2_start_after(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree, StartAfter="b/4")
    assert [o["Key"] for o in resp["Contents"]] == ["c", "d/5/6", "e"]
    assert resp["StartAfter"] == "b/4"


def test_v2_max_keys_zero(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree, MaxKeys=0)
    assert resp["KeyCount"] == 0
    assert "Contents" not in resp


def test_v2_fetch_owner(s3: Any, tree: str) -> None:
    resp = s3.list_objects_v2(Bucket=tree, FetchOwner=True)
    owner = resp["Contents"][0]["Owner"]
    assert owner["ID"] == s3.list_buckets()["Owner"]["ID"]


def test_v2_bad_continuation_token(s3: Any, tree: str) -> None:
    assert_error(s3.list_objects_v2, "InvalidArgument", 400, Bucket=tree, ContinuationToken="!!not-a-token!!")


def test_v2_negative_max_keys(server: NuageServer, tree: str) -> None:
    reply = rawhttp.request(server, "GET", f"/{tree}?list-type=2&max-keys=-1")
    assert (reply.status, reply.code) == (400, "InvalidArgument")


def test_v1(s3: Any, tree: str) -> None:
    resp = s3.list_objects(Bucket=tree)
    assert [o["Key"] for o in resp["Contents"]] == KEYS
    assert resp["IsTruncated"] is False
    assert "Owner" in resp["Contents"][0]


def test_v1_marker_pagination(s3: Any, tree: str) -> None:
    resp = s3.list_objects(Bucket=tree, MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == KEYS[:3]
    assert resp["IsTruncated"] is True
    assert "NextMarker" not in resp  # only sent with a delimiter
    resp = s3.list_objects(Bucket=tree, Marker="a/b/3", MaxKeys=3)
    assert [o["Key"] for o in resp["Contents"]] == KEYS[3:6]
    assert resp["Marker"] == "a/b/3"


def test_v1_next_marker_with_delimiter(s3: Any, tree: str) -> None:
    resp = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/", "b/"]
    assert resp["IsTruncated"] is True
    assert resp["NextMarker"] == "b/"
    resp = s3.list_objects(Bucket=tree, Delimiter="/", Marker=resp["NextMarker"])
    assert [o["Key"] for o in resp["Contents"]] == ["c", "e"]
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["d/"]


def test_v1_paginator(s3: Any, tree: str) -> None:
    keys = [o["Key"] for page in s3.get_paginator("list_objects").paginate(
        Bucket=tree, PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert keys == KEYS


def test_utf8_byte_order(s3: Any, bucket: str) -> None:
    keys = ["z", "é", "\uff01", "\U0001f600", "A", "a", "~", "\x7f", "Ω"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"")
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == expected
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == expected
    paged = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}) for o in page.get("Contents", [])]
    assert paged == expected


def _url_encoded(value: str | None, original: str) -> None:
    assert value is not None
    assert unquote_plus(value) == original
    assert all(c.isascii() and c.isprintable() and c not in " <>&+" for c in value), value


def test_encoding_type_url_raw(server: NuageServer, s3: Any, bucket: str) -> None:
    key = "dir with space/é+&<>.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    for query in ("list-type=2&encoding-type=url", "encoding-type=url"):
        reply = rawhttp.request(server, "GET", f"/{bucket}?{query}&delimiter=%2F&prefix=dir%20with")
        assert reply.status == 200, reply.body
        doc = reply.xml()
        assert doc.findtext("EncodingType") == "url"
        _url_encoded(doc.findtext("Prefix"), "dir with")
        _url_encoded(doc.findtext("Delimiter"), "/")
        prefixes = [p.findtext("Prefix") for p in doc.iter("CommonPrefixes")]
        assert len(prefixes) == 1
        _url_encoded(prefixes[0], "dir with space/")
    reply = rawhttp.request(server, "GET", f"/{bucket}?list-type=2&encoding-type=url")
    keys = [c.findtext("Key") for c in reply.xml().iter("Contents")]
    assert len(keys) == 1
    _url_encoded(keys[0], key)


def test_encoding_type_url_boto(s3: Any, bucket: str) -> None:
    key = "sp ace/ü?#%.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    # boto3 asks for encoding-type=url and decodes the keys itself
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == [key]


def test_control_characters_in_keys_listed(s3: Any, bucket: str) -> None:
    key = "ctl\x01\x1f-key"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]


def test_invalid_encoding_type(server: NuageServer, bucket: str) -> None:
    reply = rawhttp.request(server, "GET", f"/{bucket}?list-type=2&encoding-type=base64")
    assert (reply.status, reply.code) == (400, "InvalidArgument")


def test_list_versions(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids: dict[str, list[str]] = {}
    for k in ("a", "b", "c"):
        for i in range(3):
            ids.setdefault(k, []).append(s3.put_object(Bucket=bucket, Key=k, Body=f"{k}{i}".encode())["VersionId"])
    s3.delete_object(Bucket=bucket, Key="b")
    resp = s3.list_object_versions(Bucket=bucket)
    versions = resp["Versions"]
    assert [(v["Key"], v["VersionId"]) for v in versions] == [
        (k, vid) for k in ("a", "b", "c") for vid in reversed(ids[k])]
    latest = {v["Key"]: v["VersionId"] for v in versions if v["IsLatest"]}
    assert latest == {"a": ids["a"][-1], "c": ids["c"][-1]}
    markers = resp["DeleteMarkers"]
    assert [(m["Key"], m["IsLatest"]) for m in markers] == [("b", True)]

    # paginate with key and version-id markers, one at a time
    seen: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 2}
    while True:
        page = s3.list_object_versions(**kwargs)
        entries = [(v["Key"], v["VersionId"]) for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        assert len(entries) <= 2
        seen += entries
        if not page["IsTruncated"]:
            break
        kwargs["KeyMarker"] = page["NextKeyMarker"]
        kwargs["VersionIdMarker"] = page["NextVersionIdMarker"]
    assert len(seen) == 10
    assert len(set(seen)) == 10


def test_list_versions_prefix_delimiter(s3: Any, tree: str) -> None:
    resp = s3.list_object_versions(Bucket=tree, Delimiter="/", Prefix="a/")
    assert [v["Key"] for v in resp["Versions"]] == ["a/1", "a/2"]
    assert all(v["VersionId"] == "null" for v in resp["Versions"])
    assert [p["Prefix"] for p in resp["CommonPrefixes"]] == ["a/b/"]


def test_list_many_keys_paginates(s3: Any, bucket: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    keys = [f"k/{i:05d}" for i in range(1100)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b""), keys))
    first = s3.list_objects_v2(Bucket=bucket)
    assert first["KeyCount"] == 1000 and first["IsTruncated"] is True
    second = s3.list_objects_v2(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in first["Contents"] + second["Contents"]] == keys
