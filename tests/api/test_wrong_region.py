"""Clients configured for another region than the server's: S3 tells them the bucket's region and
they sign again for it. GET and LIST read it from the error body (<Region>); HEAD has no body, so
boto3's download_file and head_object, HEAD bucket and `aws s3 cp s3://b/k -` depend on the
x-amz-bucket-region header of the 400."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.support.awscli import AwsCli
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

REGION = "eu-west-3"       # the server's
ELSEWHERE = "us-east-1"    # what the clients are configured for (the SDKs' default)
BUCKET = "wrong-region-bucket"


@pytest.fixture(scope="module")
def paris(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    server = NuageServer(tmp_path_factory.mktemp("wrong-region") / "data", region=REGION).start()
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="dir/k.txt", Body=b"bonjour")
    server.close_clients()
    yield server
    server.stop()


def _client(server: NuageServer) -> Any:
    """A fresh client (botocore caches a bucket's region once it has learnt it) for the wrong region."""
    client = boto3.client("s3", endpoint_url=server.endpoint, region_name=ELSEWHERE,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                          config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    server.clients.append(client)
    return client


def test_head_object_signed_for_another_region(paris: NuageServer) -> None:
    assert _client(paris).head_object(Bucket=BUCKET, Key="dir/k.txt")["ContentLength"] == 7


def test_download_file_signed_for_another_region(paris: NuageServer, tmp_path: Path) -> None:
    out = tmp_path / "k.txt"
    _client(paris).download_file(BUCKET, "dir/k.txt", str(out))   # starts with a HEAD
    assert out.read_bytes() == b"bonjour"


def test_head_bucket_signed_for_another_region(paris: NuageServer) -> None:
    reply = _client(paris).head_bucket(Bucket=BUCKET)
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert reply["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == REGION


def test_head_of_a_missing_key_or_bucket_signed_for_another_region(paris: NuageServer) -> None:
    """After signing again for the right region, the client learns what is really there: a 404."""
    client = _client(paris)
    with pytest.raises(client.exceptions.ClientError) as exc:
        client.head_object(Bucket=BUCKET, Key="missing")
    assert exc.value.response["Error"]["Code"] == "404"
    with pytest.raises(client.exceptions.ClientError) as exc:
        _client(paris).head_bucket(Bucket="no-such-bucket-here")
    assert exc.value.response["Error"]["Code"] == "404"


def test_get_still_reads_the_region_from_the_body(paris: NuageServer) -> None:
    assert _client(paris).get_object(Bucket=BUCKET, Key="dir/k.txt")["Body"].read() == b"bonjour"
    assert [o["Key"] for o in _client(paris).list_objects_v2(Bucket=BUCKET)["Contents"]] == ["dir/k.txt"]


def test_awscli_cp_to_stdout_signed_for_another_region(paris: NuageServer, tmp_path: Path) -> None:
    aws = AwsCli(paris.endpoint, ELSEWHERE, tmp_path / "home")
    assert aws("s3", "cp", f"s3://{BUCKET}/dir/k.txt", "-").stdout == "bonjour"
    out = tmp_path / "copy.txt"
    aws("s3", "cp", f"s3://{BUCKET}/dir/k.txt", str(out))
    assert out.read_bytes() == b"bonjour"
