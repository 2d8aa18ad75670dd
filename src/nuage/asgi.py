"""Small ASGI helpers shared by the protocol apps (S3, IAM, admin): header lookup in a scope, and
the dispatcher that sends each request to the first app whose predicate accepts it (a table)."""

from __future__ import annotations

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
