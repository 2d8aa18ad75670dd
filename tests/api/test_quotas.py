"""Quotas per bucket and per tenant, enforced on PutObject, CopyObject and CompleteMultipartUpload,
counted inside the commit's transaction (concurrent writers near the limit never overshoot)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from nuage.cli.admin import AdminClient
from tests.conftest import unique_bucket_name
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


@pytest.fixture
def admin(server: NuageServer) -> AdminClient:
    return AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY)


@pytest.fixture
def tenant(server: NuageServer, admin: AdminClient) -> tuple[str, Any]:
    """A fresh tenant and a boto3 client with its root key."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    admin.call("POST", "/admin/tenants", {"name": name})
    key = admin.call("POST", f"/admin/tenants/{name}/keys")
    return name, server.client(access_key=key["access_key"], secret_key=key["secret_key"])


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _bucket(client: Any) -> str:
    name = unique_bucket_name("q")
    client.create_bucket(Bucket=name)
    return name


def _usage(admin: AdminClient, tenant: str, bucket: str) -> dict[str, Any]:
    data = admin.call("GET", f"/admin/tenants/{tenant}/usage")
    found: dict[str, Any] = next(b for b in data["buckets"] if b["name"] == bucket)
    return found


def test_bucket_object_quota_on_put_and_delete_frees(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    name, s3 = tenant
    b = _bucket(s3)
    admin.call("PUT", "/admin/quotas", {"bucket": b, "max_objects": 2, "max_bytes": None})
    s3.put_object(Bucket=b, Key="a", Body=b"1")
    s3.put_object(Bucket=b, Key="b", Body=b"2")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b, Key="c", Body=b"3")
    assert _code(exc) == ("QuotaExceeded", 403)
    s3.put_object(Bucket=b, Key="a", Body=b"overwrite")   # net change: 0 objects
    s3.delete_object(Bucket=b, Key="b")
    s3.put_object(Bucket=b, Key="c", Body=b"3")
    assert _usage(admin, name, b) == {"name": b, "bytes": len(b"overwrite") + 1, "objects": 2,
                                      "quota": {"max_bytes": None, "max_objects": 2}}


def test_bucket_byte_quota_counts_net_overwrite(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    name, s3 = tenant
    b = _bucket(s3)
    admin.call("PUT", "/admin/quotas", {"bucket": b, "max_bytes": 100})
    s3.put_object(Bucket=b, Key="a", Body=b"x" * 60)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b, Key="b", Body=b"x" * 50)
    assert _code(exc) == ("QuotaExceeded", 403)
    s3.put_object(Bucket=b, Key="a", Body=b"x" * 95)       # replaces 60 bytes: 95 <= 100
    assert _usage(admin, name, b)["bytes"] == 95
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == ["a"]


def test_copy_refused_over_quota(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    _, s3 = tenant
    src, dst = _bucket(s3), _bucket(s3)
    s3.put_object(Bucket=src, Key="big", Body=b"x" * 500)
    admin.call("PUT", "/admin/quotas", {"bucket": dst, "max_bytes": 400})
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=dst, Key="copy", CopySource={"Bucket": src, "Key": "big"})
    assert _code(exc) == ("QuotaExceeded", 403)
    assert s3.list_objects_v2(Bucket=dst)["KeyCount"] == 0
    admin.call("PUT", "/admin/quotas", {"bucket": dst, "max_bytes": 500})
    s3.copy_object(Bucket=dst, Key="copy", CopySource={"Bucket": src, "Key": "big"})


def test_multipart_complete_refused_over_quota(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    name, s3 = tenant
    b = _bucket(s3)
    admin.call("PUT", "/admin/quotas", {"bucket": b, "max_bytes": 100})
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"y" * 200)["ETag"]
    with pytest.raises(ClientError) as exc:
        s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert _code(exc) == ("QuotaExceeded", 403)
    assert _usage(admin, name, b)["objects"] == 0
    admin.call("PUT", "/admin/quotas", {"bucket": b, "max_bytes": 200})
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert _usage(admin, name, b)["bytes"] == 200


def test_tenant_quota_spans_buckets(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    name, s3 = tenant
    b1, b2 = _bucket(s3), _bucket(s3)
    admin.call("PUT", "/admin/quotas", {"tenant": name, "max_objects": 3})
    s3.put_object(Bucket=b1, Key="a", Body=b"1")
    s3.put_object(Bucket=b1, Key="b", Body=b"1")
    s3.put_object(Bucket=b2, Key="a", Body=b"1")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b2, Key="b", Body=b"1")
    assert _code(exc) == ("QuotaExceeded", 403)
    usage = admin.call("GET", f"/admin/tenants/{name}/usage")
    assert (usage["objects"], usage["quota"]["max_objects"]) == (3, 3)


def test_versions_and_delete_markers_count(admin: AdminClient, tenant: tuple[str, Any]) -> None:
    name, s3 = tenant
    b = _bucket(s3)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    admin.call("PUT", "/admin/quotas", {"bucket": b, "max_objects": 3})
    v1 = s3.put_object(Bucket=b, Key="k", Body=b"12345")["VersionId"]
    s3.put_object(Bucket=b, Key="k", Body=b"123")
    s3.delete_object(Bucket=b, Key="k")                # a delete marker: a version of 0 bytes
    assert _usage(admin, name, b)["objects"] == 3
    assert _usage(admin, name, b)["bytes"] == 8
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=b, Key="other", Body=b"1")
    assert _code(exc) == ("QuotaExceeded", 403)
    s3.delete_object(Bucket=b, Key="k", VersionId=v1)
    s3.put_object(Bucket=b, Key="other", Body=b"1")
    assert _usage(admin, name, b) ["bytes"] == 4


@pytest.mark.parametrize("limit_kind", ["objects", "bytes"])
def test_concurrent_writers_never_exceed(admin: AdminClient, tenant: tuple[str, Any], server: NuageServer,
                                         limit_kind: str) -> None:
    name, s3 = tenant
    b = _bucket(s3)
    size, limit = 10, 7
    quota = {"max_objects": limit} if limit_kind == "objects" else {"max_bytes": limit * size}
    admin.call("PUT", "/admin/quotas", {"bucket": b, **quota})

    def put(i: int) -> bool:
        try:
            s3.put_object(Bucket=b, Key=f"k{i:03d}", Body=b"z" * size)
            return True
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "QuotaExceeded"
            return False

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(put, range(40)))
    listed = s3.list_objects_v2(Bucket=b).get("Contents", [])
    usage = _usage(admin, name, b)
    assert sum(results) == limit == len(listed) == usage["objects"]
    assert usage["bytes"] == sum(o["Size"] for o in listed) == limit * size
    for o in listed[:3]:
        s3.delete_object(Bucket=b, Key=o["Key"])
    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(put, range(100, 120))) == 3
    assert _usage(admin, name, b)["objects"] == limit
