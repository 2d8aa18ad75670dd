"""A signature covers what the request does: an x-amz-* header added to a signed request is refused
(S3 acts on them: x-amz-acl, x-amz-copy-source, ...), and with --domain a SigV2 request cannot be moved
to another bucket by changing its Host (virtual-hosted style is decided from the Host alone, for
addressing and signing alike)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from tests.support import rawhttp
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

UNSIGNED = "There were headers present in the request which were not signed"
DOMAIN = "s3.nuage.test"


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _send(server: NuageServer, method: str, path: str, headers: dict[str, str], body: bytes = b"",
          host: str | None = None) -> rawhttp.Reply:
    """Send exactly these headers (plus Host and Content-Length) to the server on 127.0.0.1."""
    conn = rawhttp.connection(server)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{server.port}")
        for name, value in headers.items():
            if name.lower() != "host":
                conn.putheader(name, value)
        if method in ("PUT", "POST") or body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return rawhttp.Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def _not_signed(reply: rawhttp.Reply, names: str) -> None:
    assert reply.status == 403, reply.body
    assert reply.code == "AccessDenied"
    assert reply.xml().findtext("Message") == UNSIGNED
    assert reply.xml().findtext("HeadersNotSigned") == names


# -- SigV4 with the Authorization header: x-amz-* headers must be signed ---------------------------------

def test_unsigned_acl_added_to_a_signed_put_is_refused(server: NuageServer, s3: Any, bucket: str) -> None:
    path = rawhttp.key_path(bucket, "doc.txt")
    headers = rawhttp.sign(server, "PUT", path, body=b"secret")
    reply = _send(server, "PUT", path, {**headers, "x-amz-acl": "public-read"}, b"secret")
    _not_signed(reply, "x-amz-acl")
    assert _keys(s3, bucket) == []
    # the same request as signed still works
    assert _send(server, "PUT", path, headers, b"secret").status == 200
    anonymous = _send(server, "GET", path, {})
    assert anonymous.status == 403 and anonymous.code == "AccessDenied"


def test_unsigned_copy_source_added_to_a_signed_put_is_refused(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="private", Body=b"payroll")
    path = rawhttp.key_path(bucket, "mine")
    headers = rawhttp.sign(server, "PUT", path)
    reply = _send(server, "PUT", path, {**headers, "x-amz-copy-source": f"/{bucket}/private",
                                        "x-amz-meta-note": "x"})
    _not_signed(reply, "x-amz-copy-source, x-amz-meta-note")
    assert _keys(s3, bucket) == ["private"]


def test_unsigned_header_on_a_repeated_get_is_refused(server: NuageServer, s3: Any, bucket: str) -> None:
    """A GET verified once is remembered; the memo must not let the same signature through with a header
    added."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    path = rawhttp.key_path(bucket, "k")
    headers = rawhttp.sign(server, "GET", path)
    for _ in range(2):
        ok = _send(server, "GET", path, headers)
        assert (ok.status, ok.body) == (200, b"v")
    _not_signed(_send(server, "GET", path, {**headers, "x-amz-request-payer": "requester"}),
                "x-amz-request-payer")


def test_signed_x_amz_headers_from_real_clients_pass(server: NuageServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ACL="private", Metadata={"a": "b"},
                  StorageClass="STANDARD", Tagging="t=1")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"c": "d"})
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"c": "d"}
    # x-amz-content-sha256 needs no place in SignedHeaders (its value is signed as the payload hash)
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"data"


# -- presigned URLs (query-string auth): the same rule ---------------------------------------------------

@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_unsigned_header_with_a_presigned_put_is_refused(server: NuageServer, s3: Any, bucket: str,
                                                         signature: str) -> None:
    url = server.client(signature_version=signature).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    split = urlsplit(url)
    path = f"{split.path}?{split.query}"
    reply = _send(server, "PUT", path, {"x-amz-acl": "public-read"}, b"x")
    if signature == "s3v4":   # botocore signs only Host
        _not_signed(reply, "x-amz-acl")
    else:   # SigV2 signs every x-amz-* header sent: one more changes the string to sign
        assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    assert _keys(s3, bucket) == []
    assert _send(server, "PUT", path, {}, b"x").status == 200
    assert _keys(s3, bucket) == ["up"]


def test_presigned_put_with_signed_amz_headers(server: NuageServer, s3: Any, bucket: str) -> None:
    """botocore lists the x-amz-* headers of a presigned operation in X-Amz-SignedHeaders: the client
    sends them, and they pass."""
    url = server.client(signature_version="s3v4").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "pub", "ACL": "public-read", "Metadata": {"a": "b"}},
        ExpiresIn=300)
    split = urlsplit(url)
    path = f"{split.path}?{split.query}"
    reply = _send(server, "PUT", path, {"x-amz-acl": "public-read", "x-amz-meta-a": "b"}, b"x")
    assert reply.status == 200, reply.body
    assert s3.head_object(Bucket=bucket, Key="pub")["Metadata"] == {"a": "b"}


