"""Small ASGI helpers shared by the protocol apps (S3, IAM, admin): header lookup in a scope, and
the dispatcher that sends each request to the first app whose predicate accepts it (a table)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Predicate = Callable[[dict[str, Any]], bool]


def scope_header(scope: dict[str, Any], name: bytes) -> str:
    """The first value of header ``name`` (lowercase bytes) in an ASGI scope, or ""."""
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return str(v.decode("latin-1"))
    return ""


class Dispatcher:
    """Each request goes to the first app whose predicate accepts its scope, else to ``fallback``
    (which also receives lifespan events)."""

    def __init__(self, routes: Sequence[tuple[Predicate, ASGIApp]], fallback: ASGIApp) -> None:
        self.routes = tuple(routes)
        self.fallback = fallback

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            for accepts, app in self.routes:
                if accepts(scope):
                    await app(scope, receive, send)
                    return
        await self.fallback(scope, receive, send)


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
