"""A known workload for the metering tests (tests/api/test_metering.py, tests/pg/test_metering_gateways.py):
two tenants, requests spread over the given gateways, and what each must be metered exactly."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from nuage.cli.main import main
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

CSV_ROWS = b"name,city,amount\nann,paris,10\nbob,lyon,25\ncid,paris,7\ndee,nice,40\n"
SELECT_XML = (b'<SelectObjectContentRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
              b"<Expression>SELECT s.name FROM S3Object s WHERE city = 'paris'</Expression>"
              b"<ExpressionType>SQL</ExpressionType><InputSerialization><CSV><FileHeaderInfo>USE</FileHeaderInfo>"
              b"</CSV></InputSerialization><OutputSerialization><CSV/></OutputSerialization>"
              b"</SelectObjectContentRequest>")


def admin(server: NuageServer, *args: str) -> str:
    """``nuage admin ARGS`` against ``server`` (the operator's key); its output."""
    env = {"NUAGE_ENDPOINT": server.endpoint, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY,
           "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    result = CliRunner().invoke(main, ["admin", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class Tenant:
    name: str
    account_id: str
    access_key: str
    secret_key: str
    expected: dict[str, Counter[str]] = field(default_factory=dict)   # bucket -> metric -> value
    stored: dict[str, int] = field(default_factory=dict)              # bucket -> bytes stored at the end

    def count(self, bucket: str, metric: str, value: int = 1) -> None:
        self.expected.setdefault(bucket, Counter())[metric] += value

    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for metrics in self.expected.values():
            out.update(metrics)
        return out


def new_tenant(server: NuageServer, prefix: str) -> Tenant:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    account = json.loads(admin(server, "--json", "tenant", "create", name))
    key = json.loads(admin(server, "--json", "tenant", "key", "create", name))
    return Tenant(name, account["account_id"], key["access_key"], key["secret_key"])


def signed(server: NuageServer, tenant: Tenant, method: str, path: str, body: bytes = b"") -> bytes:
    """A raw SigV4-signed S3 request: the answer's body exactly as sent (an event stream, say)."""
    request = AWSRequest(method=method, url=server.endpoint + path, data=body)
    S3SigV4Auth(Credentials(tenant.access_key, tenant.secret_key), "s3", server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body or None, method=method, headers=dict(prepared.headers.items()))
    with urllib.request.urlopen(req, timeout=30) as resp:
        return bytes(resp.read())


def sql_job(server: NuageServer, tenant: Tenant, sql: str) -> dict[str, Any]:
    """A SQL job through the query API, waited for; its record."""
    data = json.dumps({"sql": sql, "wait": 60}).encode()
    request = AWSRequest(method="POST", url=server.endpoint + "/query/jobs", data=data,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(tenant.access_key, tenant.secret_key), "nuage-query", server.region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=data, method="POST", headers=dict(prepared.headers.items()))
    with urllib.request.urlopen(req, timeout=90) as resp:
        return dict(json.loads(resp.read()))


def post_form(url: str, fields: dict[str, str], content: bytes) -> int:
    """A browser's form upload (PostObject) of ``content``; the length of the whole form sent."""
    boundary = "nuage-metering-form"
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                    for name, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="form.txt"\r\n'
             f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status in (200, 201, 204)
    return len(body)


def get_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return bytes(resp.read())


def run_workload(servers: list[NuageServer]) -> tuple[Tenant, Tenant]:
    """Two tenants' requests, round-robin over ``servers``; returns the tenants with what they must be billed
    (every quantity but storage_byte_hours, and the bytes each bucket stores in ``stored``)."""
    turn = iter(range(10**6))

    def srv() -> NuageServer:
        return servers[next(turn) % len(servers)]

    def s3(tenant: Tenant) -> Any:
        return srv().client(access_key=tenant.access_key, secret_key=tenant.secret_key)

    a, b = new_tenant(servers[0], "meta"), new_tenant(servers[0], "metb")
    ba, bb = f"ma-{uuid.uuid4().hex[:10]}", f"mb-{uuid.uuid4().hex[:10]}"

    s3(a).create_bucket(Bucket=ba)
    a.count(ba, "requests_a")
    for key, size in (("k1", 1000), ("k2", 2500), ("k1", 400)):      # two uploads and an overwrite
        s3(a).put_object(Bucket=ba, Key=key, Body=b"x" * size)
        a.count(ba, "requests_a")
        a.count(ba, "bytes_in", size)
    s3(a).delete_object(Bucket=ba, Key="k2")                           # free
    assert s3(a).get_object(Bucket=ba, Key="k1")["Body"].read() == b"x" * 400
    a.count(ba, "requests_b")
    a.count(ba, "bytes_out", 400)
    assert s3(a).get_object(Bucket=ba, Key="k1", Range="bytes=0-99")["Body"].read() == b"x" * 100
    a.count(ba, "requests_b")
    a.count(ba, "bytes_out", 100)
    s3(a).head_object(Bucket=ba, Key="k1")
    a.count(ba, "requests_b")
    s3(a).list_objects_v2(Bucket=ba)
    s3(a).list_objects(Bucket=ba)
    a.count(ba, "requests_a", 2)
    url = s3(a).generate_presigned_url("get_object", Params={"Bucket": ba, "Key": "k1"}, ExpiresIn=300)
    assert get_url(url) == b"x" * 400                                 # presigned
    a.count(ba, "requests_b")
    a.count(ba, "bytes_out", 400)
    s3(a).put_object(Bucket=ba, Key="pub.txt", Body=b"p" * 50, ACL="public-read")
    a.count(ba, "requests_a")
    a.count(ba, "bytes_in", 50)
    assert get_url(f"{srv().endpoint}/{ba}/pub.txt") == b"p" * 50     # anonymous, billed to the owner
    a.count(ba, "requests_b")
    a.count(ba, "bytes_out", 50)
    form = s3(a).generate_presigned_post(Bucket=ba, Key="form.txt", ExpiresIn=300)
    sent = post_form(form["url"], form["fields"], b"f" * 60)            # PostObject: the whole form is bytes in
    a.count(ba, "requests_a")
    a.count(ba, "bytes_in", sent)
    upload = s3(a).create_multipart_upload(Bucket=ba, Key="big")["UploadId"]    # left incomplete
    s3(a).upload_part(Bucket=ba, Key="big", UploadId=upload, PartNumber=1, Body=b"m" * 1234)
    a.count(ba, "requests_a", 2)
    a.count(ba, "bytes_in", 1234)
    s3(a).put_object(Bucket=ba, Key="sales.csv", Body=CSV_ROWS)
    a.count(ba, "requests_a")
    a.count(ba, "bytes_in", len(CSV_ROWS))
    stream = signed(srv(), a, "POST", f"/{ba}/sales.csv?select&select-type=2", SELECT_XML)
    assert b"ann" in stream and b"cid" in stream
    a.count(ba, "requests_b")
    a.count(ba, "bytes_scanned", len(CSV_ROWS))
    a.count(ba, "bytes_out", len(stream))
    s3(a).list_buckets()
    a.count("", "requests_a")

    s3(b).create_bucket(Bucket=bb)
    b.count(bb, "requests_a")
    s3(b).put_object(Bucket=bb, Key="b.bin", Body=b"b" * 777)
    b.count(bb, "requests_a")
    b.count(bb, "bytes_in", 777)
    assert len(s3(b).get_object(Bucket=bb, Key="b.bin")["Body"].read()) == 777
    b.count(bb, "requests_b")
    b.count(bb, "bytes_out", 777)
    s3(b).put_object(Bucket=bb, Key="data.csv", Body=CSV_ROWS)
    b.count(bb, "requests_a")
    b.count(bb, "bytes_in", len(CSV_ROWS))
    job = sql_job(srv(), b, f"SELECT count(*) AS n FROM read_csv('s3://{bb}/data.csv', header=true)")
    assert job["status"] == "succeeded", job
    b.count(bb, "bytes_scanned", len(CSV_ROWS))                         # a SQL job reads the whole object
    # not billed: a refusal (B reading A's private object), a bucket that does not exist
    for call in (lambda: s3(b).get_object(Bucket=ba, Key="k1"),
                 lambda: s3(b).get_object(Bucket=f"nb-{uuid.uuid4().hex[:10]}", Key="k")):
        try:
            call()
        except Exception as exc:   # noqa: BLE001 - botocore's ClientError
            assert "AccessDenied" in str(exc) or "NoSuchBucket" in str(exc), exc
        else:
            raise AssertionError("expected a refusal")
    a.stored = {ba: 400 + 50 + 60 + len(CSV_ROWS) + 1234}    # every version, and the incomplete upload's part
    b.stored = {bb: 777 + len(CSV_ROWS)}
    return a, b


def days_around_now(offset: float = 0.0) -> tuple[str, str]:
    """(yesterday, the day after tomorrow) of the metering clock: a range that holds its current hour."""
    today = (datetime.now(UTC) + timedelta(seconds=offset)).date()
    return (today - timedelta(days=1)).isoformat(), (today + timedelta(days=2)).isoformat()


def metered(server: NuageServer, tenant: Tenant, start: str, end: str) -> dict[str, Counter[str]]:
    """bucket -> metric -> value, from ``nuage admin usage TENANT --from --to --json``."""
    data = json.loads(admin(server, "usage", tenant.name, "--from", start, "--to", end, "--json"))
    assert data["account_id"] == tenant.account_id
    out: dict[str, Counter[str]] = {}
    for row in data["rows"]:
        assert row["account_id"] == tenant.account_id and row["region"] == server.region
        out.setdefault(row["bucket"], Counter())[row["metric"]] += row["value"]
    return out


def without(counts: dict[str, Counter[str]], metric: str) -> dict[str, Counter[str]]:
    out = {bucket: Counter({m: v for m, v in c.items() if m != metric}) for bucket, c in counts.items()}
    return {bucket: c for bucket, c in out.items() if c}