# -- --domain: a request cannot be moved to another bucket through the Host header -----------------------

@pytest.fixture(scope="module")
def domain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(Path(tmp_path_factory.mktemp("nuage-domain")) / "data",
                      extra_args=["--domain", DOMAIN]).start()
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture
def buckets(domain_server: NuageServer) -> tuple[str, str]:
    """(target, victim): the victim's name is a prefix of the target's, so that a path naming the target
    also begins with the victim's name."""
    victim = f"vic-{uuid.uuid4().hex[:12]}"
    target = f"{victim}-target"
    admin = domain_server.client()
    admin.create_bucket(Bucket=target)
    admin.create_bucket(Bucket=victim)
    return target, victim


def _client(server: NuageServer, signature: str, style: str) -> Any:
    cfg = Config(signature_version=signature, s3={"addressing_style": style},
                 retries={"max_attempts": 1, "mode": "standard"})
    client = boto3.client("s3", endpoint_url=f"http://{DOMAIN}:{server.port}", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY, region_name=server.region, config=cfg)
    server.clients.append(client)
    return client


def _presign_put(server: NuageServer, signature: str, style: str, bucket: str, key: str) -> tuple[str, str]:
    """(Host, path with query) of a presigned PUT."""
    url = _client(server, signature, style).generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    split = urlsplit(url)
    return split.netloc, f"{split.path}?{split.query}"


def _vhost(server: NuageServer, bucket: str) -> str:
    return f"{bucket}.{DOMAIN}:{server.port}"


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
@pytest.mark.parametrize("style", ["virtual", "path"])
def test_presigned_put_cannot_be_moved_to_another_bucket(domain_server: NuageServer, buckets: tuple[str, str],
                                                         signature: str, style: str) -> None:
    target, victim = buckets
    host, path = _presign_put(domain_server, signature, style, target, "k")
    assert host == (_vhost(domain_server, target) if style == "virtual" else f"{DOMAIN}:{domain_server.port}")
    admin = domain_server.client()
    # the path names the target bucket (virtual style: the path a path-style URL has), the Host the victim
    moved = f"/{target}/k?{path.split('?', 1)[1]}"
    reply = _send(domain_server, "PUT", moved, {}, b"evil", host=_vhost(domain_server, victim))
    assert reply.status == 403, reply.body
    assert reply.code == "SignatureDoesNotMatch"
    assert _keys(admin, victim) == [] and _keys(admin, target) == []
    # the URL as presigned still works, and writes where it was meant to
    assert _send(domain_server, "PUT", path, {}, b"good", host=host).status == 200
    assert _keys(admin, victim) == [] and _keys(admin, target) == ["k"]


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
def test_presigned_put_with_the_host_of_another_bucket(domain_server: NuageServer, buckets: tuple[str, str],
                                                       signature: str) -> None:
    target, victim = buckets
    _, path = _presign_put(domain_server, signature, "virtual", target, "k")
    reply = _send(domain_server, "PUT", path, {}, b"evil", host=_vhost(domain_server, victim))
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    admin = domain_server.client()
    assert _keys(admin, victim) == [] and _keys(admin, target) == []


def test_sigv2_header_auth_cannot_be_moved_to_another_bucket(domain_server: NuageServer,
                                                            buckets: tuple[str, str]) -> None:
    target, victim = buckets
    domain_server.client(signature_version="s3").put_object(Bucket=target, Key="k", Body=b"v")   # SigV2 works
    from botocore.auth import HmacV1Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method="PUT", url=f"http://{DOMAIN}:{domain_server.port}/{target}/k2", data=b"evil")
    HmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(req)
    headers = dict(req.headers.items())
    reply = _send(domain_server, "PUT", f"/{target}/k2", headers, b"evil", host=_vhost(domain_server, victim))
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch")
    assert _keys(domain_server.client(), victim) == []
    assert _send(domain_server, "PUT", f"/{target}/k2", headers, b"evil",
                 host=f"{DOMAIN}:{domain_server.port}").status == 200


def test_sigv2_virtual_host_key_starting_with_the_bucket_name(domain_server: NuageServer,
                                                             buckets: tuple[str, str]) -> None:
    """Virtual-hosted style is told from the Host, not from whether the path happens to begin with the
    bucket's name."""
    target, _ = buckets
    client = _client(domain_server, "s3", "virtual")
    url = client.generate_presigned_url("put_object", Params={"Bucket": target, "Key": f"{target}-notes"},
                                        ExpiresIn=300)
    split = urlsplit(url)
    reply = _send(domain_server, "PUT", f"{split.path}?{split.query}", {}, b"n", host=split.netloc)
    assert reply.status == 200, reply.body
    assert _keys(domain_server.client(), target) == [f"{target}-notes"]

