"""The object browser over plain HTTP: pages by continuation token, folders, prefix search, details
(metadata, tags, checksum), versions and their deletion, downloads and share links, the upload API."""

from __future__ import annotations

import json
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

ROW_RE = re.compile(r'<tr data-sortable data-key="([^"]*)"')
FOLDER_RE = re.compile(r'<tr class="folder" data-prefix="([^"]*)"')
NEXT_RE = re.compile(r'<a id="next-page" href="([^"]*)"')


@pytest.fixture
def signed_in(console: ConsoleClient) -> ConsoleClient:
    assert console.sign_in(ACCESS_KEY, SECRET_KEY).status == 303
    return console


def test_pages_through_a_large_folder_without_loading_it_all(signed_in: ConsoleClient, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    keys = [f"logs/{i:04d}.txt" for i in range(250)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"."), keys))
    s3.put_object(Bucket=bucket, Key="top.txt", Body=b"t")
    page = signed_in.get(f"/b/{bucket}")
    assert FOLDER_RE.findall(page.text) == ["logs/"] and ROW_RE.findall(page.text) == ["top.txt"]
    seen: list[str] = []
    path = f"/b/{bucket}?prefix=logs%2F&max=100"
    pages = 0
    while path:
        html = signed_in.get(path.replace("&amp;", "&")).text
        rows = ROW_RE.findall(html)
        assert len(rows) <= 100
        seen += rows
        pages += 1
        found = NEXT_RE.search(html)
        path = found.group(1) if found else ""
    assert pages == 3 and seen == keys
    # search by prefix inside the folder
    html = signed_in.get(f"/b/{bucket}?prefix=logs%2F&q=001").text
    assert ROW_RE.findall(html) == [f"logs/001{i}.txt" for i in range(10)]
    assert "Nothing here starts with" in signed_in.get(f"/b/{bucket}?prefix=logs%2F&q=zzz").text


def test_details_show_metadata_tags_checksum_and_versions(signed_in: ConsoleClient, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="a/report.csv", Body=b"one", ChecksumAlgorithm="CRC32")["VersionId"]
    put = s3.put_object(Bucket=bucket, Key="a/report.csv", Body=b"second", Metadata={"owner": "finance"},
                        ChecksumAlgorithm="SHA256", Tagging="year=2026")
    page = signed_in.get(f"/b/{bucket}/object?key=a%2Freport.csv")
    assert page.status == 200
    assert "finance" in page.text and "year" in page.text and "2026" in page.text
    assert put["ChecksumSHA256"] in page.text
    assert v1 in page.text and put["VersionId"] in page.text
    assert "Enabled" in signed_in.get("/buckets").text
    # delete the older version for good: the latest stays
    done = signed_in.post(f"/b/{bucket}/delete", {"key": "a/report.csv", "versionId": v1, "back": "object"})
    assert done.status == 303 and "object?key=a%2Freport.csv" in done.location
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [put["VersionId"]]
    # a plain delete leaves a delete marker (versioned bucket), as S3 does
    assert signed_in.post(f"/b/{bucket}/delete", {"key": "a/report.csv"}).status == 303
    assert len(s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]) == 1


def test_download_and_share_links_are_presigned(signed_in: ConsoleClient, s3: Any, server: NuageServer) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="dir/naïve file.txt", Body=b"content")
    page = signed_in.get(f"/b/{bucket}/download?key=dir%2Fna%C3%AFve%20file.txt")
    assert page.status == 302 and "X-Amz-Signature=" in page.location
    with urllib.request.urlopen(page.location) as resp:
        assert resp.read() == b"content"
        assert "attachment" in resp.headers["content-disposition"]
    signed_in.get(f"/b/{bucket}/object?key=dir%2Fna%C3%AFve%20file.txt")
    page = signed_in.post(f"/b/{bucket}/share", {"key": "dir/naïve file.txt", "expires": "86400"})
    link = re.search(r'id="share-url" class="share-url" value="([^"]*)"', page.text)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert "X-Amz-Expires=86400" in url and url.startswith(server.endpoint)
    with urllib.request.urlopen(url) as resp:
        assert resp.read() == b"content"
    page = signed_in.post(f"/b/{bucket}/share", {"key": "dir/naïve file.txt", "expires": "999999999"})
    assert page.status == 400 and "7 days" in page.text


