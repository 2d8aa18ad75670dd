"""PostObject: browser uploads through an HTML form (multipart/form-data), with a signed policy or,
on buckets that grant public write, anonymously.

The form is parsed as it streams in: the fields before the ``file`` field are collected (a few
KiB at most), checked against the policy and its signature, and then the file's bytes flow
straight into ObjectService.put, as a PutObject body would. Fields after the file are ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from nuage.core.acl import CANNED
from nuage.core.identities import Identity
from nuage.core.ingest import MAX_SINGLE_PUT, Integrity
from nuage.s3 import errors as e
from nuage.s3 import postpolicy
from nuage.s3.access import authorize
from nuage.s3.context import Services
from nuage.s3.handlers.common import MAX_TAGS_OBJECT, parse_tagging
from nuage.s3.handlers.encryption import write_spec
from nuage.s3.handlers.objects import write_headers
from nuage.s3.headers import object_attrs, quote_etag, requested_checksums
from nuage.s3.http import Request, Response, empty, empty_body, xml_response
from nuage.sigv4.model import AuthResult
from nuage.types import BucketName, ObjectKey
from nuage.xml import parse, render, root, sub

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_PRE_DATA = 20 * 1024        # the fields before the file, as on S3
MAX_PART_HEADERS = 8


class _Form:
    """A streaming multipart/form-data reader: fields first, then the file part's bytes."""

    def __init__(self, boundary: bytes, body: AsyncIterator[bytes]) -> None:
        self.fields: dict[str, str] = {}
        self.filename = ""
        self._it = body.__aiter__()
        self._pre_data = 0
        self._in_file = False
        self._file_seen = False
        self._file_done = False
        self._ignore = False
        self._eof = False
        self._pending: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._name = ""
        self._value = bytearray()
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }
        try:
            self._parser = MultipartParser(boundary, callbacks, max_header_count=MAX_PART_HEADERS)
        except ValueError as exc:
            raise e.MalformedPOSTRequest() from exc

    # -- parser callbacks -------------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._headers.clear()
        self._value.clear()
        self._name = ""
        self._ignore = self._file_seen

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]
        self._count(end - start)

    def _header_end(self) -> None:
        self._headers.append((bytes(self._hname).lower(), bytes(self._hvalue)))
        self._hname.clear()
        self._hvalue.clear()

    def _headers_finished(self) -> None:
        if self._ignore:
            return
        disposition = next((v for n, v in self._headers if n.strip() == b"content-disposition"), None)
        if disposition is None:
            raise e.MalformedPOSTRequest()
        _, params = parse_options_header(disposition.decode("latin-1"))
        name = params.get(b"name")
        if name is None:
            raise e.MalformedPOSTRequest()
        self._name = _text(name).lower()
        if self._name == "file":
            self._in_file = self._file_seen = True
            self.filename = _text(params.get(b"filename", b""))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._ignore:
            return
        if self._in_file:
            self._pending.append(bytes(data[start:end]))
            return
        self._value += data[start:end]
        self._count(end - start)

    def _part_end(self) -> None:
        if self._ignore:
            return
        if self._in_file:
            self._in_file = False
            self._file_done = True
            return
        self.fields.setdefault(self._name, _text(bytes(self._value)))

    def _count(self, n: int) -> None:
        if self._file_seen:
            return
        self._pre_data += n
        if self._pre_data > MAX_PRE_DATA:
            raise e.MaxPostPreDataLengthExceededError()

    # -- driving ----------------------------------------------------------------------------------
    async def _feed(self) -> None:
        try:
            chunk = await anext(self._it)
        except StopAsyncIteration:
            self._eof = True
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise e.MalformedPOSTRequest() from exc

    async def read_fields(self) -> None:
        """Read until the file part begins; IncorrectNumberOfFilesInPostRequest when there is none."""
        while not self._file_seen and not self._eof:
            await self._feed()
        if not self._file_seen:
            raise e.IncorrectNumberOfFilesInPostRequest()

    async def file_body(self) -> AsyncIterator[bytes]:
        """The file's bytes; the rest of the body is read (and ignored) before the last one returns."""
        while True:
            if self._pending:
                data = b"".join(self._pending)
                self._pending.clear()
                yield data
            if self._file_done:
                break
            if self._eof:
                raise e.MalformedPOSTRequest()
            await self._feed()
        while not self._eof:
            await self._feed()


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise e.MalformedPOSTRequest() from exc


async def _sized(body: AsyncIterator[bytes], low: int, high: int) -> AsyncIterator[bytes]:
    """The body, checked against the policy's content-length-range."""
    size = 0
    async for chunk in body:
        size += len(chunk)
        if size > high:
            raise e.EntityTooLarge(MaxSizeAllowed=str(high))
        yield chunk
    if size < low:
        raise e.EntityTooSmall(MinSizeAllowed=str(low), ProposedSize=str(size))


