"""`nuage db copy --from sqlite:DATA --to postgresql://...`: a gateway's SQLite metadata moves into an
empty PostgreSQL database, and a gateway started on the same data folder with --db serves everything as
before (objects in rows and in files, versions, an upload in progress, IAM users and keys, configuration,
quotas), and writes after it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg

from nuage.cli.admin import AdminClient
from tests.support.postgres import PostgresCluster
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def _copy(source: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nuage.cli.main", "db", "copy", "--from", source, "--to", url],
                          capture_output=True, text=True, timeout=120)


def test_sqlite_metadata_moves_to_postgresql(pg: PostgresCluster, tmp_path: Path) -> None:
    data = tmp_path / "data"
    before = NuageServer(data).start()
    s3, iam = before.client(), before.client("iam")
    s3.create_bucket(Bucket="moving")
    s3.put_bucket_versioning(Bucket="moving", VersioningConfiguration={"Status": "Enabled"})
    small, large = b"kept in the row", bytes(range(256)) * 2000
    v1 = s3.put_object(Bucket="moving", Key="doc", Body=small, Metadata={"a": "b"})["VersionId"]
    v2 = s3.put_object(Bucket="moving", Key="doc", Body=large)["VersionId"]
    s3.put_object(Bucket="moving", Key="gone", Body=b"x")
    s3.delete_object(Bucket="moving", Key="gone")
    s3.put_object_tagging(Bucket="moving", Key="doc", VersionId=v2, Tagging={"TagSet": [{"Key": "t", "Value": "v"}]})
    upload = s3.create_multipart_upload(Bucket="moving", Key="parts")["UploadId"]
    e1 = s3.upload_part(Bucket="moving", Key="parts", UploadId=upload, PartNumber=1, Body=b"p" * 5 * 1024 * 1024)
    e2 = s3.upload_part(Bucket="moving", Key="parts", UploadId=upload, PartNumber=2, Body=b"small\x00part")
    s3.put_bucket_cors(Bucket="moving", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://example.com"]}]})
    iam.create_user(UserName="mover")
    key = iam.create_access_key(UserName="mover")["AccessKey"]
    iam.put_user_policy(UserName="mover", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::moving/*"}]}))
    AdminClient(before.endpoint, ACCESS_KEY, SECRET_KEY).call(
        "PUT", "/admin/quotas", {"bucket": "moving", "max_objects": 100, "max_bytes": None})
    assert before.stop() == 0

    url = pg.create_database()
    done = _copy(f"sqlite:{data}", url)
    assert done.returncode == 0, done.stderr
    assert "objects: 4 rows" in done.stdout and "copied" in done.stdout

    after = NuageServer(data, db=url).start()
    try:
        s3 = after.client()
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["moving"]
        assert s3.get_object(Bucket="moving", Key="doc")["Body"].read() == large
        old = s3.get_object(Bucket="moving", Key="doc", VersionId=v1)
        assert old["Body"].read() == small and old["Metadata"] == {"a": "b"}
        assert s3.get_object_tagging(Bucket="moving", Key="doc", VersionId=v2)["TagSet"] == [{"Key": "t", "Value": "v"}]
        listed = s3.list_object_versions(Bucket="moving")
        assert len(listed["Versions"]) == 3 and len(listed["DeleteMarkers"]) == 1
        assert [k["Key"] for k in s3.list_objects_v2(Bucket="moving")["Contents"]] == ["doc"]
        assert s3.get_bucket_cors(Bucket="moving")["CORSRules"][0]["AllowedOrigins"] == ["https://example.com"]
        s3.complete_multipart_upload(Bucket="moving", Key="parts", UploadId=upload, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": e1["ETag"]}, {"PartNumber": 2, "ETag": e2["ETag"]}]})
        assert s3.get_object(Bucket="moving", Key="parts")["Body"].read().endswith(b"small\x00part")
        new = s3.put_object(Bucket="moving", Key="after", Body=b"written on PostgreSQL")["VersionId"]
        assert s3.get_object(Bucket="moving", Key="after", VersionId=new)["Body"].read() == b"written on PostgreSQL"
        mover = after.client(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        assert mover.get_object(Bucket="moving", Key="after")["Body"].read() == b"written on PostgreSQL"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT max_objects FROM quotas WHERE kind='bucket' AND target='moving'"
                                ).fetchone() == (100,)
            usage = conn.execute("SELECT objects FROM bucket_usage WHERE bucket='moving'").fetchone()
        assert usage == (6,)   # doc (2 versions), gone and its delete marker, parts, after
    finally:
        assert after.stop() == 0

    again = _copy(f"sqlite:{data}", url)
    assert again.returncode == 1 and "not empty" in again.stderr
    missing = _copy(f"sqlite:{tmp_path / 'nowhere'}", pg.create_database())
    assert missing.returncode == 1 and "no SQLite database" in missing.stderr
