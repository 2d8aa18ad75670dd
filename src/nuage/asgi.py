"""Small ASGI helpers shared by the protocol apps (S3, IAM, admin): header lookup in a scope, and
the dispatcher that sends each request to the first app whose predicate accepts it (a table)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Predicate = Callable[[dict[str, Any]], bool]


def scope_header(scope: dict[str, Any], name: bytes) -> str:
    """The first value of header ``name`` (lowercase bytes) in an ASGI scope, or ""."""
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return str(v.decode("latin-1"))
    return ""


Route = tuple[str, Predicate, ASGIApp]   # (first segment of the paths it may claim, predicate, app)


class Dispatcher:
    """Each HTTP request goes to the first app whose predicate accepts its scope, else to ``fallback``;
    lifespan events go to ``lifespan``.

    A route names the first segment of the paths it may claim (``"admin"`` for ``/admin/...``, ``""``
    for ``/``), so a request whose path starts otherwise, as nearly every S3 request does (a bucket), is
    not put to any predicate.

    ``listeners`` maps a listening port to the one app that serves every request that came in on it (the
    web console on its own port: its own origin, never the S3 endpoint's). ``cross_origin``, when given,
    takes the presigned PUT and OPTIONS requests (``Signature=`` in the query) that no route claims and
    that carry an ``Origin`` header, in place of ``fallback`` (it hands on to ``fallback`` what it does not
    handle); other requests are not looked at."""

    def __init__(self, routes: Sequence[Route], fallback: ASGIApp, lifespan: ASGIApp,
                 listeners: Mapping[int, ASGIApp] | None = None, cross_origin: ASGIApp | None = None) -> None:
        table: dict[str, list[tuple[Predicate, ASGIApp]]] = {}
        for segment, accepts, app in routes:
            table.setdefault(segment, []).append((accepts, app))
        self.table = {segment: tuple(apps) for segment, apps in table.items()}
        self.fallback = fallback
        self.lifespan = lifespan
        self.listeners = dict(listeners or {})
        self.cross_origin = cross_origin

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if self.listeners:
                server = scope.get("server")
                own = self.listeners.get(server[1]) if server else None
                if own is not None:
                    await own(scope, receive, send)
                    return
            for accepts, app in self.table.get(scope["path"][1:].partition("/")[0], ()):
                if accepts(scope):
                    await app(scope, receive, send)
                    return
            if (self.cross_origin is not None and scope["method"] in ("PUT", "OPTIONS")
                    and b"Signature=" in scope["query_string"]):
                for name, _ in scope["headers"]:   # lowercase, as ASGI says
                    if name == b"origin":
                        await self.cross_origin(scope, receive, send)
                        return
            await self.fallback(scope, receive, send)
            return
        await self.lifespan(scope, receive, send)


class BodyError(Exception):
    """The body of a small request could not be read: ``too_large`` or the client went away."""

    def __init__(self, too_large: bool) -> None:
        super().__init__("request body too large" if too_large else "request body not received")
        self.too_large = too_large


async def read_small_body(receive: Any, limit: int) -> bytes:
    """The whole body of a request whose body is a small document (form or JSON), at most ``limit``."""
    buf = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyError(too_large=False)
        buf += message.get("body", b"")
        if len(buf) > limit:
            raise BodyError(too_large=True)
        if not message.get("more_body", False):
            return bytes(buf)


def signing_parts(scope: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    """(raw path, raw query, lowercased header pairs) of a request, as signature checks need them."""
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers", ())]
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1").split("?", 1)[0]
    return raw_path, scope.get("query_string", b"").decode("latin-1"), headers


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object of a small API request body (an empty body is ``{}``); ValueError with a message
    a client can act on when it is not one."""
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ValueError("The request body must be a JSON object.")
    return body