def _boundary(req: Request) -> bytes:
    header = req.headers.get("content-type", "")
    # a boundary is ASCII (RFC 2046), and parse_options_header fails on what Latin-1 cannot encode
    ctype, params = parse_options_header(header) if header.isascii() else (b"", {})
    if ctype != b"multipart/form-data":
        raise e.PreconditionFailed("Bucket POST must be of the enclosure-type multipart/form-data",
                                   Condition="Bucket POST must be of the enclosure-type multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary:
        raise e.MalformedPOSTRequest()
    return boundary


def _object_headers(fields: dict[str, str]) -> dict[str, str]:
    """The form fields as the request headers a PutObject would carry."""
    headers = {name: value for name, value in fields.items() if name != "acl"}
    if "acl" in fields:
        if fields["acl"] not in CANNED:
            raise e.InvalidArgument(ArgumentName="acl", ArgumentValue=fields["acl"])
        headers["x-amz-acl"] = fields["acl"]
    return headers


def _location(req: Request, key: str) -> str:
    host = req.headers.get("host", "")
    path = req.raw_path.rstrip("/")
    return f"{req.scheme}://{host}{path}/{quote(key, safe='/')}"


def _redirect(url: str, bucket: str, key: str, etag: str) -> str | None:
    """The success redirect, or None when the URL is not one a browser could follow (then ignored)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    params = urlencode({"bucket": bucket, "key": key, "etag": quote_etag(etag)})
    query = f"{parts.query}&{params}" if parts.query else params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclasses.dataclass
class _Signer:
    owner_id: str = ""
    owner_name: str = ""
    identity: Identity | None = None
    auth: AuthResult | None = None
    policy: postpolicy.PostPolicy | None = None


async def _identify(svc: Services, req: Request, fields: dict[str, str]) -> _Signer:
    """Who signed the form, and its policy; an anonymous _Signer for a form without a policy."""
    if "policy" not in fields:
        if postpolicy.is_signed(fields):
            raise e.InvalidArgument("Bucket POST must contain a field named 'policy'.  If it is specified, please "
                                    "check the order of the fields.", ArgumentName="policy", ArgumentValue="")
        # not a browser's way, but a form may also come signed in its headers
        return _Signer(req.owner_id, req.owner_name, req.identity, req.auth)
    access_key = await svc.identities.verify(
        lambda secret: postpolicy.verify_signature(fields, secret, svc.settings.region))
    cred = await svc.identities.resolve(access_key)
    if cred is None:
        raise e.InvalidAccessKeyId(AWSAccessKeyId=access_key)
    # how the form was signed, as the access checks read it
    auth = AuthResult(access_key, "v4" if "x-amz-algorithm" in fields else "v2", presigned=False,
                      payload_hash=None, chunk_context=None)
    return _Signer(cred.owner_id, cred.display_name, cred, auth,
                   postpolicy.decode_policy(fields["policy"]))


async def post_object(svc: Services, req: Request, bucket: BucketName) -> Response:
    assert bucket is not None
    boundary = _boundary(req)
    if await svc.buckets.find(bucket) is None:
        raise e.NoSuchBucket(BucketName=bucket)
    form = _Form(boundary, req.body or empty_body())
    await form.read_fields()
    fields = form.fields
    if "key" not in fields:
        raise e.InvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, please check "
                                "the order of the fields.", ArgumentName="key", ArgumentValue="")
    key = ObjectKey(fields["key"].replace("${filename}", form.filename))
    signer = await _identify(svc, req, fields)
    policy = signer.policy
    low, high = 0, MAX_SINGLE_PUT
    if policy is not None:
        postpolicy.check_policy(policy, {**fields, "key": key, "bucket": bucket}, datetime.now(UTC))
        if policy.length_range is not None:
            low, high = policy.length_range[0], min(policy.length_range[1], MAX_SINGLE_PUT)
    headers = _object_headers({**fields, "key": key})
    # who may write here is decided as for a PutObject of the same key with the same headers
    view = dataclasses.replace(req, key=key, headers=headers, owner_id=signer.owner_id,
                               owner_name=signer.owner_name, identity=signer.identity,
                               auth=signer.auth, access_key=signer.auth.access_key if signer.auth else None)
    if req.operation is None:
        raise ValueError("PostObject called outside its row")
    await authorize(svc, view, req.operation)
    attrs = object_attrs(headers)
    if "tagging" in fields:
        attrs.tags = parse_tagging(parse(fields["tagging"].encode("utf-8")), MAX_TAGS_OBJECT)
    sse = write_spec(headers)
    algorithms, expected, _ = requested_checksums(headers)
    integrity = Integrity(algorithms=algorithms, expected=expected, max_size=high)
    rec = await svc.objects.put(bucket, key, _sized(form.file_body(), low, high), integrity, attrs,
                                signer.owner_id, None, sse)
    out = write_headers(rec)
    redirect = fields.get("success_action_redirect") or fields.get("redirect")
    target = _redirect(redirect, bucket, key, rec.etag) if redirect else None
    if target is not None:
        return empty(303, [("location", target), *out])
    location = _location(req, key)
    status = fields.get("success_action_status")
    if status == "201":
        doc = root("PostResponse", namespace=False)
        sub(doc, "Location", location)
        sub(doc, "Bucket", bucket)
        sub(doc, "Key", key)
        sub(doc, "ETag", quote_etag(rec.etag))
        return xml_response(render(doc), 201, [("location", location), *out])
    return empty(200 if status == "200" else 204, [("location", location), *out])