def test_upload_api_plans_single_and_multipart_uploads(signed_in: ConsoleClient, s3: Any) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    signed_in.get(f"/b/{bucket}")
    small = json.loads(signed_in.post_json("/api/upload/start", json.dumps(
        {"bucket": bucket, "key": "s.txt", "size": 5})).text)
    assert small["mode"] == "single"
    req = urllib.request.Request(small["url"], data=b"small", method="PUT")
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
    big = json.loads(signed_in.post_json("/api/upload/start", json.dumps(
        {"bucket": bucket, "key": "big.bin", "size": 17 * 1024 * 1024})).text)
    assert big["mode"] == "multipart" and len(big["parts"]) == 3
    part = big["part_size"]
    body = bytes(range(256)) * (17 * 1024 * 1024 // 256)
    etags = []
    for p in big["parts"][:2]:          # two parts, then "the network fails"
        chunk = body[(p["number"] - 1) * part: p["number"] * part]
        with urllib.request.urlopen(urllib.request.Request(p["url"], data=chunk, method="PUT")) as resp:
            etags.append(resp.headers["etag"])
    have = json.loads(signed_in.post_json("/api/upload/parts", json.dumps(
        {"bucket": bucket, "key": "big.bin", "upload_id": big["upload_id"]})).text)["parts"]
    assert [(p["number"], p["size"]) for p in have] == [(1, part), (2, part)]
    last = big["parts"][2]
    with urllib.request.urlopen(urllib.request.Request(last["url"], data=body[2 * part:], method="PUT")) as resp:
        etags.append(resp.headers["etag"])
    done = signed_in.post_json("/api/upload/complete", json.dumps(
        {"bucket": bucket, "key": "big.bin", "upload_id": big["upload_id"],
         "parts": [{"number": i + 1, "etag": e} for i, e in enumerate(etags)]}))
    assert done.status == 200, done.text
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == body
    bad = signed_in.post_json("/api/upload/complete", json.dumps(
        {"bucket": bucket, "key": "big.bin", "upload_id": "nope", "parts": [{"number": 1, "etag": "x"}]}))
    assert bad.status == 404 and json.loads(bad.text)["error"] == "NoSuchUpload"
    assert signed_in.post_json("/api/upload/start", json.dumps({"bucket": bucket})).status == 400


VERSION_ROW_RE = re.compile(r'<tr data-key="([^"]*)" data-version="([^"]*)"( class="marker")?>')


def test_versions_view_shows_delete_markers_and_undeletes(signed_in: ConsoleClient, s3: Any,
                                                          server: NuageServer) -> None:
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="docs/plan.txt", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="docs/plan.txt", Body=b"second")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="docs/plan.txt")["VersionId"]
    assert ROW_RE.findall(signed_in.get(f"/b/{bucket}?prefix=docs%2F").text) == []
    page = signed_in.get(f"/b/{bucket}?prefix=docs%2F&versions=1")
    rows = VERSION_ROW_RE.findall(page.text)
    assert [(v, bool(m)) for _, v, m in rows] == [(marker, True), (v2, False), (v1, False)]
    assert "Undelete" in page.text and "Hide versions" in page.text
    # paging through versions two at a time
    first = signed_in.get(f"/b/{bucket}?prefix=docs%2F&versions=1&max=2").text
    assert len(VERSION_ROW_RE.findall(first)) == 2
    found = NEXT_RE.search(first)
    assert found is not None
    rest = signed_in.get(found.group(1).replace("&amp;", "&")).text
    assert [v for _, v, _ in VERSION_ROW_RE.findall(rest)] == [v1]
    # removing the delete marker brings the object back
    done = signed_in.post(f"/b/{bucket}/delete", {"key": "docs/plan.txt", "versionId": marker, "back": "versions"})
    assert done.status == 303 and "versions=1" in done.location
    assert s3.get_object(Bucket=bucket, Key="docs/plan.txt")["Body"].read() == b"second"
    # a read-only user sees the versions but no delete or undelete
    ro = make_user(server, READ_ONLY_POLICY, "vro")
    other = ConsoleClient(server.console_endpoint)
    other.sign_in(ro.access_key, ro.secret_key)
    page = other.get(f"/b/{bucket}?prefix=docs%2F&versions=1")
    assert len(VERSION_ROW_RE.findall(page.text)) == 2 and "Undelete" not in page.text
    assert 'class="danger"' not in page.text
