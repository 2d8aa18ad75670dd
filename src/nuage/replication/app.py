"""The internal replication endpoint, on the S3 port under ``/_nuage/replication/`` (no bucket name
can start with ``_``). Requests are SigV4-signed (service ``nuage-replication``) with a region's key
from the registry; replicas are accepted only from regions on this region's allow list.

    PUT /_nuage/replication/apply/BUCKET    apply a replica: x-nuage-replica (the version's record,
                                            base64 JSON), body = the version's bytes
    GET /_nuage/replication/bucket/BUCKET   {"region", "versioning"} of a bucket of this region
    GET /_nuage/replication/consent/BUCKET  whether the bucket's owner lets a source account replicate into
                                            it: x-nuage-consent (base64 JSON: source, actions, resource);
                                            200, or the refusal (AccessDenied, InvalidRequest, NoSuchBucket)

The record of a replica names the account that replicates it (``source``); the apply is refused with
AccessDenied, before its bytes are read, unless the bucket's owner is that account or its bucket policy
allows it (:mod:`nuage.core.replication_consent`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from nuage.asgi import scope_header, signing_parts
from nuage.core.policy.actions import object_arn
from nuage.core.replication import Replicas, decode_wire
from nuage.core.replication_consent import OWNER_OVERRIDE, REPLICATE_DELETE, REPLICATE_OBJECT, REPLICATE_TAGS, Source
from nuage.errors import AccessDenied, BucketNotFound, NuageError, ReplicaBodyIncomplete, VersionNotFound
from nuage.replication.registry import RegionEntry, Registry
from nuage.replication.signing import SERVICE
from nuage.sigv4 import RequestView, authenticate
from nuage.sigv4 import errors as sv
from nuage.storage.meta.base import MetadataStore
from nuage.types import BucketName

log = logging.getLogger("nuage.replication")

PREFIX = "/_nuage/replication/"
RECORD_HEADER = "x-nuage-replica"
CONSENT_HEADER = "x-nuage-consent"
CONSENT_ACTIONS = frozenset({REPLICATE_OBJECT, REPLICATE_DELETE, REPLICATE_TAGS, OWNER_OVERRIDE})
SENDER_HEADER = "x-nuage-source-region"


def is_replication_request(scope: dict[str, Any]) -> bool:
    return str(scope.get("path", "")).startswith(PREFIX)


class ReplicationError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_DOMAIN_STATUS: tuple[tuple[type[NuageError], int, str], ...] = (
    (BucketNotFound, 404, "NoSuchBucket"),
    (VersionNotFound, 404, "NoSuchVersion"),
    (AccessDenied, 403, "AccessDenied"),
    (ReplicaBodyIncomplete, 400, "IncompleteBody"),
)

# The code a peer reads for each failure of the signature (always a 403; any other refusal is AccessDenied).
_AUTH_CODES: tuple[tuple[type[sv.AuthError], str], ...] = (
    (sv.SignatureMismatch, "SignatureDoesNotMatch"),
    (sv.UnknownAccessKey, "InvalidAccessKeyId"),
    (sv.ClockSkewed, "RequestTimeTooSkewed"),
    (sv.MalformedAuthorizationHeader, "AuthorizationHeaderMalformed"),
    (sv.MalformedPresignedQuery, "AuthorizationQueryParametersError"),
    (sv.BadAuthArgument, "InvalidArgument"),
    (sv.MissingDecodedLength, "MissingSecurityHeader"),
    (sv.MissingPayloadHash, "InvalidRequest"),
)


class ReplicationApp:
    def __init__(self, registry: Registry, replicas: Replicas, meta: MetadataStore,
                 max_skew_seconds: int = 900) -> None:
        self.registry = registry
        self.replicas = replicas
        self.meta = meta
        self.max_skew = max_skew_seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = _Body(receive)
        try:
            status, payload = await self._handle(scope, body)
        except ReplicationError as err:
            status, payload = err.status, {"code": err.code, "message": err.message}
        except NuageError as exc:
            status, code = next(((s, c) for cls, s, c in _DOMAIN_STATUS if isinstance(exc, cls)),
                                (400, type(exc).__name__))
            payload = {"code": code, "message": exc.message}
        except ConnectionError:        # the sender went away mid-body; nothing was stored
            status, payload = 400, {"code": "IncompleteBody", "message": "The body was not received."}
        except Exception:
            log.exception("internal error in the replication endpoint")
            status, payload = 500, {"code": "InternalError", "message": "Internal failure."}
        await body.drain()
        data = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    def _sender(self, scope: dict[str, Any]) -> RegionEntry:
        raw_path, raw_query, headers = signing_parts(scope)
        view = RequestView(scope["method"], raw_path, raw_query, headers, datetime.now(UTC))
        if not scope_header(scope, b"authorization"):
            raise ReplicationError(403, "AccessDenied", "Access Denied")
        try:
            result = authenticate(view, self.registry.secret, region=self.registry.own.name,
                                  max_skew_seconds=self.max_skew, services=frozenset({SERVICE}))
        except sv.AuthError as exc:
            code = next((c for k, c in _AUTH_CODES if isinstance(exc, k)), "AccessDenied")
            raise ReplicationError(403, code, exc.message) from exc
        sender = self.registry.by_access_key(result.access_key or "")
        if sender is None:
            raise ReplicationError(403, "InvalidAccessKeyId", "The access key is not a region's key.")
        return sender

    async def _handle(self, scope: dict[str, Any], body: _Body) -> tuple[int, object]:
        sender = self._sender(scope)
        method = scope["method"]
        what, _, bucket = str(scope["path"])[len(PREFIX):].partition("/")
        bucket = unquote(bucket)
        if what == "bucket" and method == "GET":
            rec = await self.meta.get_bucket(bucket)
            if rec is None:
                raise BucketNotFound(bucket=bucket)
            return 200, {"bucket": bucket, "region": rec.region, "versioning": rec.versioning}
        if what == "apply" and method == "PUT":
            if not self.registry.accepts(sender.name):
                raise ReplicationError(403, "AccessDenied", f"This region ({self.registry.own.name}) does not "
                                       f"accept replication from {sender.name}.")
            try:
                doc = decode_wire(scope_header(scope, RECORD_HEADER.encode()))
            except ValueError as exc:
                raise ReplicationError(400, "InvalidArgument", "The replica record is not valid.") from exc
            applied = await self.replicas.apply(BucketName(bucket), doc, body.chunks(),
                                                same_region=sender.name == self.registry.own.name)
            return 200, {"applied": applied}
        if what == "consent" and method == "GET":
            source, actions, resource = self._consent_query(scope, bucket, sender)
            await self.replicas.check(BucketName(bucket), source, actions, resource)
            return 200, {"allowed": True}
        raise ReplicationError(404, "NoSuchRoute", f"No replication operation {method} {scope['path']}.")

    def _consent_query(self, scope: dict[str, Any], bucket: str, sender: RegionEntry,
                       ) -> tuple[Source, list[str], str]:
        try:
            query = decode_wire(scope_header(scope, CONSENT_HEADER.encode()))
            source = Source.from_wire(query.get("source"), sender.name == self.registry.own.name)
            actions, resource = query["actions"], query["resource"]
            if not isinstance(actions, list) or not isinstance(resource, str):
                raise ValueError("actions and resource")
        except (ValueError, KeyError) as exc:
            raise ReplicationError(400, "InvalidArgument", "The consent query is not valid.") from exc
        if not set(actions) <= CONSENT_ACTIONS or not resource.startswith(object_arn(bucket, "")):
            raise ReplicationError(400, "InvalidArgument", "The consent query is not valid.")
        return source, [str(a) for a in actions], resource


class _Body:
    """The request body as chunks, read at most once; what is left is drained before answering."""

    def __init__(self, receive: Any) -> None:
        self._receive = receive
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self._done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._done = True
                raise ConnectionError("the sender went away")
            self._done = not message.get("more_body", False)
            chunk = message.get("body", b"")
            if chunk:
                yield chunk

    async def drain(self) -> None:
        try:
            async for _ in self.chunks():
                pass
        except ConnectionError:
            pass
