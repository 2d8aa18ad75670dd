"""The IAM ASGI application and the dispatcher that sends IAM requests to it and all else to S3.

An IAM request is a ``POST /`` whose SigV4 credential scope names the service ``iam``; it is recognised
from the Authorization header alone, before any S3 routing. The body (a form, at most 128 KiB) is read
whole, hashed and checked against the signature (service ``iam``, region ``us-east-1`` or the server's).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any
from urllib.parse import parse_qsl

from nuage.accesslog import tell
from nuage.asgi import BodyError, read_small_body, scope_header, signing_parts
from nuage.core import iam as core
from nuage.core.iam import IAM
from nuage.core.identities import Identities, Identity
from nuage.core.policy import Decision, RequestContext, evaluate
from nuage.core.policy.model import PARTITION, user_arn
from nuage.core.signed_calls import scope_region, verify_call
from nuage.errors import AccessDenied
from nuage.iam_api import absent, groups, keys, policies, users
from nuage.iam_api.protocol import Action, Call, IAMApiError, render_error, render_response
from nuage.sigv4 import errors as sv
from nuage.storage.meta.outage import RETRY_AFTER, database_unavailable

log = logging.getLogger("nuage.iam")

MAX_BODY = 128 * 1024
VERSION = "2010-05-08"

ACTIONS: dict[str, Action] = {**users.ACTIONS, **keys.ACTIONS, **groups.ACTIONS, **policies.ACTIONS,
                               **absent.ACTIONS}

#: Domain errors of nuage.core.iam and failures of the signature -> (IAM code, HTTP status); a class
#: absent here answers as its nearest base does.
ERRORS: dict[type[Exception], tuple[str, int]] = {
    core.NoSuchEntity: ("NoSuchEntity", 404),
    core.EntityAlreadyExists: ("EntityAlreadyExists", 409),
    core.DeleteConflict: ("DeleteConflict", 409),
    core.LimitExceeded: ("LimitExceeded", 409),
    core.InvalidInput: ("InvalidInput", 400),
    core.MalformedPolicyDocument: ("MalformedPolicyDocument", 400),
    sv.AuthError: ("AccessDenied", 403),
    sv.AccessRefused: ("AccessDenied", 403),
    sv.UnknownAccessKey: ("InvalidClientTokenId", 403),
    sv.SignatureMismatch: ("SignatureDoesNotMatch", 403),
    sv.ClockSkewed: ("RequestExpired", 403),
    sv.MalformedAuthorizationHeader: ("AuthorizationHeaderMalformed", 403),
    sv.MalformedPresignedQuery: ("AuthorizationQueryParametersError", 403),
    sv.BadAuthArgument: ("InvalidArgument", 400),
    sv.MissingDecodedLength: ("MissingSecurityHeader", 403),
    sv.MissingPayloadHash: ("InvalidRequest", 403),
}


def _answer(exc: Exception) -> tuple[str, int]:
    return next((ERRORS[k] for k in type(exc).__mro__ if k in ERRORS), ("ServiceFailure", 500))


def is_iam_request(scope: dict[str, Any]) -> bool:
    return (scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path") in ("/", "")
            and scope_region(scope_header(scope, b"authorization"), "iam") is not None)



def _resource(call: Call) -> str:
    """The ARN of the group or user a call acts on, as IAM spells it: the stored name (names are unique
    without regard to case, so a call may spell one in any case) after the entity's path. A policy names
    that ARN; built from the request's spelling instead, ``user/ADMIN`` would slip past a Deny of
    ``user/admin``, and any user past a Deny of ``user/staff/*``. An entity that does not exist keeps the
    spelling given (the call then fails with NoSuchEntity, if it is allowed at all)."""
    base = f"arn:{PARTITION}:iam::{call.account}:"
    group = call.params.get("GroupName")
    if group:
        try:
            found = call.iam.group(call.account, group)
        except core.NoSuchEntity:
            return f"{base}group/{group}"
        return f"{base}group{found.path}{found.name}"
    name = call.user_or_self()
    if not name:
        return base + "root"
    try:
        user = call.iam.user(call.account, name)
    except core.NoSuchEntity:
        return f"{base}user/{name}"
    return user_arn(call.account, user.name, user.path)


def _renamed(call: Call, action: str) -> list[str]:
    """What UpdateUser and UpdateGroup would make of the entity (a new name or path): IAM requires the
    permission on that ARN too, or a user allowed on ``user/staff/*`` could rename one of them into a name
    that a bucket policy trusts."""
    new_name = call.params.get("NewUserName" if action == "UpdateUser" else "NewGroupName")
    new_path = call.params.get("NewPath")
    if action not in ("UpdateUser", "UpdateGroup") or not (new_name or new_path):
        return []
    kind, name = ("user", call.params.get("UserName")) if action == "UpdateUser" else (
        "group", call.params.get("GroupName"))
    if not name:
        return []
    try:
        found = call.iam.user(call.account, name) if kind == "user" else call.iam.group(call.account, name)
    except core.NoSuchEntity:
        return []
    return [f"arn:{PARTITION}:iam::{call.account}:{kind}{new_path or found.path}{new_name or found.name}"]


class IAMApp:
    def __init__(self, iam: IAM, identities: Identities, region: str, max_skew_seconds: int = 900) -> None:
        self.iam = iam
        self.identities = identities
        self.regions = {"us-east-1", "", region}   # "": boto3's region_name="" (global service)
        self.max_skew = max_skew_seconds

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request_id = secrets.token_hex(16)
        tell(scope, "iam", request_id=request_id)
        headers = [(b"content-type", b"text/xml")]
        try:
            status, body = 200, await self._handle(scope, receive, request_id)
        except IAMApiError as err:
            status, body = err.status, render_error(err, request_id)
        except Exception as exc:
            if database_unavailable(exc, log, f"IAM {scope.get('method')} {scope.get('path')}",
                                    "503 ServiceUnavailable"):   # IAM's own code for a temporary failure
                failure = IAMApiError("ServiceUnavailable", "The request has failed due to a temporary failure of "
                                                            "the server.", 503, "Receiver")
                headers.append((b"retry-after", str(RETRY_AFTER).encode()))
            else:
                log.exception("internal error in the IAM API")
                failure = IAMApiError("ServiceFailure", "Internal failure.", 500, "Receiver")
            status, body = failure.status, render_error(failure, request_id)
        headers += [(b"content-length", str(len(body)).encode()), (b"x-amzn-requestid", request_id.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _read(self, receive: Any) -> bytes:
        try:
            return await read_small_body(receive, MAX_BODY)
        except BodyError as exc:
            if exc.too_large:
                raise IAMApiError("ValidationError", "The request is too large.", 413) from exc
            raise IAMApiError("IncompleteSignature", "The request body was not received.") from exc

    def _authenticate(self, scope: dict[str, Any], body: bytes) -> Identity:
        raw_path, raw_query, headers = signing_parts(scope)
        try:
            return verify_call(self.identities, "POST", raw_path, raw_query, headers, body, service="iam",
                               regions=self.regions, max_skew_seconds=self.max_skew)
        except AccessDenied as exc:   # a key of a suspended account
            raise IAMApiError("AccessDenied", exc.message, 403) from exc
        except sv.AuthError as exc:
            code, status = _answer(exc)
            if isinstance(exc, sv.UnknownAccessKey):
                raise IAMApiError(code, "The security token included in the request is invalid.", status) from exc
            raise IAMApiError(code, exc.message, status) from exc

    async def _handle(self, scope: dict[str, Any], receive: Any, request_id: str) -> bytes:
        body = await self._read(receive)
        # a key this gateway has not seen yet is read from the metadata store: on a thread, so that the event
        # loop goes on serving others while the database is slow or does not answer (up to the pool's timeout)
        caller = await asyncio.to_thread(self._authenticate, scope, body)
        params: dict[str, str] = {}
        try:
            for k, v in parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False):
                params.setdefault(k, v)
        except UnicodeDecodeError as exc:
            raise IAMApiError("MalformedQueryString", "The query string is not valid UTF-8.") from exc
        action_name = params.get("Action", "")
        tell(scope, "iam", operation=action_name, principal=caller.arn, access_key=caller.access_key)
        action = ACTIONS.get(action_name)
        if action is None:
            raise IAMApiError("InvalidAction", f"Could not find operation {action_name} for version "
                                               f"{params.get('Version', VERSION)}")
        call = Call(self.iam, self.identities, caller, params)
        await asyncio.to_thread(self._authorize, call, action_name)   # reads the entity named (its ARN)
        try:
            return await asyncio.to_thread(render_response, action_name, request_id, action, call)
        except core.IAMError as exc:
            code, status = _answer(exc)
            raise IAMApiError(code, exc.message, status) from exc

    def _authorize(self, call: Call, action: str) -> None:
        if call.caller.is_root:
            return
        policies = self.identities.policies(call.caller)
        for resource in (_resource(call), *_renamed(call, action)):
            ctx = RequestContext(call.caller.principal(), f"iam:{action}", resource)
            if evaluate(policies, ctx) is not Decision.ALLOW:
                raise IAMApiError("AccessDenied", f"User: {call.caller.arn} is not authorized to perform: "
                                                  f"iam:{action} on resource: {ctx.resource}", 403)
