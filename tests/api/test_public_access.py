"""Block Public Access per bucket with boto3 against a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.accounts import add_account, anonymous_client, client_for
from tests.support.server import NuageServer


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def conf(**on: bool) -> dict[str, bool]:
    names = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    return {n: on.get(n, False) for n in names}


def public_get(bucket: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                      "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})


def test_put_get_delete(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket=bucket)
    assert code(exc) == (404, "NoSuchPublicAccessBlockConfiguration")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(BlockPublicAcls=True))
    got = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got == conf(BlockPublicAcls=True)
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_public_access_block(Bucket=bucket)


def test_block_public_acls(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(BlockPublicAcls=True))
    for call in (lambda: s3.put_bucket_acl(Bucket=bucket, ACL="public-read"),
                 lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="authenticated-read"),
                 lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"",
                                       GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')):
        with pytest.raises(ClientError) as exc:
            call()
        assert code(exc) == (403, "AccessDenied")
    s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="private")


def test_ignore_public_acls(s3: Any, server: NuageServer, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", ACL="public-read")
    anon = anonymous_client(server)
    anon.get_object(Bucket=bucket, Key="k")
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(IgnorePublicAcls=True))
    with pytest.raises(ClientError):
        anon.get_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError):
        client_for(server, add_account(server)).list_objects(Bucket=bucket)


def test_block_public_policy(s3: Any, bucket: str) -> None:
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(BlockPublicPolicy=True))
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_get(bucket))
    assert code(exc) == (403, "AccessDenied")


def test_restrict_public_buckets(s3: Any, server: NuageServer, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=bucket, Policy=public_get(bucket))
    anon = anonymous_client(server)
    assert anon.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=conf(RestrictPublicBuckets=True))
    with pytest.raises(ClientError):
        anon.get_object(Bucket=bucket, Key="k")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
