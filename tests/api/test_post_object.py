"""Browser uploads (POST Object with an HTML form) against a real server: SigV4 policies made by boto3's
generate_presigned_post, SigV2 forms signed by hand, anonymous forms on public-write buckets, the
answers (204, 200, 201 PostResponse, 303 redirect) and the errors S3 gives for broken forms and policies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from urllib3 import encode_multipart_formdata

from tests.support import rawhttp
from tests.support.rawhttp import Reply
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

Field = tuple[str, Any]
OTHER_KEY, OTHER_SECRET = "NUAGEPOSTOTHERKEY001", "post-other-secret-key-000000000000000001"


def post_form(server: NuageServer, bucket: str, fields: list[Field], *, content_type: str | None = None,
              body: bytes | None = None) -> Reply:
    """POST the fields as multipart/form-data (a field's value may be (filename, bytes[, type]))."""
    if body is None:
        body, ctype = encode_multipart_formdata(fields)
    else:
        ctype = content_type or "application/octet-stream"
    return rawhttp.request(server, "POST", f"/{bucket}", headers={"Content-Type": content_type or ctype},
                           body=body, signed=False)


def expires_in(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def v2_form(policy: dict[str, Any], fields: list[Field], *, access_key: str = ACCESS_KEY,
            secret: str = SECRET_KEY) -> list[Field]:
    """A SigV2-signed form: policy, AWSAccessKeyId and signature, then ``fields`` (the file last)."""
    encoded = base64.b64encode(json.dumps(policy).encode())
    signature = base64.b64encode(hmac.new(secret.encode(), encoded, hashlib.sha1).digest())
    return [("AWSAccessKeyId", access_key), ("policy", encoded.decode()), ("signature", signature.decode()),
            *fields]


def v2_policy(bucket: str, *extra: Any, seconds: int = 600) -> dict[str, Any]:
    return {"expiration": expires_in(seconds),
            "conditions": [{"bucket": bucket}, ["starts-with", "$key", "up/"], *extra]}


def presigned(s3: Any, bucket: str, key: str, fields: dict[str, str] | None = None,
              conditions: list[Any] | None = None) -> list[Field]:
    post = s3.generate_presigned_post(bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=600)
    return list(post["fields"].items())


def error_of(reply: Reply) -> tuple[int, str | None]:
    return reply.status, reply.code


# -- SigV4 (boto3's generate_presigned_post) ------------------------------------------------------------
def test_presigned_post_stores_the_file(server: NuageServer, s3: Any, bucket: str) -> None:
    fields = presigned(s3, bucket, "docs/${filename}", {"Content-Type": "text/plain", "x-amz-meta-who": "ann"},
                       [{"Content-Type": "text/plain"}, {"x-amz-meta-who": "ann"}, ["starts-with", "$key", "docs/"]])
    r = post_form(server, bucket, [*fields, ("file", ("report.txt", b"hello form", "application/x-ignored"))])
    assert r.status == 204, r.body
    etag = hashlib.md5(b"hello form").hexdigest()
    assert r.header("ETag") == f'"{etag}"'
    assert r.header("Location") == f"{server.endpoint}/{bucket}/docs/report.txt"
    got = s3.get_object(Bucket=bucket, Key="docs/report.txt")
    assert got["Body"].read() == b"hello form"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"who": "ann"}


def test_presigned_post_success_status_201_answers_post_response(server: NuageServer, s3: Any,
                                                                 bucket: str) -> None:
    fields = presigned(s3, bucket, "k201", {"success_action_status": "201"}, [{"success_action_status": "201"}])
    r = post_form(server, bucket, [*fields, ("file", ("f", b"x" * 10))])
    assert r.status == 201, r.body
    doc = r.xml()
    assert doc.tag == "PostResponse"
    assert doc.findtext("Bucket") == bucket
    assert doc.findtext("Key") == "k201"
    assert doc.findtext("ETag") == f'"{hashlib.md5(b"x" * 10).hexdigest()}"'
    assert doc.findtext("Location") == f"{server.endpoint}/{bucket}/k201"


def test_presigned_post_success_status_200_and_unknown_status(server: NuageServer, s3: Any, bucket: str) -> None:
    for status, expected in (("200", 200), ("404", 204)):
        fields = presigned(s3, bucket, "ks", {"success_action_status": status}, [{"success_action_status": status}])
        r = post_form(server, bucket, [*fields, ("file", ("f", b"x"))])
        assert (r.status, r.body) == (expected, b"")


def test_success_redirect_is_303_with_bucket_key_and_etag(server: NuageServer, s3: Any, bucket: str) -> None:
    target = "https://example.com/done?from=form"
    fields = presigned(s3, bucket, "redir", {"success_action_redirect": target},
                       [{"success_action_redirect": target}])
    r = post_form(server, bucket, [*fields, ("file", ("f", b"abc"))])
    assert r.status == 303, r.body
    location = urlsplit(r.header("Location") or "")
    assert (location.scheme, location.netloc, location.path) == ("https", "example.com", "/done")
    assert parse_qs(location.query) == {"from": ["form"], "bucket": [bucket], "key": ["redir"],
                                        "etag": [f'"{hashlib.md5(b"abc").hexdigest()}"']}


def test_presigned_post_with_a_wrong_secret_is_refused(server: NuageServer, bucket: str) -> None:
    wrong = server.client(secret_key="not-the-secret-at-all-000000000000000000")
    fields = presigned(wrong, bucket, "nope")
    r = post_form(server, bucket, [*fields, ("file", ("f", b"x"))])
    assert error_of(r) == (403, "SignatureDoesNotMatch")


def test_presigned_post_refuses_a_key_outside_the_policy(server: NuageServer, s3: Any, bucket: str) -> None:
    fields = dict(presigned(s3, bucket, "only-this"))
    fields["key"] = "something-else"
    r = post_form(server, bucket, [*fields.items(), ("file", ("f", b"x"))])
    assert error_of(r) == (403, "AccessDenied")
    assert b'Policy Condition failed: [&quot;eq&quot;, &quot;$key&quot;, &quot;only-this&quot;]' in r.body or \
        b'Policy Condition failed: ["eq", "$key", "only-this"]' in r.body


# -- SigV2 forms -----------------------------------------------------------------------------------------
def test_v2_form_with_all_field_kinds(server: NuageServer, s3: Any, bucket: str) -> None:
    tagging = "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>"
    policy = v2_policy(bucket, {"acl": "public-read"}, ["starts-with", "$Content-Type", "image/"],
                       ["eq", "$Cache-Control", "max-age=60"], ["starts-with", "$x-amz-meta-tag", ""],
                       ["starts-with", "$tagging", ""], ["content-length-range", 1, 100])
    form = v2_form(policy, [("key", "up/${filename}"), ("acl", "public-read"), ("Content-Type", "image/png"),
                            ("Cache-Control", "max-age=60"), ("x-amz-meta-tag", "a b"), ("tagging", tagging),
                            ("x-ignore-this", "anything"), ("file", ("pic.png", b"\x89PNG...")),
                            ("after-the-file", "ignored")])
    r = post_form(server, bucket, form)
    assert r.status == 204, r.body
    head = s3.head_object(Bucket=bucket, Key="up/pic.png")
    assert (head["ContentType"], head["CacheControl"], head["Metadata"]) == ("image/png", "max-age=60", {"tag": "a b"})
    assert s3.get_object_tagging(Bucket=bucket, Key="up/pic.png")["TagSet"] == [{"Key": "t", "Value": "v"}]
    anon = rawhttp.request(server, "GET", f"/{bucket}/up/pic.png", signed=False)
    assert (anon.status, anon.body) == (200, b"\x89PNG...")


def test_content_type_list_must_match_each_type(server: NuageServer, bucket: str) -> None:
    policy = v2_policy(bucket, ["starts-with", "$Content-Type", "image/"])
    ok = post_form(server, bucket, v2_form(policy, [("key", "up/a"), ("Content-Type", "image/png, image/gif"),
                                                    ("file", ("f", b"x"))]))
    assert ok.status == 204, ok.body
    bad = post_form(server, bucket, v2_form(policy, [("key", "up/a"), ("Content-Type", "image/png,text/plain"),
                                                     ("file", ("f", b"x"))]))
    assert error_of(bad) == (403, "AccessDenied")


def test_content_length_range(server: NuageServer, s3: Any, bucket: str) -> None:
    policy = v2_policy(bucket, ["content-length-range", 5, 10])
    big = post_form(server, bucket, v2_form(policy, [("key", "up/big"), ("file", ("f", b"x" * 11))]))
    assert error_of(big) == (400, "EntityTooLarge")
    small = post_form(server, bucket, v2_form(policy, [("key", "up/small"), ("file", ("f", b"x" * 4))]))
    assert error_of(small) == (400, "EntityTooSmall")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    fits = post_form(server, bucket, v2_form(policy, [("key", "up/fits"), ("file", ("f", b"x" * 10))]))
    assert fits.status == 204


def test_large_file_streams_through(server: NuageServer, s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * (12 * 4096 + 7)     # about 12 MiB, across many reads
    policy = v2_policy(bucket, ["content-length-range", 0, 64 * 1024 * 1024])
    r = post_form(server, bucket, v2_form(policy, [("key", "up/large"), ("file", ("f", data))]))
    assert r.status == 204, r.body
    got = s3.get_object(Bucket=bucket, Key="up/large")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize(("extra", "form_extra", "code", "message"), [
    ((), [("x-amz-meta-sneaky", "1")], "AccessDenied", "Extra input fields: x-amz-meta-sneaky"),
    ((["starts-with", "$x-amz-meta-a", "yes"],), [], "AccessDenied", "Policy Condition failed"),
    (({"acl": "private"},), [("acl", "public-read")], "AccessDenied", "Policy Condition failed"),
])
def test_policy_conditions_are_enforced(server: NuageServer, bucket: str, extra: tuple[Any, ...],
                                        form_extra: list[Field], code: str, message: str) -> None:
    policy = v2_policy(bucket, *extra)
    r = post_form(server, bucket, v2_form(policy, [("key", "up/x"), *form_extra, ("file", ("f", b"x"))]))
    assert error_of(r) == (403, code)
    assert message.encode() in r.body


def test_policy_for_another_bucket_is_refused(server: NuageServer, s3: Any, bucket: str) -> None:
    r = post_form(server, bucket, v2_form(v2_policy("some-other-bucket"), [("key", "up/x"), ("file", b"x")]))
    assert error_of(r) == (403, "AccessDenied")


def test_the_bucket_must_be_covered_by_a_condition(server: NuageServer, bucket: str) -> None:
    policy = {"expiration": expires_in(600), "conditions": [["starts-with", "$key", ""]]}
    r = post_form(server, bucket, v2_form(policy, [("key", "k"), ("file", b"x")]))
    assert error_of(r) == (403, "AccessDenied")
    assert b"Extra input fields: bucket" in r.body


def test_expired_policy(server: NuageServer, bucket: str) -> None:
    r = post_form(server, bucket, v2_form(v2_policy(bucket, seconds=-60), [("key", "up/x"), ("file", b"x")]))
    assert error_of(r) == (403, "AccessDenied")
    assert b"Policy expired" in r.body


@pytest.mark.parametrize("policy", [
    {"conditions": []},
    {"expiration": "2030-01-01 00:00:00+00:00", "conditions": []},
    {"expiration": "2030-01-01T00:00:00Z"},
    {"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]},
    {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]},
    {"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 5]]},
    {"expiration": "2030-01-01T00:00:00Z", "conditions": [["matches", "$key", "x"]]},
    {"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "x"]]},
])
def test_malformed_policies(server: NuageServer, bucket: str, policy: dict[str, Any]) -> None:
    r = post_form(server, bucket, v2_form(policy, [("key", "k"), ("file", b"x")]))
    assert error_of(r) == (400, "InvalidPolicyDocument")


def test_policy_that_is_not_base64_json(server: NuageServer, bucket: str) -> None:
    encoded = base64.b64encode(b"{not json")
    signature = base64.b64encode(hmac.new(SECRET_KEY.encode(), encoded, hashlib.sha1).digest()).decode()
    r = post_form(server, bucket, [("key", "k"), ("AWSAccessKeyId", ACCESS_KEY), ("policy", encoded.decode()),
                                   ("signature", signature), ("file", b"x")])
    assert error_of(r) == (400, "InvalidPolicyDocument")


def test_signature_errors(server: NuageServer, bucket: str) -> None:
    policy = v2_policy(bucket)
    good = dict(v2_form(policy, [("key", "up/x")]))
    bad_sig = post_form(server, bucket, [*{**good, "signature": "AAAA"}.items(), ("file", b"x")])
    assert error_of(bad_sig) == (403, "SignatureDoesNotMatch")
    bad_key = post_form(server, bucket, [*{**good, "AWSAccessKeyId": "NOSUCHKEY"}.items(), ("file", b"x")])
    assert error_of(bad_key) == (403, "InvalidAccessKeyId")
    no_sig = post_form(server, bucket, [*{k: v for k, v in good.items() if k != "signature"}.items(),
                                        ("file", b"x")])
    assert error_of(no_sig) == (400, "InvalidArgument")
    no_policy = post_form(server, bucket, [*{k: v for k, v in good.items() if k != "policy"}.items(),
                                           ("file", b"x")])
    assert error_of(no_policy) == (400, "InvalidArgument")


def test_malformed_forms(server: NuageServer, bucket: str) -> None:
    form = v2_form(v2_policy(bucket), [("key", "up/x")])
    assert error_of(post_form(server, bucket, form)) == (400, "IncorrectNumberOfFilesInPostRequest")
    no_key = post_form(server, bucket, v2_form(v2_policy(bucket), [("file", b"x")]))
    assert error_of(no_key) == (400, "InvalidArgument")
    plain = post_form(server, bucket, [], content_type="application/x-www-form-urlencoded", body=b"key=x")
    assert error_of(plain) == (412, "PreconditionFailed")
    garbage = post_form(server, bucket, [], content_type="multipart/form-data; boundary=xyz",
                        body=b"--xyz\r\nno-colon-here\r\n\r\n")
    assert error_of(garbage) == (400, "MalformedPOSTRequest")
    truncated_body, ctype = encode_multipart_formdata([*form, ("file", ("f", b"0123456789"))])
    truncated = post_form(server, bucket, [], content_type=ctype, body=truncated_body[:-30])
    assert error_of(truncated) == (400, "MalformedPOSTRequest")
    huge = post_form(server, bucket, [("x-ignore-pad", "p" * 30000), *form, ("file", b"x")])
    assert error_of(huge) == (400, "MaxPostPreDataLengthExceededError")


def test_checksum_fields(server: NuageServer, s3: Any, bucket: str) -> None:
    data = b"checked"
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    policy = v2_policy(bucket)
    r = post_form(server, bucket, v2_form(policy, [("key", "up/c"), ("x-amz-checksum-sha256", good),
                                                   ("file", data)]))
    assert r.status == 204, r.body
    assert r.header("x-amz-checksum-sha256") == good
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    r = post_form(server, bucket, v2_form(policy, [("key", "up/c"), ("x-amz-checksum-sha256", wrong),
                                                   ("file", b"changed")]))
    assert error_of(r) == (400, "BadDigest")
    assert s3.get_object(Bucket=bucket, Key="up/c")["Body"].read() == data


# -- who may upload ------------------------------------------------------------------------------------
def test_anonymous_form_needs_public_write(server: NuageServer, s3: Any, bucket: str) -> None:
    form: list[Field] = [("key", "anon.txt"), ("Content-Type", "text/plain"), ("file", b"from anyone")]
    assert error_of(post_form(server, bucket, form)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    r = post_form(server, bucket, form)
    assert r.status == 204, r.body
    assert s3.get_object(Bucket=bucket, Key="anon.txt")["Body"].read() == b"from anyone"


def test_form_to_a_missing_bucket(server: NuageServer) -> None:
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    r = post_form(server, missing, [("key", "k"), ("file", b"x")])
    assert error_of(r) == (404, "NoSuchBucket")


@pytest.fixture(scope="module")
def other_user(server: NuageServer) -> tuple[str, str]:
    subprocess.run([str(Path(sys.executable).with_name("nuage")), "keys", "add", "--data", str(server.data_dir),
                    "--access-key", OTHER_KEY, "--secret-key", OTHER_SECRET, "--name", "post-other"],
                   check=True, capture_output=True,
                   env={**os.environ, "NUAGE_DB": server.db} if server.db else None)   # the server's metadata
    return OTHER_KEY, OTHER_SECRET


def test_form_signed_by_a_user_without_write_access(server: NuageServer, s3: Any, bucket: str,
                                                    other_user: tuple[str, str]) -> None:
    access_key, secret = other_user
    form = v2_form(v2_policy(bucket), [("key", "up/x"), ("file", b"x")], access_key=access_key, secret=secret)
    assert error_of(post_form(server, bucket, form)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    r = post_form(server, bucket, form)
    assert r.status == 204, r.body
    listed = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    bucket_owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]["ID"]
    assert [o["Key"] for o in listed] == ["up/x"]
    assert listed[0]["Owner"]["ID"] != bucket_owner     # the signer owns what it uploaded


def test_anonymous_form_with_acl_on_public_write_bucket(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    form: list[Field] = [("key", "anon-acl.txt"), ("acl", "public-read"), ("Content-Type", "text/plain"),
                         ("file", b"readable by anyone")]
    r = post_form(server, bucket, form)
    assert r.status == 204, r.body
    grants = s3.get_object_acl(Bucket=bucket, Key="anon-acl.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ" for g in grants)
