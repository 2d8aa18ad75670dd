"""Isolation matrix: every operation on a tenant's data, tried by everyone who must not succeed.

The victim is a tenant (an account) with a versioned, object-locked bucket holding objects, versions, a
multipart upload in progress and every bucket configuration there is (tagging, CORS, lifecycle,
encryption, ownership controls, public access block, website, replication, a bucket policy), plus IAM
users, keys, inline policies and SQL jobs. Each cell is one operation tried by one caller:

    other-tenant      the root user of another tenant
    anonymous         no signature at all
    user-no-policy    an IAM user of the victim's own account without any policy
    user-denied       an IAM user of the victim's account allowed s3:* (iam:* for IAM operations) by its
                      identity policy, with an explicit Deny of the operation's actions on the victim's
                      exact resources in the same identity policy
    user-denied-bp    the same Allow, with the Deny in the victim's bucket policy instead

The same callers try the IAM API on the victim's users, keys and groups, the SQL jobs API on its objects
and jobs, the web console on its buckets, objects, users and jobs, the admin API (the operator's root user
only), and the internal replication endpoint (a region's key only). Every cell must be refused and must
leave the victim's state as it was; the state of the victim's bucket and IAM entities is compared once more
after the matrix. Positive controls (the owner, and a user allowed by policy, running
each operation) keep the matrix from passing because an operation is broken for everyone.

Copies read the victim's bucket and write into a bucket the caller may write: the other tenant's own
bucket, or for the victim's users and anonymous callers a scratch bucket of the victim whose policy lets
anyone write (so only the read of the source can refuse them).
"""

from __future__ import annotations

import html
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.support import rawhttp
from tests.support.accounts import add_account, anonymous_client, client_for
from tests.support.console import ConsoleClient, Page
from tests.support.regions import write_registry
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer, free_port

ROLE = "arn:aws:iam::000000000000:role/replication"
RETAIN = datetime(2090, 1, 1, tzinfo=UTC)
CSV = b"name,amount\nann,10\nbob,25\n"
CALLERS = ("other-tenant", "anonymous", "user-no-policy", "user-denied", "user-denied-bp")


# -- the server: one for the module, with a one-region registry so that replication can be configured ------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    base = tmp_path_factory.mktemp("isolation")
    port = free_port()
    registry = base / "regions.json"
    write_registry(registry, {"us-east-1": port}, {})
    srv = NuageServer(base / "data", port=port, extra_args=["--regions", str(registry)]).start()
    yield srv
    assert srv.stop() == 0, srv.log()


# -- the victim's bucket -----------------------------------------------------------------------------------
@dataclass
class Target:
    """A bucket shaped like the victim's, and what an operation needs to address inside it."""
    bucket: str
    versions: dict[str, list[str]]          # key -> version ids, oldest first
    upload_id: str
    part_etag: str
    replica: str                            # the victim's versioned bucket its replication rule sends to


