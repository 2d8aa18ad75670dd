"""Hand-made S3 requests: signed with botocore's signers (SigV4 or SigV2) or anonymous, sent with
http.client so that tests control every header and byte on the wire."""

from __future__ import annotations

import http.client
import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from botocore.auth import HmacV1Auth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support import sigv4
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def xml(self) -> ET.Element:
        root = ET.fromstring(self.body)
        for el in root.iter():
            if el.tag.startswith("{"):
                el.tag = el.tag.split("}", 1)[1]
        return root

    @property
    def code(self) -> str | None:
        if not self.body:
            return None
        return self.xml().findtext("Code")


def connection(server: NuageServer, timeout: float = 30) -> http.client.HTTPConnection:
    if server.tls:
        ctx = ssl.create_default_context(cafile=server.verify)
        return http.client.HTTPSConnection("127.0.0.1", server.port, timeout=timeout, context=ctx)
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)


def sign(server: NuageServer, method: str, path: str, *, headers: dict[str, str] | None = None,
         body: bytes = b"", signer: str = "v4", access_key: str = ACCESS_KEY,
         secret_key: str = SECRET_KEY, payload_hash: str | None = None) -> dict[str, str]:
    """Headers (including Authorization) for a request; `path` may carry a query string and must
    already be URL-encoded as it goes on the wire."""
    url = server.endpoint + path
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    creds = Credentials(access_key, secret_key)
    if signer == "v4" and payload_hash is not None:
        signed, *_ = sigv4.sign_headers(method, path, {"host": f"127.0.0.1:{server.port}", **(headers or {})},
                                        payload_hash, access_key=access_key, secret_key=secret_key,
                                        region=server.region)
        return {k: v for k, v in signed.items() if k != "host"}
    if signer == "v4":
        S3SigV4Auth(creds, "s3", server.region).add_auth(req)
    elif signer == "v2":
        HmacV1Auth(creds).add_auth(req)
    else:
        raise ValueError(signer)
    return {k: v for k, v in req.headers.items()}


def request(server: NuageServer, method: str, path: str, *, headers: dict[str, str] | None = None,
            body: bytes = b"", signed: bool = True, signer: str = "v4", **sign_args: str) -> Reply:
    hdrs = sign(server, method, path, headers=headers, body=body, signer=signer, **sign_args) if signed \
        else dict(headers or {})
    conn = connection(server)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        names = {k.lower() for k in hdrs}
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if "content-length" not in names and "transfer-encoding" not in names and (body or method in ("PUT", "POST")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, resp.headers, data)
    finally:
        conn.close()


def key_path(bucket: str, key: str | None = None, query: str = "") -> str:
    path = f"/{bucket}" + (f"/{quote(key, safe='/~')}" if key is not None else "")
    return path + (f"?{query}" if query else "")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
