"""Bucket website configuration: stored and validated (no website endpoint yet)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import assert_error


def test_website_round_trip_and_delete(s3: Any, bucket: str) -> None:
    assert_error(s3.get_bucket_website, "NoSuchWebsiteConfiguration", 404, Bucket=bucket)
    config = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [{"Condition": {"KeyPrefixEquals": "docs/"},
                          "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "301"}}],
    }
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    got = s3.get_bucket_website(Bucket=bucket)
    assert {k: got[k] for k in config} == config
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}})
    assert s3.get_bucket_website(Bucket=bucket)["RedirectAllRequestsTo"] == {"HostName": "example.com",
                                                                             "Protocol": "https"}
    assert s3.delete_bucket_website(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(s3.get_bucket_website, "NoSuchWebsiteConfiguration", 404, Bucket=bucket)


@pytest.mark.parametrize(("config", "code"), [
    ({"ErrorDocument": {"Key": "e.html"}}, "InvalidArgument"),
    ({"IndexDocument": {"Suffix": "a/index.html"}}, "InvalidArgument"),
    ({"IndexDocument": {"Suffix": ""}}, "InvalidArgument"),
    ({"IndexDocument": {"Suffix": "index.html"}, "RedirectAllRequestsTo": {"HostName": "x"}}, "InvalidRequest"),
    ({"RedirectAllRequestsTo": {"HostName": "x", "Protocol": "ftp"}}, "InvalidRequest"),
    ({"IndexDocument": {"Suffix": "index.html"},
      "RoutingRules": [{"Redirect": {"ReplaceKeyPrefixWith": "a", "ReplaceKeyWith": "b"}}]}, "InvalidRequest"),
    ({"IndexDocument": {"Suffix": "index.html"},
      "RoutingRules": [{"Redirect": {"HttpRedirectCode": "200"}}]}, "InvalidRequest"),
])
def test_website_validation(s3: Any, bucket: str, config: dict[str, Any], code: str) -> None:
    assert_error(s3.put_bucket_website, code, 400, Bucket=bucket, WebsiteConfiguration=config)