def _config_calls(name: str, replica: str) -> list[Callable[[Any], object]]:
    return [
        lambda s3: s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": "victim"}]}),
        lambda s3: s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://victim.example"]}]}),
        lambda s3: s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
            {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 3650}}]}),
        lambda s3: s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}),
        lambda s3: s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={"Rules": [
            {"ObjectOwnership": "BucketOwnerPreferred"}]}),
        lambda s3: s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True}),
        lambda s3: s3.put_bucket_website(Bucket=name, WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"}}),
        lambda s3: s3.put_bucket_replication(Bucket=name, ReplicationConfiguration={"Role": ROLE, "Rules": [
            {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "replicated/"},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": f"arn:aws:s3:::{replica}"}}]}),
    ]


def build_bucket(s3: Any, name: str, replica: str, policy: str) -> Target:
    """A versioned, object-locked bucket with two versions of ``obj``, ``pub`` (an old private version,
    a public-read latest one), a GOVERNANCE-locked ``locked``, a CSV file, a multipart upload with one
    part, every bucket configuration, and the bucket policy ``policy``."""
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    versions: dict[str, list[str]] = {}
    for key, body in (("obj", b"first"), ("obj", b"second"), ("pub", b"private-old"), ("pub", b"public-new"),
                      ("data.csv", CSV)):
        versions.setdefault(key, []).append(s3.put_object(Bucket=name, Key=key, Body=body)["VersionId"])
    s3.put_object_acl(Bucket=name, Key="pub", VersionId=versions["pub"][1], ACL="public-read")
    s3.put_object_tagging(Bucket=name, Key="obj", Tagging={"TagSet": [{"Key": "class", "Value": "secret"}]})
    versions["locked"] = [s3.put_object(Bucket=name, Key="locked", Body=b"kept", ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=RETAIN)["VersionId"]]
    s3.put_object_legal_hold(Bucket=name, Key="locked", LegalHold={"Status": "OFF"})
    upload = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=name, Key="mp", UploadId=upload, PartNumber=1, Body=b"part-one")["ETag"]
    for call in _config_calls(name, replica):
        call(s3)
    s3.put_bucket_policy(Bucket=name, Policy=policy)
    return Target(name, versions, upload, etag, replica)


# -- a snapshot of the victim's state, in named parts ---------------------------------------------------------
def _or_code(call: Callable[[], Any]) -> Any:
    try:
        out = call()
    except ClientError as exc:
        return ("error", exc.response["Error"]["Code"])
    if isinstance(out, dict):
        out.pop("ResponseMetadata", None)
    return out


def _versions(s3: Any, t: Target) -> Any:
    page = s3.list_object_versions(Bucket=t.bucket)
    return (sorted((v["Key"], v["VersionId"], v["ETag"], v["IsLatest"], v["Size"]) for v in page.get("Versions", [])),
            sorted((m["Key"], m["VersionId"]) for m in page.get("DeleteMarkers", [])))


PARTS: dict[str, Callable[[Any, Target], Any]] = {
    "versions": _versions,
    "uploads": lambda s3, t: (
        [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=t.bucket).get("Uploads", [])],
        _or_code(lambda: [(p["PartNumber"], p["ETag"]) for p in s3.list_parts(
            Bucket=t.bucket, Key="mp", UploadId=t.upload_id).get("Parts", [])])),
    "object-tags": lambda s3, t: _or_code(lambda: s3.get_object_tagging(Bucket=t.bucket, Key="obj")["TagSet"]),
    "object-acl": lambda s3, t: [_or_code(lambda v=v, k=k: s3.get_object_acl(Bucket=t.bucket, Key=k, VersionId=v))
                                 for k in ("obj", "pub") for v in t.versions[k]],
    "lock": lambda s3, t: (_or_code(lambda: s3.get_object_retention(Bucket=t.bucket, Key="locked")),
                           _or_code(lambda: s3.get_object_retention(Bucket=t.bucket, Key="obj")),
                           _or_code(lambda: s3.get_object_legal_hold(Bucket=t.bucket, Key="locked")),
                           _or_code(lambda: s3.get_object_lock_configuration(Bucket=t.bucket))),
    "bucket-acl": lambda s3, t: _or_code(lambda: s3.get_bucket_acl(Bucket=t.bucket)),
    "versioning": lambda s3, t: _or_code(lambda: s3.get_bucket_versioning(Bucket=t.bucket)),
    "bucket-tags": lambda s3, t: _or_code(lambda: s3.get_bucket_tagging(Bucket=t.bucket)),
    "policy": lambda s3, t: _or_code(lambda: s3.get_bucket_policy(Bucket=t.bucket)),
    "cors": lambda s3, t: _or_code(lambda: s3.get_bucket_cors(Bucket=t.bucket)),
    "lifecycle": lambda s3, t: _or_code(lambda: s3.get_bucket_lifecycle_configuration(Bucket=t.bucket)),
    "encryption": lambda s3, t: _or_code(lambda: s3.get_bucket_encryption(Bucket=t.bucket)),
    "public-access-block": lambda s3, t: _or_code(lambda: s3.get_public_access_block(Bucket=t.bucket)),
    "ownership": lambda s3, t: _or_code(lambda: s3.get_bucket_ownership_controls(Bucket=t.bucket)),
    "website": lambda s3, t: _or_code(lambda: s3.get_bucket_website(Bucket=t.bucket)),
    "replication": lambda s3, t: _or_code(lambda: s3.get_bucket_replication(Bucket=t.bucket)),
}


def snapshot(s3: Any, t: Target, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {name: PARTS[name](s3, t) for name in (parts if parts is not None else tuple(PARTS))}


def bodies(s3: Any, t: Target) -> dict[tuple[str, str], bytes]:
    return {(k, v): s3.get_object(Bucket=t.bucket, Key=k, VersionId=v)["Body"].read()
            for k, vs in t.versions.items() for v in vs}


# -- callers --------------------------------------------------------------------------------------------------
@dataclass
class Caller:
    name: str
    s3: Any
    keys: tuple[str, str] | None     # None: anonymous
    dest: str                        # a bucket this caller may write: where its copies go


def _policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _exact_resources(bucket: str) -> list[str]:
    return [f"arn:aws:s3:::{bucket}"] + [f"arn:aws:s3:::{bucket}/{k}" for k in ("obj", "pub", "locked", "data.csv",
                                                                                 "mp", "new", "copy")]


# -- the operations -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Op:
    call: Callable[[Caller, Target, NuageServer], Any]
    actions: tuple[str, ...]                 # what the user-denied callers are explicitly denied
    changes: tuple[str, ...] = ()            # parts of the victim's state the operation would change
    callers: tuple[str, ...] = CALLERS
    positive: bool = True                    # whether the owner and an allowed user run it as a control
    fresh: bool = False                      # the controls need their own bucket (the operation changes it)
    empty: bool = False                      # ... and an empty one
    refusals: tuple[str, ...] = ("AccessDenied",)   # error codes that count as a refusal (always a 4xx)
    leaked: Callable[[Any], bool] = field(default=lambda _: True)   # whether a successful answer leaks


def _copy(c: Caller, t: Target, source: str | dict[str, str]) -> Any:
    return c.s3.copy_object(Bucket=c.dest, Key=f"copy-{uuid.uuid4().hex[:8]}", CopySource=source)


def _part_copy(c: Caller, t: Target, source: str | dict[str, str]) -> Any:
    key = f"part-copy-{uuid.uuid4().hex[:8]}"
    upload = c.s3.create_multipart_upload(Bucket=c.dest, Key=key)["UploadId"]
    return c.s3.upload_part_copy(Bucket=c.dest, Key=key, UploadId=upload, PartNumber=1, CopySource=source)


def _two_versions(t: Target) -> str:
    # the public latest version of ``pub`` first, its private old version last
    return f"{t.bucket}/pub?versionId={t.versions['pub'][1]}&versionId={t.versions['pub'][0]}"


def _presigned_get(c: Caller, t: Target, server: NuageServer) -> Any:
    url = (c.s3.generate_presigned_url("get_object", Params={"Bucket": t.bucket, "Key": "obj"}, ExpiresIn=300)
           if c.keys is not None else f"{server.endpoint}/{t.bucket}/obj")
    status, body = _fetch(urllib.request.Request(url))
    if status >= 300:
        raise _Refused(status, body)
    return body


def _tenant_path_get(c: Caller, t: Target, server: NuageServer) -> Any:
    """RGW's ``tenant:bucket`` path form (accepted for s3-tests) names the same global bucket."""
    path = f"/tenant:{t.bucket}/obj"
    reply = (rawhttp.request(server, "GET", path, access_key=c.keys[0], secret_key=c.keys[1]) if c.keys is not None
             else rawhttp.request(server, "GET", path, signed=False))
    if reply.status >= 300:
        raise _Refused(reply.status, reply.body)
    return reply.body


def _post_object(c: Caller, t: Target, server: NuageServer) -> Any:
    if c.keys is not None:
        post = c.s3.generate_presigned_post(t.bucket, "new", ExpiresIn=300)
        fields = dict(post["fields"])
    else:
        fields = {"key": "new"}
    boundary = uuid.uuid4().hex
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
             "Content-Type: application/octet-stream\r\n\r\nposted\r\n"
             f"--{boundary}--\r\n").encode()
    status, text = _fetch(urllib.request.Request(
        f"{server.endpoint}/{t.bucket}", data=body, method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
    if status >= 300:
        raise _Refused(status, text)
    return text


def _select(c: Caller, t: Target, server: NuageServer) -> Any:
    resp = c.s3.select_object_content(
        Bucket=t.bucket, Key="data.csv", Expression="SELECT * FROM S3Object", ExpressionType="SQL",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}}, OutputSerialization={"CSV": {}})
    return b"".join(ev["Records"]["Payload"] for ev in resp["Payload"] if "Records" in ev)


def _replicate_into_victim(c: Caller, t: Target, server: NuageServer) -> Any:
    """The other tenant configures replication of its own bucket into the victim's bucket and writes."""
    own = f"repl-{uuid.uuid4().hex[:12]}"
    c.s3.create_bucket(Bucket=own)
    c.s3.put_bucket_versioning(Bucket=own, VersioningConfiguration={"Status": "Enabled"})
    c.s3.put_bucket_replication(Bucket=own, ReplicationConfiguration={"Role": ROLE, "Rules": [
        {"ID": "into-victim", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
         "DeleteMarkerReplication": {"Status": "Enabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{t.bucket}"}}]})
    c.s3.put_object(Bucket=own, Key="obj", Body=b"planted by another tenant")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        status = c.s3.head_object(Bucket=own, Key="obj").get("ReplicationStatus")
        if status in ("COMPLETED", "FAILED"):
            return status
        time.sleep(0.1)
    return "configuration accepted"


#: a victim's upload or version id named in the caller's own bucket: not found there, or refused
IDOR = ("AccessDenied", "NoSuchBucket", "NoSuchUpload", "NoSuchKey", "NoSuchVersion", "InvalidArgument",
        "InvalidRequest", "InvalidPart")


def _some_key_not_refused(resp: Any) -> bool:
    """Whether a DeleteObjects answer leaks: a key deleted, or refused for another reason than AccessDenied."""
    return bool(resp.get("Deleted")) or any(err.get("Code") != "AccessDenied" for err in resp.get("Errors", []))


def _retain_sooner() -> dict[str, Any]:
    return {"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=1)}


OPS: dict[str, Op] = {
    # -- listing and bucket reads
    "ListObjects": Op(lambda c, t, _: c.s3.list_objects(Bucket=t.bucket), ("s3:ListBucket",)),
    "ListObjectsV2": Op(lambda c, t, _: c.s3.list_objects_v2(Bucket=t.bucket), ("s3:ListBucket",)),
    "ListObjectVersions": Op(lambda c, t, _: c.s3.list_object_versions(Bucket=t.bucket), ("s3:ListBucketVersions",)),
    "ListMultipartUploads": Op(lambda c, t, _: c.s3.list_multipart_uploads(Bucket=t.bucket),
                               ("s3:ListBucketMultipartUploads",)),
    "HeadBucket": Op(lambda c, t, _: c.s3.head_bucket(Bucket=t.bucket), ("s3:ListBucket",)),
    "GetBucketLocation": Op(lambda c, t, _: c.s3.get_bucket_location(Bucket=t.bucket), ("s3:GetBucketLocation",)),
    "GetBucketVersioning": Op(lambda c, t, _: c.s3.get_bucket_versioning(Bucket=t.bucket),
                              ("s3:GetBucketVersioning",)),
    "GetBucketAcl": Op(lambda c, t, _: c.s3.get_bucket_acl(Bucket=t.bucket), ("s3:GetBucketAcl",)),
    "GetBucketTagging": Op(lambda c, t, _: c.s3.get_bucket_tagging(Bucket=t.bucket), ("s3:GetBucketTagging",)),
    "GetBucketPolicy": Op(lambda c, t, _: c.s3.get_bucket_policy(Bucket=t.bucket), ("s3:GetBucketPolicy",)),
    "GetBucketPolicyStatus": Op(lambda c, t, _: c.s3.get_bucket_policy_status(Bucket=t.bucket),
                                ("s3:GetBucketPolicyStatus",)),
    "GetBucketCors": Op(lambda c, t, _: c.s3.get_bucket_cors(Bucket=t.bucket), ("s3:GetBucketCORS",)),
    "GetBucketLifecycleConfiguration": Op(lambda c, t, _: c.s3.get_bucket_lifecycle_configuration(Bucket=t.bucket),
                                          ("s3:GetLifecycleConfiguration",)),
    "GetBucketEncryption": Op(lambda c, t, _: c.s3.get_bucket_encryption(Bucket=t.bucket),
                              ("s3:GetEncryptionConfiguration",)),
    "GetObjectLockConfiguration": Op(lambda c, t, _: c.s3.get_object_lock_configuration(Bucket=t.bucket),
                                     ("s3:GetBucketObjectLockConfiguration",)),
    "GetPublicAccessBlock": Op(lambda c, t, _: c.s3.get_public_access_block(Bucket=t.bucket),
                               ("s3:GetBucketPublicAccessBlock",)),
    "GetBucketOwnershipControls": Op(lambda c, t, _: c.s3.get_bucket_ownership_controls(Bucket=t.bucket),
                                     ("s3:GetBucketOwnershipControls",)),
    "GetBucketWebsite": Op(lambda c, t, _: c.s3.get_bucket_website(Bucket=t.bucket), ("s3:GetBucketWebsite",)),
    "GetBucketReplication": Op(lambda c, t, _: c.s3.get_bucket_replication(Bucket=t.bucket),
                               ("s3:GetReplicationConfiguration",)),
    # -- bucket writes
    "PutBucketVersioning": Op(lambda c, t, _: c.s3.put_bucket_versioning(
        Bucket=t.bucket, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"}),
        ("s3:PutBucketVersioning",), ("versioning",), fresh=True),
    "PutBucketAcl": Op(lambda c, t, _: c.s3.put_bucket_acl(Bucket=t.bucket, ACL="public-read-write"),
                       ("s3:PutBucketAcl",), ("bucket-acl",), fresh=True),
    "PutBucketTagging": Op(lambda c, t, _: c.s3.put_bucket_tagging(
        Bucket=t.bucket, Tagging={"TagSet": [{"Key": "team", "Value": "attacker"}]}),
        ("s3:PutBucketTagging",), ("bucket-tags",), fresh=True),
    "DeleteBucketTagging": Op(lambda c, t, _: c.s3.delete_bucket_tagging(Bucket=t.bucket),
                              ("s3:PutBucketTagging",), ("bucket-tags",), fresh=True),
    "PutBucketPolicy": Op(lambda c, t, _: c.s3.put_bucket_policy(Bucket=t.bucket, Policy=_policy_doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{t.bucket}/*"})),
        ("s3:PutBucketPolicy",), ("policy",), fresh=True),
    "DeleteBucketPolicy": Op(lambda c, t, _: c.s3.delete_bucket_policy(Bucket=t.bucket),
                             ("s3:DeleteBucketPolicy",), ("policy",), fresh=True),
    "PutBucketCors": Op(lambda c, t, _: c.s3.put_bucket_cors(Bucket=t.bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["*"]}]}), ("s3:PutBucketCORS",), ("cors",), fresh=True),
    "DeleteBucketCors": Op(lambda c, t, _: c.s3.delete_bucket_cors(Bucket=t.bucket),
                           ("s3:PutBucketCORS",), ("cors",), fresh=True),
    "PutBucketLifecycleConfiguration": Op(lambda c, t, _: c.s3.put_bucket_lifecycle_configuration(
        Bucket=t.bucket, LifecycleConfiguration={"Rules": [
            {"ID": "wipe", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}),
        ("s3:PutLifecycleConfiguration",), ("lifecycle",), fresh=True),
    "DeleteBucketLifecycle": Op(lambda c, t, _: c.s3.delete_bucket_lifecycle(Bucket=t.bucket),
                                ("s3:PutLifecycleConfiguration",), ("lifecycle",), fresh=True),
    "PutBucketEncryption": Op(lambda c, t, _: c.s3.put_bucket_encryption(
        Bucket=t.bucket, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}),
        ("s3:PutEncryptionConfiguration",), ("encryption",), fresh=True),
    "DeleteBucketEncryption": Op(lambda c, t, _: c.s3.delete_bucket_encryption(Bucket=t.bucket),
                                 ("s3:PutEncryptionConfiguration",), ("encryption",), fresh=True),
    "PutObjectLockConfiguration": Op(lambda c, t, _: c.s3.put_object_lock_configuration(
        Bucket=t.bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {
            "DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}}}),
        ("s3:PutBucketObjectLockConfiguration",), ("lock",), fresh=True),
    "PutPublicAccessBlock": Op(lambda c, t, _: c.s3.put_public_access_block(
        Bucket=t.bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": False, "IgnorePublicAcls": False,
                                                         "BlockPublicPolicy": False, "RestrictPublicBuckets": False}),
        ("s3:PutBucketPublicAccessBlock",), ("public-access-block",), fresh=True),
    "DeletePublicAccessBlock": Op(lambda c, t, _: c.s3.delete_public_access_block(Bucket=t.bucket),
                                  ("s3:PutBucketPublicAccessBlock",), ("public-access-block",), fresh=True),
    "PutBucketOwnershipControls": Op(lambda c, t, _: c.s3.put_bucket_ownership_controls(
        Bucket=t.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}),
        ("s3:PutBucketOwnershipControls",), ("ownership",), fresh=True),
    "DeleteBucketOwnershipControls": Op(lambda c, t, _: c.s3.delete_bucket_ownership_controls(Bucket=t.bucket),
                                        ("s3:PutBucketOwnershipControls",), ("ownership",), fresh=True),
    "PutBucketWebsite": Op(lambda c, t, _: c.s3.put_bucket_website(Bucket=t.bucket, WebsiteConfiguration={
        "RedirectAllRequestsTo": {"HostName": "attacker.example"}}), ("s3:PutBucketWebsite",), ("website",),
        fresh=True),
    "DeleteBucketWebsite": Op(lambda c, t, _: c.s3.delete_bucket_website(Bucket=t.bucket),
                              ("s3:DeleteBucketWebsite",), ("website",), fresh=True),
    "PutBucketReplication": Op(lambda c, t, _: c.s3.put_bucket_replication(
        Bucket=t.bucket, ReplicationConfiguration={"Role": ROLE, "Rules": [
            {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
             "DeleteMarkerReplication": {"Status": "Enabled"},
             "Destination": {"Bucket": f"arn:aws:s3:::{t.replica}"}}]}),
        ("s3:PutReplicationConfiguration",), ("replication",), fresh=True),
    "DeleteBucketReplication": Op(lambda c, t, _: c.s3.delete_bucket_replication(Bucket=t.bucket),
                                  ("s3:PutReplicationConfiguration",), ("replication",), fresh=True),
    "PutBucketReplication(into victim's bucket)": Op(
        _replicate_into_victim, (), ("versions",), callers=("other-tenant",), positive=False,
        refusals=("AccessDenied", "InvalidRequest"), leaked=lambda status: status == "COMPLETED"),
    "GetBucketLogging (not implemented)": Op(lambda c, t, _: c.s3.get_bucket_logging(Bucket=t.bucket),
                                             ("s3:GetBucketLogging",), positive=False),
    "PutBucketNotificationConfiguration (not implemented)": Op(
        lambda c, t, _: c.s3.put_bucket_notification_configuration(Bucket=t.bucket, NotificationConfiguration={}),
        ("s3:PutBucketNotification",), positive=False),
    "RestoreObject (not implemented)": Op(lambda c, t, _: c.s3.restore_object(
        Bucket=t.bucket, Key="obj", RestoreRequest={"Days": 1}), ("s3:RestoreObject",), positive=False),
    "DeleteBucket": Op(lambda c, t, _: c.s3.delete_bucket(Bucket=t.bucket), ("s3:DeleteBucket",), ("versions",),
                       fresh=True, empty=True),
    # -- object reads
    "GetObject": Op(lambda c, t, _: c.s3.get_object(Bucket=t.bucket, Key="obj")["Body"].read(), ("s3:GetObject",)),
    "GetObject(versionId)": Op(lambda c, t, _: c.s3.get_object(
        Bucket=t.bucket, Key="obj", VersionId=t.versions["obj"][0])["Body"].read(), ("s3:GetObjectVersion",)),
    "GetObject(private version of a public key)": Op(lambda c, t, _: c.s3.get_object(
        Bucket=t.bucket, Key="pub", VersionId=t.versions["pub"][0])["Body"].read(), ("s3:GetObjectVersion",)),
    "GetObject(presigned by the caller)": Op(_presigned_get, ("s3:GetObject",)),
    "HeadObject": Op(lambda c, t, _: c.s3.head_object(Bucket=t.bucket, Key="obj"), ("s3:GetObject",)),
    "GetObjectAttributes": Op(lambda c, t, _: c.s3.get_object_attributes(
        Bucket=t.bucket, Key="obj", ObjectAttributes=["ETag", "ObjectSize"]), ("s3:GetObjectAttributes",)),
    "GetObjectTagging": Op(lambda c, t, _: c.s3.get_object_tagging(Bucket=t.bucket, Key="obj"),
                           ("s3:GetObjectTagging",)),
    "GetObjectAcl": Op(lambda c, t, _: c.s3.get_object_acl(Bucket=t.bucket, Key="obj"), ("s3:GetObjectAcl",)),
    "GetObjectRetention": Op(lambda c, t, _: c.s3.get_object_retention(Bucket=t.bucket, Key="locked"),
                             ("s3:GetObjectRetention",)),
    "GetObjectLegalHold": Op(lambda c, t, _: c.s3.get_object_legal_hold(Bucket=t.bucket, Key="locked"),
                             ("s3:GetObjectLegalHold",)),
    "SelectObjectContent": Op(_select, ("s3:GetObject",)),
    "ListParts": Op(lambda c, t, _: c.s3.list_parts(Bucket=t.bucket, Key="mp", UploadId=t.upload_id),
                    ("s3:ListMultipartUploadParts",)),
    # -- copies out of the victim's bucket, into a bucket the caller may write
    "CopyObject(from victim)": Op(lambda c, t, _: _copy(c, t, {"Bucket": t.bucket, "Key": "obj"}),
                                  ("s3:GetObject",)),
    "CopyObject(from victim, versionId)": Op(lambda c, t, _: _copy(
        c, t, {"Bucket": t.bucket, "Key": "obj", "VersionId": t.versions["obj"][0]}), ("s3:GetObjectVersion",)),
    "CopyObject(from victim, two versionIds)": Op(lambda c, t, _: _copy(c, t, _two_versions(t)),
                                                  ("s3:GetObjectVersion",), positive=False,
                                                  refusals=("AccessDenied", "InvalidArgument", "InvalidRequest")),
    "CopyObject(from victim, tenant:bucket form)": Op(lambda c, t, _: _copy(c, t, f"tenant:{t.bucket}/obj"),
                                                     ("s3:GetObject",), positive=False, refusals=IDOR),
    "GetObject(tenant:bucket path)": Op(_tenant_path_get, ("s3:GetObject",)),
    "UploadPartCopy(from victim)": Op(lambda c, t, _: _part_copy(c, t, {"Bucket": t.bucket, "Key": "obj"}),
                                      ("s3:GetObject",)),
    "UploadPartCopy(from victim, versionId)": Op(lambda c, t, _: _part_copy(
        c, t, {"Bucket": t.bucket, "Key": "obj", "VersionId": t.versions["obj"][0]}), ("s3:GetObjectVersion",)),
    "UploadPartCopy(from victim, two versionIds)": Op(
        lambda c, t, _: _part_copy(c, t, _two_versions(t)), ("s3:GetObjectVersion",), positive=False,
        refusals=("AccessDenied", "InvalidArgument", "InvalidRequest")),
    # -- the victim's upload and version ids, named in a bucket the caller may use
    "UploadPart(victim's upload id, caller's bucket)": Op(lambda c, t, _: c.s3.upload_part(
        Bucket=c.dest, Key="mp", UploadId=t.upload_id, PartNumber=1, Body=b"planted"), ("s3:PutObject",),
        ("uploads",), positive=False, refusals=IDOR),
    "UploadPartCopy(victim's upload id, caller's bucket)": Op(lambda c, t, _: c.s3.upload_part_copy(
        Bucket=c.dest, Key="mp", UploadId=t.upload_id, PartNumber=2, CopySource={"Bucket": c.dest, "Key": "seed.csv"}),
        ("s3:PutObject",), ("uploads",), positive=False, refusals=IDOR),
    "ListParts(victim's upload id, caller's bucket)": Op(lambda c, t, _: c.s3.list_parts(
        Bucket=c.dest, Key="mp", UploadId=t.upload_id), ("s3:ListMultipartUploadParts",), positive=False,
        refusals=IDOR),
    "CompleteMultipartUpload(victim's upload id, caller's bucket)": Op(lambda c, t, _: c.s3.complete_multipart_upload(
        Bucket=c.dest, Key="mp", UploadId=t.upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": t.part_etag}]}), ("s3:PutObject",),
        ("uploads", "versions"), positive=False, refusals=IDOR),
    "AbortMultipartUpload(victim's upload id, caller's bucket)": Op(lambda c, t, _: c.s3.abort_multipart_upload(
        Bucket=c.dest, Key="mp", UploadId=t.upload_id), ("s3:AbortMultipartUpload",), ("uploads",),
        positive=False, refusals=IDOR, leaked=lambda _: False),
    "GetObject(victim's version id, caller's bucket)": Op(lambda c, t, _: c.s3.get_object(
        Bucket=c.dest, Key="obj", VersionId=t.versions["obj"][0])["Body"].read(), ("s3:GetObjectVersion",),
        positive=False, refusals=IDOR),
    "DeleteObject(victim's version id, caller's bucket)": Op(lambda c, t, _: c.s3.delete_object(
        Bucket=c.dest, Key="obj", VersionId=t.versions["obj"][0]), ("s3:DeleteObjectVersion",), ("versions",),
        positive=False, refusals=IDOR, leaked=lambda _: False),   # deleting nothing succeeds: the state decides
    # -- object reads of the private old version under a public latest one
    "HeadObject(private version of a public key)": Op(lambda c, t, _: c.s3.head_object(
        Bucket=t.bucket, Key="pub", VersionId=t.versions["pub"][0]), ("s3:GetObjectVersion",)),
    "GetObjectAttributes(private version of a public key)": Op(lambda c, t, _: c.s3.get_object_attributes(
        Bucket=t.bucket, Key="pub", VersionId=t.versions["pub"][0], ObjectAttributes=["ETag", "ObjectSize"]),
        ("s3:GetObjectVersionAttributes",)),
    "GetObjectTagging(private version of a public key)": Op(lambda c, t, _: c.s3.get_object_tagging(
        Bucket=t.bucket, Key="pub", VersionId=t.versions["pub"][0]), ("s3:GetObjectVersionTagging",)),
    "GetObjectAcl(private version of a public key)": Op(lambda c, t, _: c.s3.get_object_acl(
        Bucket=t.bucket, Key="pub", VersionId=t.versions["pub"][0]), ("s3:GetObjectVersionAcl",)),
    # -- object writes
    "PutObject": Op(lambda c, t, _: c.s3.put_object(Bucket=t.bucket, Key="new", Body=b"x"), ("s3:PutObject",),
                    ("versions",), fresh=True),
    "PostObject": Op(_post_object, ("s3:PutObject",), ("versions",), fresh=True),
    "CopyObject(within victim)": Op(lambda c, t, _: c.s3.copy_object(
        Bucket=t.bucket, Key="copy", CopySource={"Bucket": t.bucket, "Key": "obj"}),
        ("s3:PutObject", "s3:GetObject"), ("versions",), fresh=True),
    "DeleteObject": Op(lambda c, t, _: c.s3.delete_object(Bucket=t.bucket, Key="obj"), ("s3:DeleteObject",),
                       ("versions",), fresh=True),
    "DeleteObject(versionId)": Op(lambda c, t, _: c.s3.delete_object(
        Bucket=t.bucket, Key="obj", VersionId=t.versions["obj"][0]), ("s3:DeleteObjectVersion",), ("versions",),
        fresh=True),
    "DeleteObject(locked version, bypass governance)": Op(lambda c, t, _: c.s3.delete_object(
        Bucket=t.bucket, Key="locked", VersionId=t.versions["locked"][0], BypassGovernanceRetention=True),
        ("s3:BypassGovernanceRetention",), ("versions",), fresh=True),
    "DeleteObjects(keys)": Op(lambda c, t, _: c.s3.delete_objects(Bucket=t.bucket, Delete={"Objects": [
        {"Key": "obj"}, {"Key": "pub"}]}), ("s3:DeleteObject",), ("versions",), fresh=True,
        leaked=_some_key_not_refused),
    "DeleteObjects(versions)": Op(lambda c, t, _: c.s3.delete_objects(Bucket=t.bucket, Delete={"Objects": [
        {"Key": "obj", "VersionId": t.versions["obj"][0]}, {"Key": "pub", "VersionId": t.versions["pub"][0]}]}),
        ("s3:DeleteObjectVersion",), ("versions",), fresh=True, leaked=_some_key_not_refused),
    "DeleteObjects(locked version, bypass governance)": Op(lambda c, t, _: c.s3.delete_objects(
        Bucket=t.bucket, BypassGovernanceRetention=True,
        Delete={"Objects": [{"Key": "locked", "VersionId": t.versions["locked"][0]}]}),
        ("s3:BypassGovernanceRetention",), ("versions",), fresh=True, leaked=_some_key_not_refused),
    "PutObjectTagging": Op(lambda c, t, _: c.s3.put_object_tagging(Bucket=t.bucket, Key="obj", Tagging={
        "TagSet": [{"Key": "class", "Value": "public"}]}), ("s3:PutObjectTagging",), ("object-tags",), fresh=True),
    "DeleteObjectTagging": Op(lambda c, t, _: c.s3.delete_object_tagging(Bucket=t.bucket, Key="obj"),
                              ("s3:DeleteObjectTagging",), ("object-tags",), fresh=True),
    "PutObjectAcl": Op(lambda c, t, _: c.s3.put_object_acl(Bucket=t.bucket, Key="obj", ACL="public-read"),
                       ("s3:PutObjectAcl",), ("object-acl",), fresh=True),
    "PutObjectRetention": Op(lambda c, t, _: c.s3.put_object_retention(Bucket=t.bucket, Key="obj", Retention={
        "Mode": "COMPLIANCE", "RetainUntilDate": RETAIN}), ("s3:PutObjectRetention",), ("lock", "versions"),
        fresh=True),
    "PutObjectRetention(shorten, bypass governance)": Op(lambda c, t, _: c.s3.put_object_retention(
        Bucket=t.bucket, Key="locked", Retention=_retain_sooner(), BypassGovernanceRetention=True),
        ("s3:BypassGovernanceRetention",), ("lock",), fresh=True),
    "PutObjectLegalHold": Op(lambda c, t, _: c.s3.put_object_legal_hold(Bucket=t.bucket, Key="locked", LegalHold={
        "Status": "ON"}), ("s3:PutObjectLegalHold",), ("lock",), fresh=True),
    "CreateMultipartUpload": Op(lambda c, t, _: c.s3.create_multipart_upload(Bucket=t.bucket, Key="new"),
                                ("s3:PutObject",), ("uploads",), fresh=True),
    "UploadPart": Op(lambda c, t, _: c.s3.upload_part(Bucket=t.bucket, Key="mp", UploadId=t.upload_id,
                                                      PartNumber=1, Body=b"overwritten"),
                     ("s3:PutObject",), ("uploads",), fresh=True),
    "CompleteMultipartUpload": Op(lambda c, t, _: c.s3.complete_multipart_upload(
        Bucket=t.bucket, Key="mp", UploadId=t.upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": t.part_etag}]}),
        ("s3:PutObject",), ("uploads", "versions"), fresh=True),
    "AbortMultipartUpload": Op(lambda c, t, _: c.s3.abort_multipart_upload(Bucket=t.bucket, Key="mp",
                                                                           UploadId=t.upload_id),
                               ("s3:AbortMultipartUpload",), ("uploads",), fresh=True),
}

MATRIX = [(op, caller) for op, spec in OPS.items() for caller in spec.callers]


class _Refused(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


def _fetch(req: urllib.request.Request) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read(), exc.code
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# -- IAM: the victim's users, keys, policies and groups ----------------------------------------------------------
@dataclass
class Entities:
    user: str          # a user with an access key, an inline policy and a group
    key: str
    group: str
    root_key: str      # the account's root access key


@dataclass(frozen=True)
class IamOp:
    action: str
    call: Callable[[Any, Entities], Any]
    listed: Callable[[Any], list[str]] | None = None   # a listing: refused means the victim's names are absent
    positive: bool = True


IAM_OPS: dict[str, IamOp] = {
    "ListUsers": IamOp("ListUsers", lambda iam, e: iam.list_users(MaxItems=1000),
                       listed=lambda r: [u["UserName"] for u in r["Users"]]),
    "GetUser": IamOp("GetUser", lambda iam, e: iam.get_user(UserName=e.user)),
    "UpdateUser": IamOp("UpdateUser", lambda iam, e: iam.update_user(UserName=e.user, NewPath="/moved/")),
    "DeleteUser": IamOp("DeleteUser", lambda iam, e: iam.delete_user(UserName=e.user), positive=False),
    "CreateAccessKey": IamOp("CreateAccessKey", lambda iam, e: iam.create_access_key(UserName=e.user)),
    "ListAccessKeys": IamOp("ListAccessKeys", lambda iam, e: iam.list_access_keys(UserName=e.user)),
    "UpdateAccessKey": IamOp("UpdateAccessKey", lambda iam, e: iam.update_access_key(
        UserName=e.user, AccessKeyId=e.key, Status="Inactive")),
    "UpdateAccessKey(root key, no user name)": IamOp("UpdateAccessKey", lambda iam, e: iam.update_access_key(
        AccessKeyId=e.root_key, Status="Inactive"), positive=False),
    "DeleteAccessKey": IamOp("DeleteAccessKey", lambda iam, e: iam.delete_access_key(UserName=e.user,
                                                                                     AccessKeyId=e.key)),
    "DeleteAccessKey(root key, no user name)": IamOp("DeleteAccessKey", lambda iam, e: iam.delete_access_key(
        AccessKeyId=e.root_key), positive=False),
    "PutUserPolicy": IamOp("PutUserPolicy", lambda iam, e: iam.put_user_policy(
        UserName=e.user, PolicyName="read", PolicyDocument=_policy_doc(
            {"Effect": "Allow", "Action": "*", "Resource": "*"}))),
    "GetUserPolicy": IamOp("GetUserPolicy", lambda iam, e: iam.get_user_policy(UserName=e.user, PolicyName="read")),
    "ListUserPolicies": IamOp("ListUserPolicies", lambda iam, e: iam.list_user_policies(UserName=e.user)),
    "DeleteUserPolicy": IamOp("DeleteUserPolicy", lambda iam, e: iam.delete_user_policy(UserName=e.user,
                                                                                        PolicyName="read")),
    "ListGroups": IamOp("ListGroups", lambda iam, e: iam.list_groups(),
                        listed=lambda r: [g["GroupName"] for g in r["Groups"]]),
    "GetGroup": IamOp("GetGroup", lambda iam, e: iam.get_group(GroupName=e.group)),
    "ListGroupsForUser": IamOp("ListGroupsForUser", lambda iam, e: iam.list_groups_for_user(UserName=e.user)),
    "AddUserToGroup": IamOp("AddUserToGroup", lambda iam, e: iam.add_user_to_group(GroupName=e.group,
                                                                                   UserName=e.user)),
    "RemoveUserFromGroup": IamOp("RemoveUserFromGroup", lambda iam, e: iam.remove_user_from_group(
        GroupName=e.group, UserName=e.user)),
    "PutGroupPolicy": IamOp("PutGroupPolicy", lambda iam, e: iam.put_group_policy(
        GroupName=e.group, PolicyName="all", PolicyDocument=_policy_doc(
            {"Effect": "Allow", "Action": "*", "Resource": "*"}))),
    "DeleteGroup": IamOp("DeleteGroup", lambda iam, e: iam.delete_group(GroupName=e.group), positive=False),
}
#: user-denied-by-resource: allowed iam:*, denied iam:* on the victim user's and group's ARNs (with their
#: paths); it calls them by their names in another case
IAM_CALLERS = ("other-tenant", "anonymous", "user-no-policy", "user-denied", "user-denied-by-resource")


def entity_state(iam: Any, e: Entities) -> Any:
    """What the IAM cells could change: the target user's path, keys, policies and groups, the group's
    members and policies, and the root keys."""
    def user() -> Any:
        u = iam.get_user(UserName=e.user)["User"]
        return (u["Path"], u["Arn"],
                sorted((k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys(UserName=e.user)[
                    "AccessKeyMetadata"]),
                {p: iam.get_user_policy(UserName=e.user, PolicyName=p)["PolicyDocument"]
                 for p in iam.list_user_policies(UserName=e.user)["PolicyNames"]},
                sorted(g["GroupName"] for g in iam.list_groups_for_user(UserName=e.user)["Groups"]))
    return (_or_code(user),
            _or_code(lambda: (sorted(u["UserName"] for u in iam.get_group(GroupName=e.group)["Users"]),
                              iam.list_group_policies(GroupName=e.group)["PolicyNames"])),
            sorted((k["AccessKeyId"], k["Status"]) for k in iam.list_access_keys()["AccessKeyMetadata"]))


def new_entities(iam: Any, root_key: str) -> Entities:
    """A user and a group with paths and names in mixed case (IAM names are unique without regard to case)."""
    user, group = f"Target-{uuid.uuid4().hex[:8]}", f"Group-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user, Path="/staff/")
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=_policy_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    iam.create_group(GroupName=group, Path="/teams/")
    iam.add_user_to_group(GroupName=group, UserName=user)
    return Entities(user, key, group, root_key)


# -- the world: two tenants, the victim's users, buckets and a SQL job -------------------------------------------
@dataclass
class World:
    server: NuageServer
    victim: Any                     # the victim's root S3 client
    victim_iam: Any
    victim_keys: tuple[str, str]
    victim_name: str
    target: Target
    scratch: str                    # the victim's bucket anyone may write into (copy destinations)
    other: Caller                   # the other tenant's root
    no_policy: Caller
    allowed: Caller                 # a victim user allowed s3:* and iam:* (positive controls)
    denied: dict[str, Caller]       # per operation (S3 operations, and IAM ones as "iam:NAME")
    denied_bp: dict[str, Caller]
    anonymous: Caller
    entities: Entities
    job_id: str                     # a SQL job of the victim's root user
    before: dict[str, Any] = field(default_factory=dict)
    before_bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)
    before_iam: Any = None

    def caller(self, name: str, op: str) -> Caller:
        if name == "user-denied":
            return self.denied[op]
        if name == "user-denied-bp":
            return self.denied_bp[op]
        return {"other-tenant": self.other, "anonymous": self.anonymous, "user-no-policy": self.no_policy}[name]


def _user(iam: Any, server: NuageServer, prefix: str, policy: str | None) -> tuple[str, tuple[str, str], Any]:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    keys = (key["AccessKeyId"], key["SecretAccessKey"])
    return name, keys, server.client(access_key=keys[0], secret_key=keys[1])


ALLOW_ALL = {"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}


@pytest.fixture(scope="module")
def world(server: NuageServer) -> World:
    victim_account, other_account = add_account(server, f"victim-{uuid.uuid4().hex[:6]}"), add_account(server)
    victim, victim_iam = client_for(server, victim_account), client_for(server, victim_account, "iam")
    account_id = victim_iam.get_user()["User"]["Arn"].split(":")[4]
    other = client_for(server, other_account)

    replica = f"replica-{uuid.uuid4().hex[:12]}"
    victim.create_bucket(Bucket=replica)
    victim.put_bucket_versioning(Bucket=replica, VersioningConfiguration={"Status": "Enabled"})
    scratch = f"scratch-{uuid.uuid4().hex[:12]}"
    victim.create_bucket(Bucket=scratch)
    victim.put_bucket_policy(Bucket=scratch, Policy=_policy_doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{scratch}/*"}))
    own = f"other-{uuid.uuid4().hex[:12]}"
    other.create_bucket(Bucket=own)
    other.put_object(Bucket=own, Key="seed.csv", Body=b"planted\nyes\n")
    victim.put_object(Bucket=scratch, Key="seed.csv", Body=b"planted\nyes\n")

    _, no_policy_keys, no_policy = _user(victim_iam, server, "nopolicy", None)
    _, allowed_keys, allowed = _user(victim_iam, server, "allowed", _policy_doc(ALLOW_ALL))
    bucket = f"victim-{uuid.uuid4().hex[:12]}"
    denied: dict[str, Caller] = {}
    denied_bp: dict[str, Caller] = {}
    statements: list[dict[str, Any]] = []
    # one user per set of denied actions (operations that need the same actions share it)
    by_actions: dict[tuple[str, ...], Caller] = {}
    by_actions_bp: dict[tuple[str, ...], Caller] = {}
    for op, spec in OPS.items():
        if "user-denied" in spec.callers:
            if spec.actions not in by_actions:
                deny = {"Effect": "Deny", "Action": list(spec.actions), "Resource": _exact_resources(bucket)}
                _, keys, client = _user(victim_iam, server, "denied", _policy_doc(ALLOW_ALL, deny))
                by_actions[spec.actions] = Caller("user-denied", client, keys, scratch)
            denied[op] = by_actions[spec.actions]
        if "user-denied-bp" in spec.callers:
            if spec.actions not in by_actions_bp:
                name, keys, client = _user(victim_iam, server, "denied-bp", _policy_doc(ALLOW_ALL))
                by_actions_bp[spec.actions] = Caller("user-denied-bp", client, keys, scratch)
                statements.append({"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{account_id}:user/{name}"},
                                   "Action": list(spec.actions),
                                   "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]})
            denied_bp[op] = by_actions_bp[spec.actions]
    for op, iam_spec in IAM_OPS.items():
        deny = {"Effect": "Deny", "Action": f"iam:{iam_spec.action}", "Resource": "*"}
        _, keys, _client = _user(victim_iam, server, "iamdenied", _policy_doc(ALLOW_ALL, deny))
        denied["iam:" + op] = Caller("user-denied", client_for_keys(server, keys, "iam"), keys, scratch)
    for op, console_spec in CONSOLE_OPS.items():
        s3_actions = [a for a in console_spec.actions if a.startswith("s3:")]
        iam_actions = [a for a in console_spec.actions if a.startswith("iam:")]
        denies = ([{"Effect": "Deny", "Action": s3_actions, "Resource": _exact_resources(bucket)}] if s3_actions
                  else []) + ([{"Effect": "Deny", "Action": iam_actions, "Resource": "*"}] if iam_actions else [])
        _, keys, client = _user(victim_iam, server, "consoledenied", _policy_doc(ALLOW_ALL, *denies))
        denied["console:" + op] = Caller("user-denied", client, keys, scratch)
    target = build_bucket(victim, bucket, replica, _policy_doc(*statements))
    entities = new_entities(victim_iam, victim_account.access_key)
    _, keys, _client = _user(victim_iam, server, "iamresdenied", _policy_doc(ALLOW_ALL, {
        "Effect": "Deny", "Action": "iam:*", "Resource": [
            f"arn:aws:iam::{account_id}:user/staff/{entities.user}",
            f"arn:aws:iam::{account_id}:group/teams/{entities.group}"]}))
    denied["iam-resource"] = Caller("user-denied-by-resource", client_for_keys(server, keys, "iam"), keys, scratch)

    victim_keys = (victim_account.access_key, victim_account.secret_key)
    status, job = query_call(server, "POST", "/query/jobs", {
        "sql": f"SELECT name, amount FROM 's3://{target.bucket}/data.csv' ORDER BY name", "wait": 60}, victim_keys)
    assert status == 201 and job["status"] == "succeeded", job

    w = World(server, victim, victim_iam, victim_keys, victim_account.name, target, scratch,
              Caller("other-tenant", other, (other_account.access_key, other_account.secret_key), own),
              Caller("user-no-policy", no_policy, no_policy_keys, scratch),
              Caller("allowed", allowed, allowed_keys, scratch), denied, denied_bp,
              Caller("anonymous", anonymous_client(server), None, scratch), entities, job["id"])
    w.before = snapshot(victim, target)
    w.before_bodies = bodies(victim, target)
    w.before_iam = entity_state(victim_iam, entities)
    return w


def client_for_keys(server: NuageServer, keys: tuple[str, str] | None, service: str = "s3") -> Any:
    if keys is None:
        return anonymous_client(server) if service == "s3" else None
    return server.client(service, access_key=keys[0], secret_key=keys[1])


# -- the SQL jobs API and the admin API: signed JSON calls --------------------------------------------------------
def query_call(server: NuageServer, method: str, path: str, body: dict[str, Any] | None,
               keys: tuple[str, str] | None, service: str = "nuage-query") -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if data else {}
    if keys is not None:
        request = AWSRequest(method=method, url=server.endpoint + path, data=data, headers=headers)
        SigV4Auth(Credentials(*keys), service, server.region).add_auth(request)
        headers = dict(request.prepare().headers)
    return _fetch(urllib.request.Request(server.endpoint + path, data=data or None, method=method, headers=headers))


# == the S3 matrix ================================================================================================
def _refusal(exc: ClientError, spec: Op, op: str, caller: str) -> None:
    status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
    code = exc.response["Error"]["Code"]
    assert 400 <= status < 500, f"{caller} / {op}: {status} {code} (not a refusal)"
    if code in ("403", "AccessDenied"):
        assert status == 403, exc.response
        return
    assert code in spec.refusals, f"{caller} / {op}: refused with {status} {code}, expected one of {spec.refusals}"


@pytest.mark.parametrize(("op", "caller"), MATRIX, ids=[f"{op}-by-{caller}" for op, caller in MATRIX])
def test_refused(world: World, op: str, caller: str) -> None:
    spec, t = OPS[op], world.target
    who = world.caller(caller, op)
    before = snapshot(world.victim, t, spec.changes)
    try:
        result = spec.call(who, t, world.server)
    except ClientError as exc:
        _refusal(exc, spec, op, caller)
    except _Refused as exc:
        assert exc.status == 403, f"{caller} / {op}: HTTP {exc.status} {exc.body!r}"
    else:
        assert not spec.leaked(result), f"LEAK: {caller} ran {op}: {str(result)[:300]}"
    assert snapshot(world.victim, t, spec.changes) == before, f"{caller} / {op} changed the victim's state"


POSITIVE = [op for op, spec in OPS.items() if spec.positive]


@pytest.mark.parametrize("who", ["owner", "user-allowed-by-policy"])
@pytest.mark.parametrize("op", POSITIVE)
def test_allowed(world: World, op: str, who: str) -> None:
    """The controls: the same call succeeds for the owner and for a user whose policy allows it."""
    spec = OPS[op]
    c = (Caller("owner", world.victim, world.victim_keys, world.scratch) if who == "owner" else world.allowed)
    t = world.target
    if spec.empty:
        name = f"empty-{uuid.uuid4().hex[:12]}"
        world.victim.create_bucket(Bucket=name)
        t = Target(name, {}, "", "", world.target.replica)
    elif spec.fresh:
        t = build_bucket(world.victim, f"control-{uuid.uuid4().hex[:12]}", world.target.replica, _policy_doc(
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:*",
             "Resource": "*"}))
    before = snapshot(world.victim, t, spec.changes) if spec.fresh and not spec.empty else None
    result = spec.call(c, t, world.server)
    assert spec.leaked(result), f"{who} / {op}: {result}"
    if before is not None and op != "PutBucketVersioning":
        assert snapshot(world.victim, t, spec.changes) != before, f"{who} / {op} changed nothing"


# == IAM ==========================================================================================================
IAM_MATRIX = [(op, caller) for op, spec in IAM_OPS.items() for caller in IAM_CALLERS
              if not (caller == "user-denied-by-resource" and spec.listed is not None)]   # the account's own lists


def _iam_anonymous(server: NuageServer, action: str, params: dict[str, str]) -> tuple[int, str]:
    body = urllib.parse.urlencode({"Action": action, "Version": "2010-05-08", **params}).encode()
    status, text = _fetch(urllib.request.Request(server.endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded"}))
    return status, str(text)


@pytest.mark.parametrize(("op", "caller"), IAM_MATRIX, ids=[f"iam-{op}-by-{caller}" for op, caller in IAM_MATRIX])
def test_iam_refused(world: World, op: str, caller: str) -> None:
    spec, e = IAM_OPS[op], world.entities
    victim_names = {e.user, e.group}
    if caller == "anonymous":
        params = {"UserName": e.user, "GroupName": e.group, "AccessKeyId": e.key}
        status, text = _iam_anonymous(world.server, spec.action, params)
        assert status >= 400 and e.key not in text, f"LEAK: anonymous ran iam:{op}: {status} {text[:300]}"
    else:
        iam = (client_for_keys(world.server, world.other.keys, "iam") if caller == "other-tenant" else
               client_for_keys(world.server, world.no_policy.keys, "iam") if caller == "user-no-policy" else
               world.denied["iam-resource"].s3 if caller == "user-denied-by-resource" else
               world.denied["iam:" + op].s3)
        named = e if caller != "user-denied-by-resource" else Entities(
            e.user.swapcase(), e.key, e.group.swapcase(), e.root_key)
        try:
            result = spec.call(iam, named)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            # another account finds no such entity; the key of someone else is not found among one's own
            expected = ("AccessDenied",) if caller in ("user-no-policy", "user-denied") else (
                "NoSuchEntity", "AccessDenied")
            assert code in expected, f"{caller} / iam:{op}: {code}"
        else:
            assert spec.listed is not None, f"LEAK: {caller} ran iam:{op}: {str(result)[:300]}"
            assert caller == "other-tenant", f"LEAK: {caller} ran iam:{op}"
            assert not victim_names & set(spec.listed(result)), f"LEAK: {caller} listed the victim's entities"
    assert entity_state(world.victim_iam, e) == world.before_iam, f"{caller} / iam:{op} changed the victim's IAM"


@pytest.mark.parametrize("who", ["owner", "user-allowed-by-policy"])
@pytest.mark.parametrize("op", [op for op, spec in IAM_OPS.items() if spec.positive])
def test_iam_allowed(world: World, op: str, who: str) -> None:
    keys = world.victim_keys if who == "owner" else world.allowed.keys
    iam = client_for_keys(world.server, keys, "iam")
    e = new_entities(world.victim_iam, world.victim_keys[0])
    result = IAM_OPS[op].call(iam, e)
    listed = IAM_OPS[op].listed
    if listed is not None:
        assert {e.user, e.group} & set(listed(result))


# == SQL jobs ===================================================================================================
@dataclass(frozen=True)
class QueryOp:
    request: Callable[[World, Caller], tuple[str, str, dict[str, Any] | None]]
    deny_as: str                       # the S3 operation whose user-denied callers try it
    changes: tuple[str, ...] = ()
    refusals: tuple[int, ...] = (403, 404)


def _job_refused(status: int, body: Any, refusals: tuple[int, ...]) -> bool:
    if status in refusals:
        return True
    # a job accepted, then failed for want of permission, reads nothing either
    return status == 201 and body.get("status") == "failed" and (body.get("error") or {}).get("code") == "AccessDenied"


QUERY_OPS: dict[str, QueryOp] = {
    "submit a job reading the victim's object": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM 's3://{w.target.bucket}/data.csv'", "wait": 30}), "GetObject"),
    "submit a job reading the victim's private version": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM read_csv('s3://{w.target.bucket}/pub?versionId={w.target.versions['pub'][0]}')",
        "wait": 30}), "GetObject(private version of a public key)"),
    "submit a job reading the victim's bucket by wildcard": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM 's3://{w.target.bucket}/*.csv'", "wait": 30}), "ListObjectsV2"),
    "submit a job reading the server's data folder": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM read_blob('{w.server.data_dir}/**')", "wait": 30}), "GetObject",
        refusals=(400, 403)),
    "submit a job reading a local file": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM read_csv('{w.server.data_dir.parent}/regions.json')", "wait": 30}), "GetObject",
        refusals=(400, 403)),
    "submit a job writing its result into the victim's bucket": QueryOp(lambda w, c: ("POST", "/query/jobs", {
        "sql": f"SELECT * FROM 's3://{c.dest}/seed.csv'",
        "output": {"bucket": w.target.bucket, "key": "new", "format": "csv"}, "wait": 30}), "PutObject", ("versions",)),
    "read the victim's job": QueryOp(lambda w, c: ("GET", f"/query/jobs/{w.job_id}", None), "GetObject"),
    "read the victim's job result": QueryOp(lambda w, c: ("GET", f"/query/jobs/{w.job_id}/result", None), "GetObject"),
    "read the victim's job result as CSV": QueryOp(
        lambda w, c: ("GET", f"/query/jobs/{w.job_id}/result?format=csv", None), "GetObject"),
    "list jobs": QueryOp(lambda w, c: ("GET", "/query/jobs", None), "GetObject"),
    "cancel the victim's job": QueryOp(lambda w, c: ("POST", f"/query/jobs/{w.job_id}/cancel", None), "GetObject"),
    "delete the victim's job": QueryOp(lambda w, c: ("DELETE", f"/query/jobs/{w.job_id}", None), "GetObject"),
}
QUERY_MATRIX = [(op, caller) for op in QUERY_OPS for caller in CALLERS]


@pytest.mark.parametrize(("op", "caller"), QUERY_MATRIX,
                         ids=[f"sql-{op.replace(' ', '-')}-by-{caller}" for op, caller in QUERY_MATRIX])
def test_query_refused(world: World, op: str, caller: str) -> None:
    spec = QUERY_OPS[op]
    who = world.caller(caller, spec.deny_as)
    method, path, body = spec.request(world, who)
    before = snapshot(world.victim, world.target, spec.changes)
    status, answer = query_call(world.server, method, path, body, who.keys)
    text = json.dumps(answer) if not isinstance(answer, str) else answer
    assert "ann" not in text and "private-old" not in text, f"LEAK: {caller} / {op}: {text[:300]}"
    if who.keys is None:   # an unsigned request is not a query API call at all: S3 answers with an error
        assert status >= 400 and text.startswith("<?xml") and "<Error>" in text, f"{caller} / {op}: {status} {text}"
    elif path == "/query/jobs" and method == "GET":
        assert status == 200 and world.job_id not in text, f"LEAK: {caller} listed the victim's job: {text[:300]}"
    else:
        assert _job_refused(status, answer, spec.refusals), f"LEAK: {caller} / {op}: {status} {text[:300]}"
    assert snapshot(world.victim, world.target, spec.changes) == before


def test_query_allowed(world: World) -> None:
    """Controls: the owner reads its job's result; a user allowed by policy runs the same job and saves its
    result in a bucket of the account."""
    status, result = query_call(world.server, "GET", f"/query/jobs/{world.job_id}/result", None, world.victim_keys)
    assert status == 200 and result["rows"] == [["ann", 10], ["bob", 25]], result
    status, job = query_call(world.server, "POST", "/query/jobs", {
        "sql": f"SELECT * FROM 's3://{world.target.bucket}/data.csv'",
        "output": {"bucket": world.target.replica, "key": "report.csv", "format": "csv"}, "wait": 30},
        world.allowed.keys)
    assert status == 201 and job["status"] == "succeeded", job
    assert b"ann" in world.victim.get_object(Bucket=world.target.replica, Key="report.csv")["Body"].read()


# == the admin API: the operator's root user only ================================================================
ADMIN_OPS: dict[str, Callable[[World], tuple[str, str, dict[str, Any] | None]]] = {
    "list tenants": lambda w: ("GET", "/admin/tenants", None),
    "create a tenant": lambda w: ("POST", "/admin/tenants", {"name": f"planted-{uuid.uuid4().hex[:6]}"}),
    "read a tenant": lambda w: ("GET", f"/admin/tenants/{w.victim_name}", None),
    "read a tenant's usage": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/usage", None),
    "suspend a tenant": lambda w: ("POST", f"/admin/tenants/{w.victim_name}/suspend", None),
    "activate a tenant": lambda w: ("POST", f"/admin/tenants/{w.victim_name}/activate", None),
    "create a tenant's root key": lambda w: ("POST", f"/admin/tenants/{w.victim_name}/keys", None),
    "set a quota": lambda w: ("PUT", "/admin/quotas", {"tenant": w.victim_name, "max_bytes": 1}),
    "replication status": lambda w: ("GET", "/admin/replication", None),
    "delete a tenant": lambda w: ("DELETE", f"/admin/tenants/{w.victim_name}", None),
    "list a tenant's keys": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/keys", None),
    "revoke a tenant's key": lambda w: ("DELETE", f"/admin/keys/{w.victim_keys[0]}", None),
    "every tenant's usage": lambda w: ("GET", "/admin/usage", None),
}
ADMIN_CALLERS = ("tenant-root", "other-tenant", "tenant-user-allowed-everything", "operator-user-allowed-everything",
                 "anonymous")
ADMIN_MATRIX = [(op, caller) for op in ADMIN_OPS for caller in ADMIN_CALLERS]


@pytest.fixture(scope="module")
def operator_user(server: NuageServer) -> tuple[str, str]:
    """An IAM user of the operator's own account allowed everything by policy: still not the operator."""
    _, keys, _ = _user(server.client("iam"), server, "operator-user", _policy_doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    return keys


def _tenants(server: NuageServer) -> Any:
    status, listing = query_call(server, "GET", "/admin/tenants", None, (ACCESS_KEY, SECRET_KEY), "nuage-admin")
    assert status == 200, listing
    return sorted((t["name"], t["status"]) for t in listing["tenants"])


@pytest.mark.parametrize(("op", "caller"), ADMIN_MATRIX,
                         ids=[f"admin-{op.replace(' ', '-')}-by-{caller}" for op, caller in ADMIN_MATRIX])
def test_admin_refused(world: World, operator_user: tuple[str, str], op: str, caller: str) -> None:
    keys = {"tenant-root": world.victim_keys, "other-tenant": world.other.keys,
            "tenant-user-allowed-everything": world.allowed.keys, "operator-user-allowed-everything": operator_user,
            "anonymous": None}[caller]
    method, path, body = ADMIN_OPS[op](world)
    before = _tenants(world.server)
    status, answer = query_call(world.server, method, path, body, keys, "nuage-admin")
    text = json.dumps(answer) if not isinstance(answer, str) else answer
    if keys is None:   # unsigned: not an admin call, S3 answers with an error for a bucket named "admin"
        assert status >= 400 and text.startswith("<?xml") and "<Error>" in text, f"LEAK: anonymous / {op}: {text}"
    else:
        assert status == 403 and answer["error"]["code"] == "AccessDenied", f"LEAK: {caller} / {op}: {status} {text}"
    assert _tenants(world.server) == before
    # the quota and the tenant's key are untouched
    assert world.victim.list_buckets()["Buckets"]


def test_admin_allowed_for_the_operator(world: World) -> None:
    assert (world.victim_name, "Active") in _tenants(world.server)
    status, tenant = query_call(world.server, "GET", f"/admin/tenants/{world.victim_name}", None,
                                (ACCESS_KEY, SECRET_KEY), "nuage-admin")
    assert status == 200 and world.target.bucket in json.dumps(tenant), tenant


def test_list_buckets_shows_only_own(world: World) -> None:
    names = [b["Name"] for b in world.other.s3.list_buckets()["Buckets"]]
    assert world.target.bucket not in names and world.scratch not in names
    assert world.other.dest not in [b["Name"] for b in world.victim.list_buckets()["Buckets"]]
    with pytest.raises(ClientError) as exc:
        world.anonymous.s3.list_buckets()
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# == the web console: signed in as someone else, the victim's buckets, objects, users and jobs stay out of reach ==
@dataclass(frozen=True)
class ConsoleOp:
    run: Callable[[ConsoleClient, World], Page]
    actions: tuple[str, ...]                      # what the user-denied caller is denied (s3:* and iam:*)
    secrets: Callable[[World], list[str]]          # what must appear nowhere in the answer
    changes: tuple[str, ...] = ()
    iam_changes: bool = False
    callers: tuple[str, ...] = ("other-tenant", "anonymous", "user-no-policy", "user-denied")


def _object_secrets(w: World) -> list[str]:
    return [v for vs in w.target.versions.values() for v in vs] + ["bob,25", "private-old", "second"]


def _key_secrets(w: World) -> list[str]:
    return [w.entities.key]


def _victim_account(w: World) -> str:
    return str(w.victim_iam.get_user()["User"]["Arn"].split(":")[4])


def _billing_secrets(w: World) -> list[str]:
    """What only the victim's Billing page shows: its account id and name, and a PDF."""
    return [_victim_account(w), w.victim_name, "%PDF"]


def _closed_month() -> str:
    return (datetime.now(UTC).date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


CONSOLE_OPS: dict[str, ConsoleOp] = {
    "list buckets": ConsoleOp(lambda c, w: c.get("/buckets"), ("s3:ListAllMyBuckets",),
                              lambda w: [w.target.bucket, w.target.replica, w.scratch],
                              callers=("other-tenant", "anonymous")),
    "browse the victim's bucket": ConsoleOp(lambda c, w: c.get(f"/b/{w.target.bucket}"),
                                            ("s3:ListBucket", "s3:ListBucketVersions"),
                                            lambda w: ["locked", *_object_secrets(w)]),
    "browse the victim's versions": ConsoleOp(lambda c, w: c.get(f"/b/{w.target.bucket}?versions=1"),
                                              ("s3:ListBucket", "s3:ListBucketVersions"),
                                              lambda w: ["locked", *_object_secrets(w)]),
    "object details": ConsoleOp(lambda c, w: c.get(f"/b/{w.target.bucket}/object?key=obj"),
                                ("s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"),
                                _object_secrets),
    "download": ConsoleOp(lambda c, w: c.get(f"/b/{w.target.bucket}/download?key=data.csv"), ("s3:GetObject",),
                          _object_secrets),
    "download an old version": ConsoleOp(
        lambda c, w: c.get(f"/b/{w.target.bucket}/download?key=pub&versionId={w.target.versions['pub'][0]}"),
        ("s3:GetObjectVersion",), lambda w: ["private-old", "bob,25"]),
    "share link": ConsoleOp(lambda c, w: c.post(f"/b/{w.target.bucket}/share", {"key": "data.csv", "expires": "3600"}),
                            ("s3:GetObject",), _object_secrets),
    "delete an object": ConsoleOp(lambda c, w: c.post(f"/b/{w.target.bucket}/delete", {"key": "obj"}),
                                  ("s3:DeleteObject",), _object_secrets, ("versions",)),
    "delete a version": ConsoleOp(lambda c, w: c.post(f"/b/{w.target.bucket}/delete", {
        "key": "obj", "versionId": w.target.versions["obj"][0]}), ("s3:DeleteObjectVersion",), _object_secrets,
        ("versions",)),
    "new folder": ConsoleOp(lambda c, w: c.post(f"/b/{w.target.bucket}/folder", {"name": "planted"}),
                            ("s3:PutObject",), _object_secrets, ("versions",)),
    "upload": ConsoleOp(lambda c, w: c.post_json("/api/upload/start", json.dumps(
        {"bucket": w.target.bucket, "key": "new", "size": 5})), ("s3:PutObject",), _object_secrets, ("versions",)),
    "delete the bucket": ConsoleOp(lambda c, w: c.post("/buckets/delete", {"bucket": w.target.bucket}),
                                   ("s3:DeleteBucket",), _object_secrets, ("versions",)),
    "suspend versioning": ConsoleOp(lambda c, w: c.post("/buckets/versioning", {
        "bucket": w.target.bucket, "status": "Suspended"}), ("s3:PutBucketVersioning",), _object_secrets,
        ("versioning",)),
    "run SQL on the victim's object": ConsoleOp(lambda c, w: c.post("/sql/run", {
        "sql": f"SELECT * FROM 's3://{w.target.bucket}/data.csv'"}), ("s3:GetObject",),
        lambda w: ["bob", "25"]),
    "the victim's job": ConsoleOp(lambda c, w: c.get(f"/sql/jobs/{w.job_id}"), ("s3:GetObject",),
                                  lambda w: ["bob", w.target.bucket]),
    "the victim's job result": ConsoleOp(lambda c, w: c.get(f"/sql/jobs/{w.job_id}/result.csv"), ("s3:GetObject",),
                                         lambda w: ["bob"]),
    "users page": ConsoleOp(lambda c, w: c.get("/users"), ("iam:ListUsers",),
                            lambda w: [w.entities.user, w.entities.key], callers=("other-tenant", "anonymous")),
    "create a key for the victim's user": ConsoleOp(lambda c, w: c.post("/users/keys/create", {
        "user": w.entities.user}), ("iam:CreateAccessKey",), _key_secrets, iam_changes=True),
    "disable the victim's user key": ConsoleOp(lambda c, w: c.post("/users/keys/update", {
        "user": w.entities.user, "key": w.entities.key, "status": "Inactive"}), ("iam:UpdateAccessKey",),
        lambda w: [], iam_changes=True),
    "delete the victim's user key": ConsoleOp(lambda c, w: c.post("/users/keys/delete", {
        "user": w.entities.user, "key": w.entities.key}), ("iam:DeleteAccessKey",), lambda w: [], iam_changes=True),
    "delete the victim's user": ConsoleOp(lambda c, w: c.post("/users/delete", {"name": w.entities.user}),
                                          ("iam:DeleteUser",), lambda w: [], iam_changes=True),
    # the Billing page (console/views/billing.py): only the operator names another account (?tenant=)
    "billing page": ConsoleOp(lambda c, w: c.get("/billing"), ("nuage-billing:GetPreview",), _billing_secrets),
    "the victim's billing page": ConsoleOp(lambda c, w: c.get(f"/billing?tenant={_victim_account(w)}"),
                                           ("nuage-billing:GetPreview",), _billing_secrets),
    "the victim's invoice as PDF": ConsoleOp(
        lambda c, w: c.get(f"/billing/invoices/{_closed_month()}.pdf?tenant={_victim_account(w)}"),
        ("nuage-billing:GetInvoice",), _billing_secrets),
    "the victim's invoice as JSON": ConsoleOp(
        lambda c, w: c.get(f"/billing/invoices/{_closed_month()}.json?tenant={_victim_account(w)}"),
        ("nuage-billing:GetInvoice",), _billing_secrets),
    "the victim's month so far": ConsoleOp(lambda c, w: c.get(f"/billing/preview.json?tenant={_victim_account(w)}"),
                                           ("nuage-billing:GetPreview",), _billing_secrets),
    "set the victim's budget": ConsoleOp(lambda c, w: c.post("/billing/budget", {
        "amount": "0.01", "tenant": _victim_account(w)}), ("nuage-billing:PutBudget",), _billing_secrets),
    "remove the victim's budget": ConsoleOp(lambda c, w: c.post("/billing/budget/delete", {
        "tenant": _victim_account(w)}), ("nuage-billing:DeleteBudget",), _billing_secrets),
}
CONSOLE_MATRIX = [(op, caller) for op, spec in CONSOLE_OPS.items() for caller in spec.callers]
SIGNED_URL = re.compile(r"""(https?://127\.0\.0\.1:\d+/[^"'\s<>]*X-Amz-Signature=[^"'\s<>&]+[^"'\s<>]*)""")


@pytest.mark.parametrize(("op", "caller"), CONSOLE_MATRIX,
                         ids=[f"console-{op.replace(' ', '-')}-by-{caller}" for op, caller in CONSOLE_MATRIX])
def test_console_refused(world: World, op: str, caller: str) -> None:
    spec = CONSOLE_OPS[op]
    keys = {"other-tenant": world.other.keys, "user-no-policy": world.no_policy.keys, "anonymous": None,
            "user-denied": world.denied["console:" + op].keys}[caller]
    console = ConsoleClient(world.server.console_endpoint)
    if keys is not None:
        signed_in = console.sign_in(*keys)
        assert signed_in.status in (302, 303), signed_in.text[:300]
    else:
        console.get("/login")
    before = snapshot(world.victim, world.target, spec.changes)
    page = spec.run(console, world)
    text = page.text + page.location
    if page.status in (301, 302, 303, 307) and "/login" not in page.location and page.location.startswith("/"):
        text += console.get(page.location).text        # where the console sends the caller next
    for secret in spec.secrets(world):
        assert secret not in text, f"LEAK: {caller} / console {op}: {secret!r} in {page.status} {text[:500]}"
    for url in SIGNED_URL.findall(text):   # a link the console signed must not open the victim's data
        status, body = _fetch(urllib.request.Request(html.unescape(url)))
        assert status == 403, f"LEAK: {caller} / console {op}: {url} answered {status} {str(body)[:200]}"
    assert snapshot(world.victim, world.target, spec.changes) == before, f"{caller} / console {op} changed data"
    if spec.iam_changes:
        assert entity_state(world.victim_iam, world.entities) == world.before_iam


def test_console_allowed_for_the_owner(world: World) -> None:
    """Control: signed in as the victim, the same pages show the bucket, the object and the job."""
    console = ConsoleClient(world.server.console_endpoint)
    assert console.sign_in(*world.victim_keys).status in (302, 303)
    assert world.target.bucket in console.get("/buckets").text
    assert "data.csv" in console.get(f"/b/{world.target.bucket}").text
    assert world.target.versions["obj"][1] in console.get(f"/b/{world.target.bucket}/object?key=obj").text
    location = console.get(f"/b/{world.target.bucket}/download?key=data.csv").location
    assert _fetch(urllib.request.Request(location)) == (200, CSV.decode())
    assert "bob" in console.get(f"/sql/jobs/{world.job_id}").text
    assert "allowed-" in console.get("/users").text
    assert _victim_account(world) in console.get("/billing").text


def test_console_is_not_served_on_the_s3_origin(world: World) -> None:
    """Objects a tenant serves from the S3 endpoint share no origin with the console: there, /console is an
    S3 path like any other, and the console's session cookie opens nothing."""
    console = ConsoleClient(world.server.console_endpoint)
    assert console.sign_in(*world.victim_keys).status in (302, 303)
    assert world.server.console_endpoint != world.server.endpoint
    cookie = console.cookie()
    assert cookie
    status, body = _fetch(urllib.request.Request(world.server.endpoint + "/console/buckets",
                                                 headers={"Cookie": f"nuage_console={cookie}"}))
    assert status in (403, 404) and str(body).startswith("<?xml") and world.target.bucket not in str(body)


# == the internal replication endpoint: a region's key only, never a tenant's =======================================
REPLICATION_ENDPOINT: dict[str, Callable[[World], tuple[str, str]]] = {
    "apply a replica": lambda w: ("PUT", f"/_nuage/replication/apply/{w.target.bucket}"),
    "read a bucket's versioning": lambda w: ("GET", f"/_nuage/replication/bucket/{w.target.bucket}"),
    "ask for consent": lambda w: ("GET", f"/_nuage/replication/consent/{w.target.bucket}"),
}
REPLICATION_CALLERS = ("tenant-root", "other-tenant", "anonymous", "user-no-policy")
REPLICATION_MATRIX = [(op, caller) for op in REPLICATION_ENDPOINT for caller in REPLICATION_CALLERS]


@pytest.mark.parametrize(("op", "caller"), REPLICATION_MATRIX,
                         ids=[f"replication-endpoint-{op.replace(' ', '-')}-by-{caller}"
                              for op, caller in REPLICATION_MATRIX])
def test_replication_endpoint_refused(world: World, op: str, caller: str) -> None:
    keys = {"tenant-root": world.victim_keys, "other-tenant": world.other.keys, "anonymous": None,
            "user-no-policy": world.no_policy.keys}[caller]
    method, path = REPLICATION_ENDPOINT[op](world)
    before = snapshot(world.victim, world.target, ("versions",))
    status, body = query_call(world.server, method, path, {"planted": True} if method == "PUT" else None, keys,
                              "nuage-replication")
    assert status == 403, f"{caller} / {op}: {status} {str(body)[:300]}"
    assert snapshot(world.victim, world.target, ("versions",)) == before


# == no existence oracle: a refusal reads the same whether the key exists or not ====================================
def _s3_answer(call: Callable[[], Any], key: str) -> tuple[object, ...]:
    try:
        call()
    except ClientError as exc:
        error = exc.response["Error"]
        return (exc.response["ResponseMetadata"]["HTTPStatusCode"], error.get("Code"),
                str(error.get("Message", "")).replace(key, "KEY"))
    return ("succeeded",)


ORACLES: dict[str, Callable[[Caller, World, str], tuple[object, ...]]] = {
    "GetObject": lambda c, w, k: _s3_answer(lambda: c.s3.get_object(Bucket=w.target.bucket, Key=k), k),
    "HeadObject": lambda c, w, k: _s3_answer(lambda: c.s3.head_object(Bucket=w.target.bucket, Key=k), k),
    "GetObjectTagging": lambda c, w, k: _s3_answer(lambda: c.s3.get_object_tagging(Bucket=w.target.bucket, Key=k), k),
    "GetObjectAttributes": lambda c, w, k: _s3_answer(lambda: c.s3.get_object_attributes(
        Bucket=w.target.bucket, Key=k, ObjectAttributes=["ETag"]), k),
    "GetObjectRetention": lambda c, w, k: _s3_answer(lambda: c.s3.get_object_retention(
        Bucket=w.target.bucket, Key=k), k),
    "SelectObjectContent": lambda c, w, k: _s3_answer(lambda: c.s3.select_object_content(
        Bucket=w.target.bucket, Key=k, Expression="SELECT * FROM S3Object", ExpressionType="SQL",
        InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}}), k),
    "CopyObject": lambda c, w, k: _s3_answer(lambda: c.s3.copy_object(
        Bucket=c.dest, Key="copy", CopySource={"Bucket": w.target.bucket, "Key": k}), k),
    "SQL job": lambda c, w, k: _query_answer(c, w, f"SELECT * FROM 's3://{w.target.bucket}/{k}'", k),
    "SQL job (reader function)": lambda c, w, k: _query_answer(
        c, w, f"SELECT * FROM read_csv('s3://{w.target.bucket}/{k}')", k),
}
ORACLE_CALLERS = ("other-tenant", "anonymous", "user-no-policy")
ORACLE_MATRIX = [pytest.param(channel, caller, id=f"existence-{channel.replace(' ', '-')}-by-{caller}")
                 for channel in ORACLES for caller in ORACLE_CALLERS
                 if not (caller == "anonymous" and channel.startswith("SQL"))]


def _query_answer(c: Caller, w: World, sql: str, key: str) -> tuple[object, ...]:
    status, answer = query_call(w.server, "POST", "/query/jobs", {"sql": sql, "wait": 30}, c.keys)
    error = answer.get("error") or {} if isinstance(answer, dict) else {}
    return status, error.get("code"), str(error.get("message", "")).replace(key, "KEY")


@pytest.mark.parametrize(("channel", "caller"), ORACLE_MATRIX)
def test_no_existence_oracle(world: World, channel: str, caller: str) -> None:
    who = world.caller(caller, "GetObject")
    existing, missing = ORACLES[channel](who, world, "data.csv"), ORACLES[channel](who, world, "missing.csv")
    assert existing[0] == 403, existing
    assert existing == missing, f"{caller} tells an existing key from a missing one through {channel}"


def test_iam_rename_needs_permission_on_the_new_name(world: World) -> None:
    """A user allowed IAM actions on /staff/ users and /teams/ groups only cannot move one of them out (to a
    name a bucket policy may trust): IAM checks the new ARN too. Within /staff/ it may rename."""
    iam = world.victim_iam
    account = iam.get_user()["User"]["Arn"].split(":")[4]
    user, group = f"intern-{uuid.uuid4().hex[:6]}", f"team-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=user, Path="/staff/")
    iam.create_group(GroupName=group, Path="/teams/")
    _, keys, _ = _user(iam, world.server, "staffadmin", _policy_doc({"Effect": "Allow", "Action": "iam:*", "Resource": [
        f"arn:aws:iam::{account}:user/staff/*", f"arn:aws:iam::{account}:group/teams/*"]}))
    limited = client_for_keys(world.server, keys, "iam")
    for call in (lambda: limited.update_user(UserName=user, NewPath="/", NewUserName=f"deploy-{user}"),
                 lambda: limited.update_user(UserName=user, NewPath="/admins/"),
                 lambda: limited.update_group(GroupName=group, NewPath="/")):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert iam.get_user(UserName=user)["User"]["Path"] == "/staff/"
    assert iam.get_group(GroupName=group)["Group"]["Path"] == "/teams/"
    limited.update_user(UserName=user, NewUserName=f"{user}-renamed")
    assert iam.get_user(UserName=f"{user}-renamed")["User"]["Arn"].endswith(f":user/staff/{user}-renamed")


# == a captured request: a presigned URL of the victim's, altered, opens nothing else ================================
def _altered(url: str, w: World) -> dict[str, tuple[str, str]]:
    """(method, URL) of each alteration of a presigned GET of ``data.csv``."""
    t = w.target
    return {
        "another key": ("GET", url.replace("/data.csv?", "/obj?")),
        "another bucket": ("GET", url.replace(f"/{t.bucket}/", f"/{t.replica}/")),
        "a version id added": ("GET", url + f"&versionId={t.versions['data.csv'][0]}"),
        "a longer life": ("GET", re.sub(r"Expires=(\d+)", lambda m: f"Expires={int(m.group(1)) + 86400}", url)),
        "DELETE instead of GET": ("DELETE", url),
        "PUT instead of GET": ("PUT", url),
    }


ALTERATIONS = ("another key", "another bucket", "a version id added", "a longer life", "DELETE instead of GET",
               "PUT instead of GET")


@pytest.mark.parametrize("signer", ["s3v4", "s3"])   # SigV4 and SigV2 presigned URLs
@pytest.mark.parametrize("alteration", ALTERATIONS)
def test_captured_presigned_url_cannot_be_altered(world: World, alteration: str, signer: str) -> None:
    victim = world.server.client(access_key=world.victim_keys[0], secret_key=world.victim_keys[1],
                                 signature_version=signer)
    url = victim.generate_presigned_url("get_object", Params={"Bucket": world.target.bucket, "Key": "data.csv"},
                                        ExpiresIn=60)
    assert _fetch(urllib.request.Request(url)) == (200, CSV.decode())   # the URL as it was signed works
    method, altered = _altered(url, world)[alteration]
    assert altered != url or method != "GET"
    before = snapshot(world.victim, world.target, ("versions",))
    status, body = _fetch(urllib.request.Request(altered, method=method, data=b"planted" if method == "PUT" else None))
    assert status == 403, f"LEAK: a presigned URL with {alteration}: {status} {str(body)[:200]}"
    assert snapshot(world.victim, world.target, ("versions",)) == before


# == billing: the operator's routes (admin/billing.py, admin/metering.py, admin/budgets.py) ========================
def _last_month() -> str:
    first = datetime.now(UTC).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


BILLING_ADMIN_OPS: dict[str, Callable[[World], tuple[str, str, dict[str, Any] | None]]] = {
    "list a tenant's invoices": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/invoices", None),
    "issue a tenant's invoice": lambda w: ("POST", f"/admin/tenants/{w.victim_name}/invoices/{_last_month()}", None),
    "read a tenant's invoice": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/invoices/{_last_month()}", None),
    "read a tenant's invoice as PDF": lambda w: (
        "GET", f"/admin/tenants/{w.victim_name}/invoices/{_last_month()}?format=pdf", None),
    "preview a tenant's month": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/invoices/preview", None),
    "read metered usage": lambda w: (
        "GET", f"/admin/usage/metered?tenant={w.victim_name}&from=2026-01-01&to=2028-01-01", None),
    "read every tenant's metered usage": lambda w: ("GET", "/admin/usage/metered?from=2026-01-01&to=2028-01-01", None),
    "read a tenant's budget": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/budget", None),
    "set a tenant's budget": lambda w: ("PUT", f"/admin/tenants/{w.victim_name}/budget", {"amount": "0.01"}),
    "remove a tenant's budget": lambda w: ("DELETE", f"/admin/tenants/{w.victim_name}/budget", None),
    "list a tenant's budget events": lambda w: ("GET", f"/admin/tenants/{w.victim_name}/budget/events", None),
    "list every tenant's budget events": lambda w: ("GET", "/admin/budgets/events", None),
}
BILLING_ADMIN_MATRIX = [(op, caller) for op in BILLING_ADMIN_OPS for caller in ADMIN_CALLERS]
VICTIM_BUDGET = "123.45"


@dataclass(frozen=True)
class Billed:
    account_id: str
    invoice: str                    # the number of the victim's invoice of last month
    allowed: tuple[str, str]        # a victim user allowed nuage-billing:* (positive control)
    denied: dict[str, tuple[str, str]]   # per billing action: a victim user allowed nuage-billing:* but that one


@pytest.fixture(scope="module")
def billed(world: World) -> Billed:
    """The victim's billing data: a budget and an issued invoice; its users for the tenant billing API."""
    account_id = world.victim_iam.get_user()["User"]["Arn"].split(":")[4]
    status, _ = query_call(world.server, "PUT", "/billing/budget", {"amount": VICTIM_BUDGET}, world.victim_keys,
                           "nuage-billing")
    assert status == 200
    status, invoice = query_call(world.server, "POST", f"/admin/tenants/{world.victim_name}/invoices/{_last_month()}",
                                 None, (ACCESS_KEY, SECRET_KEY), "nuage-admin")
    assert status in (200, 201), invoice
    allow = {"Effect": "Allow", "Action": "nuage-billing:*", "Resource": "*"}
    _, allowed, _ = _user(world.victim_iam, world.server, "billing", _policy_doc(allow))
    denied: dict[str, tuple[str, str]] = {}
    for action in sorted({spec.action for spec in BILLING_OPS.values()}):
        _, keys, _ = _user(world.victim_iam, world.server, "billingdenied", _policy_doc(allow, {
            "Effect": "Deny", "Action": f"nuage-billing:{action}",
            "Resource": f"arn:aws:nuage-billing::{account_id}:account"}))
        denied[action] = keys
    return Billed(account_id, str(invoice["number"]), allowed, denied)


def _billing_state(w: World) -> tuple[object, ...]:
    """The victim's budget and invoices, as the operator reads them."""
    operator = (ACCESS_KEY, SECRET_KEY)
    _, budget = query_call(w.server, "GET", f"/admin/tenants/{w.victim_name}/budget", None, operator, "nuage-admin")
    _, invoices = query_call(w.server, "GET", f"/admin/tenants/{w.victim_name}/invoices", None, operator,
                             "nuage-admin")
    return budget.get("amount"), json.dumps(invoices["invoices"], sort_keys=True)


@pytest.mark.parametrize(("op", "caller"), BILLING_ADMIN_MATRIX,
                         ids=[f"admin-billing-{op.replace(' ', '-')}-by-{caller}"
                              for op, caller in BILLING_ADMIN_MATRIX])
def test_admin_billing_refused(world: World, billed: Billed, operator_user: tuple[str, str], op: str,
                               caller: str) -> None:
    keys = {"tenant-root": world.victim_keys, "other-tenant": world.other.keys,
            "tenant-user-allowed-everything": world.allowed.keys, "operator-user-allowed-everything": operator_user,
            "anonymous": None}[caller]
    method, path, body = BILLING_ADMIN_OPS[op](world)
    before = _billing_state(world)
    status, answer = query_call(world.server, method, path, body, keys, "nuage-admin")
    text = json.dumps(answer) if not isinstance(answer, str) else answer
    assert billed.invoice not in text and VICTIM_BUDGET not in text, f"LEAK: {caller} / {op}: {text[:300]}"
    if keys is None:   # unsigned: not an admin call, S3 answers with an error for a bucket named "admin"
        assert status >= 400 and text.startswith("<?xml") and "<Error>" in text, f"LEAK: anonymous / {op}: {text}"
    else:
        assert status == 403 and answer["error"]["code"] == "AccessDenied", f"LEAK: {caller} / {op}: {status} {text}"
    assert _billing_state(world) == before


def test_admin_billing_allowed_for_the_operator(world: World, billed: Billed) -> None:
    operator = (ACCESS_KEY, SECRET_KEY)
    for op in ("list a tenant's invoices", "read a tenant's invoice", "read a tenant's budget",
               "list every tenant's budget events", "read metered usage", "preview a tenant's month"):
        method, path, body = BILLING_ADMIN_OPS[op](world)
        status, answer = query_call(world.server, method, path, body, operator, "nuage-admin")
        assert status == 200, (op, answer)
    assert _billing_state(world)[0] == VICTIM_BUDGET


# == the tenant billing API (/billing/..., nuage-billing): a caller only ever sees its own account ================
@dataclass(frozen=True)
class BillingOp:
    request: Callable[[World], tuple[str, str, dict[str, Any] | None]]
    action: str


BILLING_OPS: dict[str, BillingOp] = {
    "read usage": BillingOp(lambda w: ("GET", "/billing/usage?from=2026-01-01&to=2028-01-01", None), "GetUsage"),
    "preview the month": BillingOp(lambda w: ("GET", "/billing/preview", None), "GetPreview"),
    "list invoices": BillingOp(lambda w: ("GET", "/billing/invoices", None), "ListInvoices"),
    "read last month's invoice": BillingOp(lambda w: ("GET", f"/billing/invoices/{_last_month()}", None),
                                           "GetInvoice"),
    "read last month's invoice as PDF": BillingOp(
        lambda w: ("GET", f"/billing/invoices/{_last_month()}?format=pdf", None), "GetInvoice"),
    "read the budget": BillingOp(lambda w: ("GET", "/billing/budget", None), "GetBudget"),
    "set the budget": BillingOp(lambda w: ("PUT", "/billing/budget", {"amount": "0.01"}), "PutBudget"),
    "remove the budget": BillingOp(lambda w: ("DELETE", "/billing/budget", None), "DeleteBudget"),
    "list budget events": BillingOp(lambda w: ("GET", "/billing/events", None), "ListBudgetEvents"),
}
BILLING_MATRIX = [(op, caller) for op in BILLING_OPS for caller in CALLERS]


@pytest.mark.parametrize(("op", "caller"), BILLING_MATRIX,
                         ids=[f"billing-{op.replace(' ', '-')}-by-{caller}" for op, caller in BILLING_MATRIX])
def test_billing_refused(world: World, billed: Billed, op: str, caller: str) -> None:
    spec = BILLING_OPS[op]
    keys = {"other-tenant": world.other.keys, "anonymous": None, "user-no-policy": world.no_policy.keys,
            "user-denied": billed.denied[spec.action],
            # a user allowed s3:* and iam:* (a Deny in a bucket policy cannot reach billing): no billing Allow
            "user-denied-bp": world.caller("user-denied-bp", "GetObject").keys}[caller]
    method, path, body = spec.request(world)
    before = _billing_state(world)
    status, answer = query_call(world.server, method, path, body, keys, "nuage-billing")
    text = json.dumps(answer) if not isinstance(answer, str) else answer
    # (the victim's own users may read its account id in their refusal: it is their account too)
    secrets = (billed.invoice, VICTIM_BUDGET) + ((billed.account_id, world.victim_name)
                                                 if caller in ("other-tenant", "anonymous") else ())
    for secret in secrets:
        assert secret not in text, f"LEAK: {caller} / {op}: {text[:300]}"
    if keys is None:   # unsigned: not a billing call, S3 answers with an error for a bucket named "billing"
        assert status >= 400 and text.startswith("<?xml") and "<Error>" in text, f"{caller} / {op}: {status} {text}"
    elif caller == "other-tenant":   # no route names an account: it gets its own (empty) billing, never the victim's
        assert status in (200, 404), f"{caller} / {op}: {status} {text[:300]}"
    else:
        assert status == 403 and answer["error"]["code"] == "AccessDenied", f"LEAK: {caller} / {op}: {status} {text}"
    assert _billing_state(world) == before


def test_billing_allowed_for_the_owner_and_an_allowed_user(world: World, billed: Billed) -> None:
    for keys in (world.victim_keys, billed.allowed):
        status, budget = query_call(world.server, "GET", "/billing/budget", None, keys, "nuage-billing")
        assert status == 200 and budget["amount"] == VICTIM_BUDGET, budget
        status, invoices = query_call(world.server, "GET", "/billing/invoices", None, keys, "nuage-billing")
        assert status == 200 and [i["number"] for i in invoices["invoices"]] == [billed.invoice], invoices
        status, usage = query_call(world.server, "GET", "/billing/usage", None, keys, "nuage-billing")
        assert status == 200 and usage["account_id"] == billed.account_id, usage


# == /_nuage/metrics: only a scraper with the token ===============================================================
METRICS_TOKEN = "isolation-matrix-metrics-token-0123456789"


@pytest.fixture(scope="module")
def metrics_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("metrics") / "data",
                      env={"NUAGE_METRICS_TOKEN": METRICS_TOKEN}).start()
    yield srv
    assert srv.stop() == 0, srv.log()


def _metrics(server: NuageServer, headers: dict[str, str], sign: tuple[str, str] | None = None) -> tuple[int, str]:
    url = server.endpoint + "/_nuage/metrics"
    if sign is not None:
        request = AWSRequest(method="GET", url=url, data=b"")
        SigV4Auth(Credentials(*sign), "s3", server.region).add_auth(request)
        headers = {**headers, **dict(request.prepare().headers)}
    status, body = _fetch(urllib.request.Request(url, headers=headers))
    return status, body if isinstance(body, str) else json.dumps(body)


METRICS_CALLERS = ("anonymous", "tenant-root-signed", "operator-root-signed", "wrong-token", "basic-auth")


@pytest.mark.parametrize("caller", METRICS_CALLERS)
def test_metrics_refused_without_the_token(metrics_server: NuageServer, caller: str) -> None:
    tenant = add_account(metrics_server)
    headers, sign = {
        "anonymous": ({}, None),
        "tenant-root-signed": ({}, (tenant.access_key, tenant.secret_key)),
        "operator-root-signed": ({}, (ACCESS_KEY, SECRET_KEY)),
        "wrong-token": ({"Authorization": "Bearer " + METRICS_TOKEN[:-1] + "X"}, None),
        "basic-auth": ({"Authorization": "Basic " + METRICS_TOKEN}, None),
    }[caller]
    status, text = _metrics(metrics_server, headers, sign)
    assert status in (401, 403) and "nuage_" not in text, f"LEAK: {caller}: {status} {text[:300]}"


def test_metrics_off_on_a_gateway_without_token(world: World) -> None:
    for keys in (None, world.victim_keys, (ACCESS_KEY, SECRET_KEY)):
        status, text = _metrics(world.server, {}, keys)
        assert status == 403 and "nuage_" not in text, (keys, status, text[:300])


def test_metrics_allowed_with_the_token(metrics_server: NuageServer) -> None:
    status, text = _metrics(metrics_server, {"Authorization": "Bearer " + METRICS_TOKEN})
    assert status == 200 and "nuage_" in text, text[:300]


# == after the whole matrix =======================================================================================
def test_victim_unchanged_after_the_matrix(world: World) -> None:
    """Runs after the cells collected before it in this process: objects, versions, bodies, uploads and every
    configuration of the victim's bucket, and its IAM entities, are as they were built."""
    assert snapshot(world.victim, world.target) == world.before
    assert bodies(world.victim, world.target) == world.before_bodies
    assert entity_state(world.victim_iam, world.entities) == world.before_iam
    status, tenant = query_call(world.server, "GET", f"/admin/tenants/{world.victim_name}", None,
                                (ACCESS_KEY, SECRET_KEY), "nuage-admin")
    assert status == 200 and tenant["quota"] == {"max_bytes": None, "max_objects": None}, tenant
