"""A fuzz campaign against a real `nuage serve`: random and malformed requests over every route.

It starts its own server (tests/support/server.py's NuageServer, in a temporary folder), creates a few
buckets, objects and a multipart upload for the requests to hit, then sends requests from several
threads, each on its own keep-alive connection of raw sockets: S3 operations of src/nuage/s3/router.py
with random or malformed query parameters, headers and bodies (mutated S3 XML, JSON, random bytes), most
of them correctly signed with SigV4 (so they get past authentication into the handlers), some anonymous,
some with broken signatures; the admin API (/admin), the SQL jobs API (/query), IAM (POST /), and the web
console (signed in, with its CSRF token, and not); and malformed HTTP on fresh connections (bad request
lines, bad headers, bodies shorter than announced, garbage).

Every request is drawn from a random generator seeded with ``--seed`` and the thread's number, so a
campaign repeats (the interleaving of threads aside). It stops after ``--count`` requests or ``--seconds``
seconds, whichever comes first, and checks: no response 500 (nor any 5xx but 501 NotImplemented, 503
SlowDown and 507 InsufficientStorage), no traceback in the server's log, the server still alive and
answering. It prints counts by status and the requests that failed (also written as JSON with
``--out``). Exit status 0 when all checks pass.

    .venv/bin/python bench/fuzz.py --count 100000 --seconds 600 --threads 8 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import random
import re
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer  # noqa: E402
from tests.support.sigv4 import sign_headers, signed_chunks, signing_key  # noqa: E402

REGION = "us-east-1"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
ALLOWED_5XX = {501, 503, 507}
TIMEOUT = 15.0
TRACE: Any = None   # a file that API and console requests are written to, with their answers (debugging)

# -- what requests are made of ------------------------------------------------------------------------

BUCKET_SUBRESOURCES = [
    "versioning", "location", "tagging", "acl", "policy", "policyStatus", "versions", "uploads", "encryption",
    "object-lock", "lifecycle", "cors", "website", "replication", "publicAccessBlock", "ownershipControls",
    "logging", "notification", "accelerate", "requestPayment", "analytics", "inventory", "metrics",
    "intelligent-tiering", "list-type", "delete", "select",
]
OBJECT_SUBRESOURCES = [
    "tagging", "acl", "uploadId", "attributes", "retention", "legal-hold", "restore", "torrent", "select",
    "uploads", "partNumber", "versionId",
]
PARAMS = [
    "prefix", "delimiter", "marker", "max-keys", "continuation-token", "start-after", "fetch-owner",
    "encoding-type", "key-marker", "version-id-marker", "upload-id-marker", "max-uploads", "max-parts",
    "part-number-marker", "versionId", "partNumber", "uploadId", "select-type", "response-content-type",
    "response-content-disposition", "response-cache-control", "response-expires", "x-id", "list-type",
    "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
    "X-Amz-Signature", "AWSAccessKeyId", "Signature", "Expires", "id", "allow-unordered", "mode",
]
HEADERS = [
    "x-amz-copy-source", "x-amz-copy-source-range", "range", "if-match", "if-none-match", "if-modified-since",
    "if-unmodified-since", "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
    "x-amz-copy-source-if-modified-since", "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
    "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-crc64nvme", "x-amz-sdk-checksum-algorithm",
    "x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-tagging", "x-amz-tagging-directive",
    "x-amz-metadata-directive", "x-amz-meta-a", "x-amz-meta-", "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-md5", "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-copy-source-server-side-encryption-customer-algorithm", "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold", "x-amz-bypass-governance-retention",
    "x-amz-acl", "x-amz-grant-read", "x-amz-grant-full-control", "x-amz-grant-write-acp", "x-amz-storage-class",
    "x-amz-website-redirect-location", "x-amz-expected-bucket-owner", "x-amz-request-payer", "x-amz-mfa",
    "x-amz-object-attributes", "x-amz-max-parts", "x-amz-part-number-marker", "x-amz-bucket-object-lock-enabled",
    "x-amz-object-ownership", "x-amz-trailer", "x-amz-decoded-content-length", "content-encoding",
    "content-type", "content-disposition", "cache-control", "expires", "origin", "access-control-request-method",
    "access-control-request-headers", "x-amz-if-match-size", "x-amz-write-offset-bytes",
    "x-amz-confirm-remove-self-bucket-access",
    "x-amz-content-sha256", "x-amz-date", "date", "expect",
]
NASTY = ["", " ", "0", "-1", "1", "2", "10000", "10001", "99999999999999999999999", "1e9", "NaN", "true", "null",
         "abc", "%", "%FF", "%C3%28", "\x00", "a\tb", "é", "🌧", "../..", "/", "//", "a/b", "*", "?", "&", "=",
         "<x>", "'", '"', "\\", "a" * 300, "a" * 2000, "k1", "bytes=0-1", "bytes=-1", "bytes=5-1", "bytes=0-",
         "bytes=a-b", "bytes=0-1,2-3", "Tue, 01 Jan 2030 00:00:00 GMT", "2030-01-01T00:00:00Z", "1999-01-01",
         "GOVERNANCE", "COMPLIANCE", "ON", "OFF", "Enabled", "AES256", "aws:kms", "STANDARD", "GLACIER",
         "private", "public-read", "bucket-owner-full-control", "COPY", "REPLACE", "CRC32", "SHA256", "CRC64NVME",
         "id=abc", "emailAddress=a@b", "uri=http://acs.amazonaws.com/groups/global/AllUsers", "k=v&k2=v2",
         "k=v&k=v", "=v", "k=", "fuzz/k1", "/fuzz/k1", "fuzz/k1?versionId=x", "nosuch/k", "fuzz/%FF",
         "fuzz/k1?versionId=null",
         "AAAAAA==", "1B2M2Y8AsgTpgAmY7PhCfg==", "UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
         "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x-amz-checksum-crc32", "100-continue", "aws-chunked", "gzip",
         "GET", "PUT", "http://example.com", "ETag,Checksum,ObjectParts,StorageClass,ObjectSize"]

XML = {
    "versioning": "<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete>"
                  "</VersioningConfiguration>",
    "tagging": "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>a</Key><Value>b</Value></Tag>"
               "</TagSet></Tagging>",
    "acl": "<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Grantee "
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>x</ID></Grantee>'
           "<Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee "
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>'
           "http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>"
           "</AccessControlList></AccessControlPolicy>",
    "encryption": "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>"
                  "AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true"
                  "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>",
    "object-lock": "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
                   "<Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>",
    "lifecycle": "<LifecycleConfiguration><Rule><ID>r</ID><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key>"
                 "<Value>v</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></And></Filter><Status>"
                 "Enabled</Status><Expiration><Days>1</Days></Expiration><NoncurrentVersionExpiration>"
                 "<NoncurrentDays>2</NoncurrentDays><NewerNoncurrentVersions>3</NewerNoncurrentVersions>"
                 "</NoncurrentVersionExpiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
                 "</DaysAfterInitiation></AbortIncompleteMultipartUpload><Transition><Days>30</Days><StorageClass>"
                 "GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>",
    "cors": "<CORSConfiguration><CORSRule><ID>c</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET"
            "</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>10"
            "</MaxAgeSeconds></CORSRule></CORSConfiguration>",
    "website": "<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument>"
               "<Key>e.html</Key></ErrorDocument><RoutingRules><RoutingRule><Condition><KeyPrefixEquals>a"
               "</KeyPrefixEquals><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>"
               "<Redirect><ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith><HttpRedirectCode>301</HttpRedirectCode>"
               "</Redirect></RoutingRule></RoutingRules></WebsiteConfiguration>",
    "replication": "<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role><Rule><ID>r</ID><Priority>1"
                   "</Priority><Status>Enabled</Status><Filter><Prefix>p</Prefix></Filter><Destination><Bucket>"
                   "arn:aws:s3:::fuzz2</Bucket><StorageClass>STANDARD</StorageClass></Destination>"
                   "<DeleteMarkerReplication><Status>Enabled</Status></DeleteMarkerReplication></Rule>"
                   "</ReplicationConfiguration>",
    "publicAccessBlock": "<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>"
                         "false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>"
                         "false</RestrictPublicBuckets></PublicAccessBlockConfiguration>",
    "ownershipControls": "<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>"
                         "</OwnershipControls>",
    "delete": "<Delete><Quiet>false</Quiet><Object><Key>k1</Key></Object><Object><Key>k2</Key><VersionId>null"
              "</VersionId></Object></Delete>",
    "uploadId": "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"abc\"</ETag><ChecksumCRC32>AAAAAA=="
                "</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part>"
                "</CompleteMultipartUpload>",
    "retention": "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
                 "</Retention>",
    "legal-hold": "<LegalHold><Status>ON</Status></LegalHold>",
    "select": "<SelectObjectContentRequest><Expression>SELECT * FROM S3Object s WHERE s._1 = 'a' LIMIT 5"
              "</Expression><ExpressionType>SQL</ExpressionType><InputSerialization><CSV><FileHeaderInfo>NONE"
              "</FileHeaderInfo></CSV><CompressionType>NONE</CompressionType></InputSerialization>"
              "<OutputSerialization><JSON/></OutputSerialization><ScanRange><Start>0</Start><End>10</End>"
              "</ScanRange></SelectObjectContentRequest>",
    "bucket": "<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint>"
              "</CreateBucketConfiguration>",
    "restore": "<RestoreRequest><Days>1</Days></RestoreRequest>",
}
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
                                                  "Resource": ["arn:aws:s3:::fuzz/*"],
                                                  "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}]}
IAM_ACTIONS = ["CreateUser", "GetUser", "ListUsers", "DeleteUser", "UpdateUser", "CreateAccessKey", "ListAccessKeys",
               "UpdateAccessKey", "DeleteAccessKey", "CreateGroup", "GetGroup", "ListGroups", "AddUserToGroup",
               "RemoveUserFromGroup", "DeleteGroup", "PutUserPolicy", "GetUserPolicy", "DeleteUserPolicy",
               "ListUserPolicies", "PutGroupPolicy", "ListAttachedUserPolicies", "ListRoles", "Nope", ""]
IAM_PARAMS = ["UserName", "GroupName", "PolicyName", "PolicyDocument", "AccessKeyId", "Status", "NewUserName",
              "Path", "Marker", "MaxItems", "Version"]
ADMIN_PATHS = ["/admin", "/admin/", "/admin/tenants", "/admin/tenants/t1", "/admin/tenants/t1/suspend",
               "/admin/tenants/t1/activate", "/admin/tenants/t1/keys", "/admin/tenants/t1/usage", "/admin/quotas",
               "/admin/replication", "/admin/tenants/%FF", "/admin/tenants/" + "x" * 300, "/admin/nope"]
QUERY_PATHS = ["/query", "/query/jobs", "/query/jobs/1", "/query/jobs/abc", "/query/jobs/1/result",
               "/query/jobs/1/cancel", "/query/jobs/-1", "/query/jobs/%FF", "/query/nope"]
QUERY_SQL = ["SELECT 1", "SELECT * FROM read_csv('s3://fuzz/k1')", "SELECT count(*) FROM 's3://fuzz/*'",
             "SELECT * FROM read_parquet('s3://fuzz/k1')", "select", "SELECT * FROM 's3://nosuch/x'", "",
             "SELECT * FROM read_csv('/etc/passwd')", "COPY (SELECT 1) TO '/tmp/x'", "PRAGMA version",
             "SELECT * FROM 's3://fuzz/%FF'", "SELECT repeat('a', 100000000)"]
CONSOLE_PATHS = ["/", "/login", "/login/password", "/logout", "/buckets", "/buckets/create", "/buckets/delete",
                 "/buckets/versioning", "/buckets/fuzz", "/buckets/fuzz/object", "/buckets/fuzz/download",
                 "/buckets/fuzz/share", "/buckets/fuzz/delete", "/buckets/fuzz/folder", "/sql", "/sql/run",
                 "/sql/jobs/1",
                 "/sql/jobs/1/cancel", "/sql/jobs/1/result.csv", "/sql/jobs/1/save", "/api/upload/start",
                 "/api/upload/parts", "/api/upload/complete", "/api/upload/abort", "/usage", "/users",
                 "/users/create", "/users/access", "/users/delete", "/users/password", "/users/keys/create",
                 "/users/keys/update", "/users/keys/delete", "/static/app.css", "/nope", "/buckets/%FF"]
CONSOLE_FIELDS = ["name", "bucket", "key", "prefix", "version", "versionId", "enabled", "expires", "sql", "user",
                  "account", "password", "access_key", "secret_key", "policy", "access", "status", "upload_id",
                  "parts", "size", "content_type", "format", "folder", "csrf", "next"]


# -- one request and its answer ------------------------------------------------------------------------

@dataclass
class Request:
    kind: str
    method: str
    target: str                    # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes = b""
    port: int = 0
    raw: bytes | None = None       # sent as is on a fresh connection (malformed HTTP)
    hang_up: bool = False          # announce more body than sent and close: no answer expected

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "target": self.target, "headers": self.headers,
                "body": self.body[:2000].decode("latin-1"), "raw": None if self.raw is None
                else self.raw[:2000].decode("latin-1")}


def sign(method: str, path: str, query: str, headers: dict[str, str], body: bytes, service: str,
         access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY, payload_hash: str | None = None) -> None:
    """Add SigV4 headers (x-amz-date, x-amz-content-sha256, Authorization) for exactly what is sent: the
    query is taken as already canonical (built by `query_string`)."""
    now = datetime.now(UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    headers["x-amz-date"] = amz_date
    payload = payload_hash or hashlib.sha256(body).hexdigest()
    if service == "s3":
        headers["x-amz-content-sha256"] = payload
    lower = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items()}
    names = sorted(lower)
    canonical_query = "&".join(sorted(query.split("&"))) if query else ""
    canonical = "\n".join([method, path, canonical_query, "".join(f"{k}:{lower[k]}\n" for k in names),
                           ";".join(names), payload])
    scope = f"{amz_date[:8]}/{REGION}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret_key, amz_date[:8], REGION, service)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")


def query_string(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


class Connection:
    """A keep-alive connection that sends a request and reads one answer (status, headers, body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buf = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buf = None, b""

    def _recv(self) -> bytes:
        assert self.sock is not None
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed")
        return chunk

    def exchange(self, data: bytes, head_only: bool) -> tuple[int, dict[str, str], bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        self.sock.sendall(data)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status == 100:
            return self.exchange(b"", head_only)
        body = b""
        if head_only or status in (204, 304):
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                while b"\r\n" not in self.buf:
                    self.buf += self._recv()
                size_line, _, self.buf = self.buf.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self.buf += self._recv()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    break
        elif "content-length" in headers:
            size = int(headers["content-length"])
            while len(self.buf) < size:
                self.buf += self._recv()
            body, self.buf = self.buf[:size], self.buf[size:]
        else:
            try:
                while True:
                    self.buf += self._recv()
            except ConnectionError:
                pass
            body, self.buf = self.buf, b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


# -- the campaign ----------------------------------------------------------------------------------------

@dataclass
class Fixture:
    port: int
    console_port: int
    console_prefix: str
    upload_id: str = ""
    cookie: str = ""
    csrf: str = ""


@dataclass
class Results:
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    first_denied: dict[str, Any] | None = None
    changes: deque[tuple[Any, ...]] = field(default_factory=lambda: deque(maxlen=40))   # the last requests that change
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Generator:
    def __init__(self, rng: random.Random, fx: Fixture) -> None:
        self.r = rng
        self.fx = fx

    def nasty(self) -> str:
        r = self.r
        if r.random() < 0.1:
            return "".join(chr(r.choice([r.randrange(32, 127), r.randrange(0x80, 0x800), r.randrange(0, 32)]))
                           for _ in range(r.randrange(1, 40)))
        return r.choice(NASTY)

    def key(self) -> str:
        r = self.r
        return r.choice(["k1", "k2", "dir/k3", "big", "mp", "nosuch", "a%20b", "%FF", "%C3%28", "%00", "..%2F..",
                         "x" * 1025, "é", quote("🌧/ü"), "k1/", "%2F", "a" * 200, quote(self.nasty(), safe="/")])

    def bucket(self) -> str:
        return self.r.choice(["fuzz", "fuzz", "fuzz", "fuzzv", "nosuch", "FUZZ", "a", "fuzz.b", "-x", "x" * 70, "%FF",
                              "admin", "query", "console", "tenant:fuzz", "192.168.0.1"])

    def xml(self, topic: str) -> bytes:
        r = self.r
        text = XML.get(topic) or r.choice(list(XML.values()))
        roll = r.random()
        if roll < 0.25:
            pass
        elif roll < 0.45:   # numbers and words replaced
            text = re.sub(r">([^<]+)<", lambda m: ">" + (self.nasty() if r.random() < 0.3 else m.group(1)) + "<",
                          text)
        elif roll < 0.55:
            text = text[: r.randrange(len(text))]
        elif roll < 0.65:   # an element repeated many times
            m = re.search(r"<(\w+)>[^<]*</\1>", text)
            if m:
                text = text.replace(m.group(0), m.group(0) * r.choice([2, 50, 2000]))
        elif roll < 0.72:
            text = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>' \
                   + text.replace(">", ">&b;", 1)
        elif roll < 0.8:
            tags = re.findall(r"<(\w+)>", text)
            if tags:
                text = text.replace(f"<{r.choice(tags)}>", f"<{r.choice(tags)}>", 1)
        elif roll < 0.87:
            text = "<" + "a>" * 5000
        elif roll < 0.93:
            text = text.replace("<", '<x:', 1) if r.random() < 0.5 else text.replace(">", ' xmlns="urn:x">', 1)
        else:
            text = self.nasty()
        return text.encode("utf-8", "surrogateescape")

    def body(self, topic: str) -> bytes:
        r = self.r
        roll = r.random()
        if topic == "policy" and roll < 0.6:
            policy = json.loads(json.dumps(POLICY))
            if r.random() < 0.5:
                st = policy["Statement"][0]
                st[r.choice(list(st))] = r.choice([self.nasty(), 1, None, [], {}, [self.nasty()], {"a": self.nasty()}])
            return json.dumps(policy).encode()
        if roll < 0.65:
            return self.xml(topic)
        if roll < 0.8:
            return r.randbytes(r.choice([0, 1, 10, 1000, 20000, 200000]))
        if roll < 0.9:
            return b"x" * r.choice([0, 5, 4096, 16384, 16385, 1 << 20])
        return json.dumps({self.nasty(): self.nasty()}).encode()

    def s3(self) -> Request:
        r = self.r
        method = r.choices(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "FOO"],
                           [30, 10, 25, 12, 12, 4, 1, 1])[0]
        target = r.choices(["service", "bucket", "object"], [1, 4, 6])[0]
        path = "/" if target == "service" else f"/{self.bucket()}"
        if target == "object":
            path += "/" + self.key()
        pairs: list[tuple[str, str]] = []
        subs = OBJECT_SUBRESOURCES if target == "object" else BUCKET_SUBRESOURCES
        topic = "bucket" if target == "bucket" else ""
        if r.random() < 0.7:
            topic = r.choice(subs)
            value = ""
            if topic == "uploadId":
                value = r.choice([self.fx.upload_id, self.fx.upload_id, self.nasty()])
            elif topic in ("partNumber", "versionId", "list-type") or r.random() < 0.2:
                value = self.nasty()
            pairs.append((topic, value))
            if topic == "uploadId" and r.random() < 0.6:
                pairs.append(("partNumber", r.choice(["1", "2", "0", "10001", self.nasty()])))
            if topic == "select":
                pairs.append(("select-type", r.choice(["2", self.nasty()])))
        for _ in range(r.choice([0, 0, 1, 2, 4])):
            pairs.append((r.choice(PARAMS), self.nasty()))
        headers: dict[str, str] = {"host": f"127.0.0.1:{self.fx.port}"}
        for _ in range(r.choice([0, 1, 1, 2, 3, 6])):
            headers[r.choice(HEADERS)] = self.nasty()
        if "x-amz-copy-source" in headers and r.random() < 0.5:
            headers["x-amz-copy-source"] = r.choice(["fuzz/k1", "/fuzz/k1", "fuzzv/k1?versionId=null", "fuzz/mp",
                                                    quote("fuzz/" + self.nasty())])
        body = self.body(topic) if method in ("PUT", "POST") or r.random() < 0.05 else b""
        if topic == "delete" and body and r.random() < 0.5:
            headers["content-md5"] = __import__("base64").b64encode(hashlib.md5(body).digest()).decode()
        headers.pop("x-amz-content-sha256", None) if r.random() < 0.8 else None
        headers.pop("x-amz-date", None)
        headers.pop("expect", None)
        query = query_string(pairs)
        auth = r.choices(["signed", "anonymous", "bad", "unsigned-payload", "v2"], [70, 12, 8, 5, 5])[0]
        if auth == "signed":
            sign(method, path, query, headers, body, "s3")
        elif auth == "unsigned-payload":
            sign(method, path, query, headers, body, "s3", payload_hash="UNSIGNED-PAYLOAD")
        elif auth == "bad":
            sign(method, path, query, headers, body, "s3")
            headers["Authorization"] = r.choice([
                headers["Authorization"][:-4] + "0000", "AWS4-HMAC-SHA256 " + self.nasty(),
                "AWS4-HMAC-SHA256 Credential=" + self.nasty() + ", SignedHeaders=host, Signature=00",
                headers["Authorization"].replace(ACCESS_KEY, "NOSUCHKEY0000000000"), self.nasty(),
                headers["Authorization"].replace("us-east-1", r.choice(["eu-west-1", "", self.nasty()]))])
        elif auth == "v2":
            headers["Authorization"] = f"AWS {ACCESS_KEY}:{r.choice(['AAAA', self.nasty()])}"
            headers["date"] = "Tue, 01 Jan 2030 00:00:00 GMT"
        return Request("s3", method, path + (f"?{query}" if query else ""), list(headers.items()), body,
                       self.fx.port)

    def api(self) -> Request:
        r = self.r
        which = r.choice(["admin", "query", "iam"])
        headers: dict[str, str] = {"host": f"127.0.0.1:{self.fx.port}"}
        pairs: list[tuple[str, str]] = []
        if which == "iam":
            method, path, service = "POST", "/", "iam"
            params = [("Action", r.choice(IAM_ACTIONS)), ("Version", "2010-05-08")]
            for _ in range(r.choice([0, 1, 2, 3])):
                name = r.choice(IAM_PARAMS)
                value = json.dumps(POLICY) if name == "PolicyDocument" and r.random() < 0.5 else self.nasty()
                params.append((name, value))
            body = query_string(params).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            service = "nuage-admin" if which == "admin" else "nuage-query"
            path = r.choice(ADMIN_PATHS if which == "admin" else QUERY_PATHS)
            method = r.choice(["GET", "POST", "PUT", "DELETE"])
            doc: Any
            if which == "query":
                doc = {"sql": r.choice(QUERY_SQL), "wait": r.choice([0, 0, 1, -1, "x", 1000]),
                       "output": r.choice([None, {"format": "csv"}, {"bucket": "fuzz", "key": "out", "format":
                                          r.choice(["csv", "parquet", "x"])}, self.nasty()])}
                if r.random() < 0.3:
                    pairs.append((r.choice(["format", "max_rows"]), self.nasty()))
            else:
                doc = {"name": self.nasty(), "tenant": r.choice(["t1", self.nasty()]), "bucket": "fuzz",
                       "max_bytes": r.choice([1, -1, "x", 10**30, None]), "max_objects": r.choice([1, -1, None])}
            if r.random() < 0.3:
                doc = r.choice([[], "x", None, 1, {self.nasty(): self.nasty()}])
            body = json.dumps(doc).encode() if method in ("POST", "PUT") and r.random() < 0.85 else \
                (self.nasty().encode("utf-8", "surrogateescape") if method in ("POST", "PUT") else b"")
            headers["content-type"] = "application/json"
        query = query_string(pairs)
        if r.random() < 0.9:
            sign(method, path, query, headers, body, service)
        else:
            headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20250101/{REGION}/{service}/" \
                                       f"aws4_request, SignedHeaders=host, Signature={self.nasty()}"
        return Request(which, method, path + (f"?{query}" if query else ""), list(headers.items()), body,
                       self.fx.port)

    def console(self) -> Request:
        r = self.r
        fx = self.fx
        path = fx.console_prefix + r.choice(CONSOLE_PATHS)
        method = r.choice(["GET", "POST", "POST", "PUT", "DELETE"])
        headers: dict[str, str] = {"host": f"127.0.0.1:{fx.console_port}"}
        pairs = [(r.choice(CONSOLE_FIELDS), r.choice(["fuzz", "k1", "fuzzv", self.nasty()]))
                 for _ in range(r.choice([0, 1, 2, 4]))]
        if fx.cookie and r.random() < 0.8:
            headers["cookie"] = fx.cookie
        body = b""
        if method in ("POST", "PUT"):
            if r.random() < 0.5:
                fields = [(r.choice(CONSOLE_FIELDS), r.choice(["fuzz", "k1", "1", self.nasty()]))
                          for _ in range(r.choice([0, 1, 3, 6]))]
                if fx.csrf and r.random() < 0.85:
                    fields.append(("csrf", fx.csrf))
                body = query_string(fields).encode()
                headers["content-type"] = "application/x-www-form-urlencoded"
            else:
                doc = {r.choice(CONSOLE_FIELDS): r.choice(["fuzz", "k1", 1, -1, None, [], self.nasty()])
                       for _ in range(r.choice([0, 2, 5]))}
                body = json.dumps(doc).encode()
                headers["content-type"] = "application/json"
                if fx.csrf and r.random() < 0.85:
                    headers["x-csrf-token"] = fx.csrf
            if r.random() < 0.1:
                headers["content-type"] = r.choice(["multipart/form-data; boundary=x", self.nasty()])
        if r.random() < 0.85:
            headers["origin"] = f"http://127.0.0.1:{fx.console_port}"
        elif r.random() < 0.7:
            headers["origin"] = r.choice(["http://evil.example", f"http://127.0.0.1:{fx.port}", self.nasty()])
        return Request("console", method, path + (f"?{query_string(pairs)}" if pairs else ""),
                       list(headers.items()), body, fx.console_port)

    def malformed(self) -> Request:
        r = self.r
        port = self.fx.port
        choices = [
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            b"PUT /fuzz/k1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
            b"PUT /fuzz/k1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
            b"GET /fuzz/k1 HTTP/9.9\r\nHost: h\r\n\r\n",
            b"GET /fuzz/\xff\xfe HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET http://127.0.0.1/fuzz/k1 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
            b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            b"GET /fuzz/k1?a=%ZZ&&&=&b HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.0\r\n\r\n",
            b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(300)) + b"\r\n",
            b"GET /fuzz HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=\xff\xfe/x\r\n\r\n",
            b"GET /fuzz HTTP/1.1\r\nHost: \xc3\x28\r\n\r\n",
            b"GET /fuzz/k1 HTTP/1.1\r\nHost: h\r\nRange: bytes=\xff-\r\n\r\n",
            b"PUT /fuzz/k9 HTTP/1.1\r\nHost: h\r\nx-amz-meta-a: \xff\xfe\r\nContent-Length: 1\r\n\r\na",
            r.randbytes(r.randrange(1, 300)),
            b"\r\n\r\n\r\n",
        ]
        raw = r.choice(choices)
        return Request("malformed", "-", "-", [], b"", port, raw=raw)

    def truncated(self) -> Request:
        path = f"/fuzz/{self.key()}"
        headers = {"host": f"127.0.0.1:{self.fx.port}"}
        body = self.r.randbytes(self.r.choice([10, 5000, 100000]))
        sign("PUT", path, "", headers, body, "s3")
        headers["content-length"] = str(len(body) * 2)
        return Request("truncated", "PUT", path, list(headers.items()), body, self.fx.port, hang_up=True)

    def chunked(self) -> Request:
        """aws-chunked uploads: signed chunks (one signature broken at times), or unsigned chunks with a
        checksum trailer (mangled at times)."""
        r = self.r
        path = f"/fuzz/{r.choice(['c1', 'c2', self.key()])}"
        pairs = [("partNumber", r.choice(["1", "2"])), ("uploadId", self.fx.upload_id)] if r.random() < 0.3 else []
        query = query_string(pairs)
        target = path + (f"?{query}" if query else "")
        data = r.randbytes(r.choice([0, 1, 100, 70000]))
        headers = {"host": f"127.0.0.1:{self.fx.port}", "content-encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(len(data) if r.random() < 0.9 else len(data) + 1)}
        if r.random() < 0.5:
            signed, seed, key, scope = sign_headers("PUT", target, headers, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                                    access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION)
            body = signed_chunks(data, r.choice([1 if len(data) <= 100 else 4096, 8192, 65536]), key, scope, seed,
                                 r.choice([None, None, None, 0, 1]))
        else:
            crc = __import__("base64").b64encode(__import__("zlib").crc32(data).to_bytes(4, "big")).decode()
            headers["x-amz-trailer"] = r.choice(["x-amz-checksum-crc32", "x-amz-checksum-sha256", self.nasty()])
            trailer = f"x-amz-checksum-crc32:{r.choice([crc, crc, self.nasty()])}"
            body = (f"{len(data):x}\r\n".encode() + data + b"\r\n" if data else b"") + \
                f"0\r\n{trailer}\r\n\r\n".encode("utf-8", "surrogateescape")
            if r.random() < 0.2:
                body = body[: r.randrange(len(body) + 1)] + self.nasty().encode("utf-8", "surrogateescape")
            signed, *_ = sign_headers("PUT", target, headers, "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                      access_key=ACCESS_KEY, secret_key=SECRET_KEY, region=REGION)
        return Request("chunked", "PUT", target, list(signed.items()), body, self.fx.port)

    def presigned(self) -> Request:
        r = self.r
        method = r.choice(["GET", "GET", "PUT", "HEAD", "DELETE"])
        path = f"/{r.choice(['fuzz', 'fuzzv', self.bucket()])}/{r.choice(['k1', 'big', self.key()])}"
        now = datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
        pairs = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{ACCESS_KEY}/{scope}"),
                 ("X-Amz-Date", amz_date), ("X-Amz-Expires", r.choice(["60", "604800", "604801", "0", "-1", "x"])),
                 ("X-Amz-SignedHeaders", "host")]
        for _ in range(r.choice([0, 0, 1, 2])):
            pairs.append((r.choice(PARAMS), self.nasty()))
        if r.random() < 0.1:
            pairs.pop(r.randrange(len(pairs)))
        query = "&".join(sorted(query_string(pairs).split("&")))
        canonical = "\n".join([method, path, query, f"host:127.0.0.1:{self.fx.port}\n", "host", "UNSIGNED-PAYLOAD"])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(signing_key(SECRET_KEY, amz_date[:8], REGION, "s3"), to_sign.encode(),
                             hashlib.sha256).hexdigest()
        if r.random() < 0.1:
            signature = self.nasty()
        target = f"{path}?{query}&X-Amz-Signature={quote(signature, safe='')}"
        body = self.body("") if method == "PUT" else b""
        return Request("presigned", method, target, [("host", f"127.0.0.1:{self.fx.port}")], body, self.fx.port)

    def post_form(self) -> Request:
        """Browser uploads (PostObject): a form with a signed policy, its conditions and fields mutated."""
        r = self.r
        now = datetime.now(UTC)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        credential = f"{ACCESS_KEY}/{amz_date[:8]}/{REGION}/s3/aws4_request"
        key = r.choice(["up/${filename}", "up/a", self.key()])
        conditions: list[Any] = [{"bucket": "fuzz"}, ["starts-with", "$key", "up/"],
                                 {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": credential},
                                 {"x-amz-date": amz_date},
                                 ["content-length-range", r.choice([0, 1, -1]), r.choice([10, 100000, "x"])]]
        if r.random() < 0.4:
            conditions.append(r.choice([["eq", "$Content-Type", self.nasty()], ["starts-with", self.nasty(), ""],
                                        {self.nasty(): self.nasty()}, ["x"], 1, None, ["eq", "$x-amz-meta-a", "b"]]))
        expiration = r.choice(["2099-01-01T00:00:00Z", "2001-01-01T00:00:00Z", self.nasty()])
        policy_doc = {"expiration": expiration, "conditions": conditions}
        if r.random() < 0.1:
            policy_doc = r.choice([{}, {"conditions": self.nasty()}, []])  # type: ignore[assignment]
        policy = __import__("base64").b64encode(json.dumps(policy_doc).encode()).decode()
        signature = hmac.new(signing_key(SECRET_KEY, amz_date[:8], REGION, "s3"), policy.encode(),
                             hashlib.sha256).hexdigest()
        fields = [("key", key), ("x-amz-algorithm", "AWS4-HMAC-SHA256"), ("x-amz-credential", credential),
                  ("x-amz-date", amz_date), ("policy", policy), ("x-amz-signature", signature)]
        for _ in range(r.choice([0, 0, 1, 3])):
            fields.append((r.choice(["Content-Type", "success_action_status", "success_action_redirect", "acl",
                                     "x-amz-meta-a", "tagging", "x-amz-checksum-crc32", "x-amz-storage-class",
                                     self.nasty()]), self.nasty()))
        if r.random() < 0.1:
            fields.pop(r.randrange(len(fields)))
        boundary = "----fuzz" + str(r.randrange(10**9))
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n" for n, v in fields]
        data = r.randbytes(r.choice([0, 5, 5000]))
        body = "".join(parts).encode("utf-8", "surrogateescape") + \
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.txt\"\r\n" \
            f"Content-Type: text/plain\r\n\r\n".encode() + data + f"\r\n--{boundary}--\r\n".encode()
        if r.random() < 0.15:
            body = body[: r.randrange(len(body) + 1)]
        headers = [("host", f"127.0.0.1:{self.fx.port}"),
                   ("content-type", f"multipart/form-data; boundary={boundary}" if r.random() < 0.95 else
                    f"multipart/form-data; boundary={self.nasty()}")]
        return Request("post-form", "POST", "/fuzz", headers, body, self.fx.port)

    def next(self) -> Request:
        kind = self.r.choices(["s3", "api", "console", "malformed", "truncated", "chunked", "presigned", "post_form"],
                              [60, 12, 10, 5, 2, 4, 4, 3])[0]
        return getattr(self, kind)()


def encode(req: Request) -> bytes:
    lines = [f"{req.method} {req.target} HTTP/1.1"]
    names = {k.lower() for k, _ in req.headers}
    for k, v in req.headers:
        lines.append(f"{k}: {v}")
    if "content-length" not in names and (req.body or req.method in ("PUT", "POST")):
        lines.append(f"content-length: {len(req.body)}")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + req.body


def worker(n: int, seed: int, fx: Fixture, results: Results, count: int, deadline: float) -> None:
    gen = Generator(random.Random(seed * 1000 + n), fx)
    conns: dict[int, Connection] = {}
    while time.monotonic() < deadline:
        with results.lock:
            if results.sent >= count:
                break
            results.sent += 1
        req = gen.next()
        status = "?"
        try:
            if req.raw is not None or req.hang_up:
                with socket.create_connection(("127.0.0.1", req.port), timeout=5) as s:
                    s.sendall(req.raw if req.raw is not None else encode(req))
                    if req.hang_up:
                        status = "hung-up"
                    else:
                        data = b""
                        try:
                            while len(data) < 64 and (chunk := s.recv(65536)):
                                data += chunk
                        except OSError:
                            pass
                        status = data.split(b" ", 2)[1].decode("latin-1") if data.startswith(b"HTTP/1.1 ") \
                            else ("closed" if not data else "garbage")
            else:
                conn = conns.setdefault(req.port, Connection(req.port))
                try:
                    code, _, body = conn.exchange(encode(req), req.method == "HEAD")
                except (ConnectionError, BrokenPipeError) as exc:
                    if conn.buf or req.body:   # the server closed after an answer or mid-request: once more
                        conn.close()
                        code, _, body = conn.exchange(encode(req), req.method == "HEAD")
                    else:
                        raise exc
                status = str(code)
                if code >= 400:
                    found = re.search(rb"<Code>([^<]{1,64})</Code>", body)
                    with results.lock:
                        results.codes[f"{code} {found.group(1).decode() if found else '-'}"] += 1
                        if code == 403 and results.first_denied is None and found and \
                                found.group(1) in (b"InvalidAccessKeyId", b"AccountSuspended") and \
                                f"Credential={ACCESS_KEY}/" in dict(req.headers).get("Authorization", ""):
                            results.first_denied = {"request": req.describe(),
                                                    "changes_before": list(results.changes)}
                if TRACE is not None:
                    with results.lock:
                        TRACE.write(json.dumps([code, req.describe(), body[:300].decode("latin-1")]) + "\n")
                if req.method not in ("GET", "HEAD"):
                    with results.lock:
                        results.changes.append((code, req.kind, req.method, req.target[:300],
                                                req.body[:300].decode("latin-1")))
                if code >= 500 and code not in ALLOWED_5XX:
                    with results.lock:
                        results.failures.append({"status": code, "request": req.describe(),
                                                 "answer": body[:1500].decode("latin-1")})
        except TimeoutError:
            status = "timeout"
            conns.pop(req.port, Connection(0)).close()
            with results.lock:
                results.failures.append({"status": "timeout", "request": req.describe()})
        except (OSError, ValueError, IndexError) as exc:
            status = f"error:{type(exc).__name__}"
            conns.pop(req.port, Connection(0)).close()
            # (a server answering early drops a body of over 1 MiB it has not read: the client sending it
            # sees a reset, as with any HTTP server)
            if isinstance(exc, ConnectionError) and req.raw is None and not req.hang_up and len(req.body) <= 1 << 20:
                with results.lock:   # a well-formed request the server dropped without an answer
                    results.failures.append({"status": "no answer", "request": req.describe()})
        with results.lock:
            results.statuses[status] += 1
            results.kinds[req.kind] += 1
    for conn in conns.values():
        conn.close()


def setup(srv: NuageServer) -> Fixture:
    """Buckets, objects and a multipart upload for the requests to find; a console session."""
    console_port = getattr(srv, "console_port", 0) or srv.port
    fx = Fixture(srv.port, console_port, "" if console_port != srv.port else "/console")
    conn = Connection(srv.port)

    def call(method: str, path: str, body: bytes = b"", query: str = "", extra: dict[str, str] | None = None) -> bytes:
        headers = {"host": f"127.0.0.1:{srv.port}", **(extra or {})}
        sign(method, path, query, headers, body, "s3")
        req = Request("setup", method, path + (f"?{query}" if query else ""), list(headers.items()), body)
        status, _, answer = conn.exchange(encode(req), method == "HEAD")
        assert status < 300, (method, path, status, answer)
        return answer

    call("PUT", "/fuzz")
    call("PUT", "/fuzzv")
    call("PUT", "/fuzzv", XML["versioning"].encode(), "versioning=")
    for bucket in ("fuzz", "fuzzv"):
        call("PUT", f"/{bucket}/k1", b"a,b\nc,d\n")
        call("PUT", f"/{bucket}/dir/k3", b"x" * 5000)
        call("PUT", f"/{bucket}/big", b"y" * 300_000)
    answer = call("POST", "/fuzz/mp", b"", "uploads=")
    fx.upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", answer).group(1).decode()  # type: ignore[union-attr]
    call("PUT", "/fuzz/mp", b"p" * 5 * 1024 * 1024, query_string([("partNumber", "1"), ("uploadId", fx.upload_id)]))
    conn.close()
    # a console session: the sign-in page (a session cookie and its CSRF token), sign in, then the token
    # of the signed-in session from a page
    try:
        def page(method: str, path: str, cookie: str, body: bytes = b"") -> tuple[str, bytes]:
            with socket.create_connection(("127.0.0.1", console_port), timeout=TIMEOUT) as s:
                headers = [("host", f"127.0.0.1:{console_port}"), ("cookie", cookie),
                           ("origin", f"http://127.0.0.1:{console_port}")]
                if body:
                    headers.append(("content-type", "application/x-www-form-urlencoded"))
                s.sendall(encode(Request("setup", method, fx.console_prefix + path, headers, body)))
                data = b""
                while b"\r\n\r\n" not in data:
                    data += s.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                size = int((re.search(rb"(?im)^content-length:\s*(\d+)", head) or re.search(rb"()", b"")).group(1)
                           or 0)
                while len(rest) < size:
                    rest += s.recv(65536)
            cookies = re.findall(rb"(?im)^set-cookie:\s*([^;\r\n]+)", head)
            return ("; ".join(c.decode("latin-1") for c in cookies) or cookie), rest

        def token(html: bytes) -> str:
            found = re.search(rb'name="csrf" value="([^"]+)"', html) or \
                re.search(rb'name="csrf-token" content="([^"]+)"', html)
            return found.group(1).decode() if found else ""

        cookie, html = page("GET", "/login", "")
        form = query_string([("access_key", ACCESS_KEY), ("secret_key", SECRET_KEY), ("csrf", token(html))])
        cookie, _ = page("POST", "/login", cookie, form.encode())
        cookie, html = page("GET", "/buckets", cookie)
        fx.cookie, fx.csrf = cookie, token(html)
    except (OSError, ValueError) as exc:
        print(f"console session not set up: {exc!r}", flush=True)
    if not fx.csrf:
        print("no console session: console requests are anonymous", flush=True)
    return fx


def run(count: int, seconds: float, threads: int, seed: int, data_dir: Path | None = None,
        quiet: bool = False) -> dict[str, Any]:
    """One campaign against a server of its own; returns the summary (``ok`` says whether all checks
    passed)."""
    with tempfile.TemporaryDirectory(prefix="nuage-fuzz-") as tmp:
        srv = NuageServer((data_dir or Path(tmp)) / "data", allow_faults=True,
                          env={"NUAGE_DIRECT_IO": "0", "NUAGE_FSYNC": "0"})
        srv.start()
        try:
            fx = setup(srv)
            results = Results()
            started = time.monotonic()
            deadline = started + seconds
            pool = [threading.Thread(target=worker, args=(n, seed, fx, results, count, deadline), daemon=True)
                    for n in range(threads)]
            for t in pool:
                t.start()
            while any(t.is_alive() for t in pool):
                time.sleep(1)
                done = sum(results.statuses.values())
                if not quiet and (time.monotonic() - started) // 10 != (time.monotonic() - started - 1) // 10:
                    rate = done / (time.monotonic() - started)
                    print(f"{done:>9,} requests, {rate:,.0f}/s, {len(results.failures)} failures", flush=True)
            elapsed = time.monotonic() - started
            alive = srv.proc is not None and srv.proc.poll() is None
            if alive:
                try:
                    probe = Connection(srv.port)
                    headers = {"host": f"127.0.0.1:{srv.port}"}
                    sign("GET", "/", "", headers, b"", "s3")
                    status, _, body = probe.exchange(encode(Request("probe", "GET", "/", list(headers.items()))),
                                                     False)
                    alive = status == 200 and b"<ListAllMyBucketsResult" in body
                    probe.close()
                except OSError:
                    alive = False
        finally:
            srv.stop()
        tracebacks = srv.faults()
    total = sum(results.statuses.values())
    bad = [f for f in results.failures if f["status"] != "timeout"]   # 5xx and requests dropped unanswered
    summary = {
        "seed": seed, "threads": threads, "requests": total, "seconds": round(elapsed, 1),
        "rate": round(total / elapsed, 1) if elapsed else 0.0,
        "statuses": dict(sorted(results.statuses.items())), "kinds": dict(results.kinds),
        "codes": dict(results.codes.most_common()), "first_denied": results.first_denied,
        "server_errors": len(bad), "timeouts": len(results.failures) - len(bad),
        "tracebacks": len(tracebacks), "alive": alive,
        "ok": not bad and not tracebacks and alive,
        "failures": results.failures[:200], "traceback_samples": tracebacks[:20],
    }
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    print(f"seed {summary['seed']}, {summary['threads']} threads: {summary['requests']:,} requests in "
          f"{summary['seconds']} s ({summary['rate']:,.0f}/s)")
    print("by status: " + ", ".join(f"{k}: {v:,}" for k, v in summary["statuses"].items()))
    print("by kind:   " + ", ".join(f"{k}: {v:,}" for k, v in summary["kinds"].items()))
    print(f"5xx (but 501/503/507): {summary['server_errors']}, timeouts: {summary['timeouts']}, "
          f"tracebacks in the log: {summary['tracebacks']}, server alive: {summary['alive']}")
    for failure in summary["failures"][:10]:
        print(json.dumps(failure)[:1500])
    for tb in summary["traceback_samples"][:5]:
        print(tb[-3000:])
    print("OK" if summary["ok"] else "FAILED")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="requests at most (default 10,000)")
    parser.add_argument("--seconds", type=float, default=120.0, help="seconds at most (default 120)")
    parser.add_argument("--threads", type=int, default=8, help="concurrent connections (default 8)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write the summary (with failures) as JSON here")
    args = parser.parse_args()
    summary = run(args.count, args.seconds, args.threads, args.seed)
    print_summary(summary)
    if args.out:
        args.out.write_text(json.dumps(summary, indent=1))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
