"""The aws command line, unchanged, against Nuage: s3 cp/ls/sync/rm and s3api."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.support.awscli import AwsCli


def test_cp_up_and_down(aws: AwsCli, s3: Any, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    data = os.urandom(9 * 1024 * 1024 + 123)  # over awscli's 8 MiB multipart threshold
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://{bucket}/dir/big.bin")
    assert s3.head_object(Bucket=bucket, Key="dir/big.bin")["ContentLength"] == len(data)
    out = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/dir/big.bin", str(out))
    assert out.read_bytes() == data


def test_ls(aws: AwsCli, s3: Any, bucket: str) -> None:
    for k in ("a.txt", "dir/b.txt", "dir/sub/c.txt"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    assert bucket in aws("s3", "ls").stdout
    top = aws("s3", "ls", f"s3://{bucket}/").stdout
    assert "a.txt" in top and "PRE dir/" in top
    rec = aws("s3", "ls", "--recursive", f"s3://{bucket}/").stdout
    assert all(k in rec for k in ("a.txt", "dir/b.txt", "dir/sub/c.txt"))


def test_sync_and_rm_recursive(aws: AwsCli, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "tree"
    files = {"one.txt": b"1", "nested/two.txt": b"22", "nested/deeper/three.bin": os.urandom(3000),
             "with space é.txt": b"unicode"}
    for name, body in files.items():
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        (local / name).write_bytes(body)
    aws("s3", "sync", str(local), f"s3://{bucket}/tree")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(f"tree/{n}" for n in files)
    # a second sync uploads nothing
    again = aws("s3", "sync", str(local), f"s3://{bucket}/tree").stdout
    assert "upload:" not in again
    down = tmp_path / "down"
    aws("s3", "sync", f"s3://{bucket}/tree", str(down))
    for name, body in files.items():
        assert (down / name).read_bytes() == body
    aws("s3", "rm", "--recursive", f"s3://{bucket}/tree")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_s3api_put_get(aws: AwsCli, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_bytes(b"s3api body")
    put = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "k", "--body", str(body),
                         "--metadata", "a=b").stdout)
    assert put["ETag"]
    out = tmp_path / "out.txt"
    got = json.loads(aws("s3api", "get-object", "--bucket", bucket, "--key", "k", str(out)).stdout)
    assert got["Metadata"] == {"a": "b"}
    assert out.read_bytes() == b"s3api body"
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket).stdout)
    assert [o["Key"] for o in listed["Contents"]] == ["k"]


def test_s3api_error_exit_code(aws: AwsCli, bucket: str) -> None:
    proc = aws("s3api", "head-object", "--bucket", bucket, "--key", "missing", check=False)
    assert proc.returncode != 0
    assert "404" in proc.stderr


def test_mb_rb(aws: AwsCli, s3: Any) -> None:
    from tests.conftest import unique_bucket_name

    name = unique_bucket_name("cli")
    aws("s3", "mb", f"s3://{name}")
    s3.head_bucket(Bucket=name)
    aws("s3", "rb", f"s3://{name}")
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
