"""What every console view is given: the server's services, the in-process S3 gateway, the templates,
and per request the parsed request, its session and the signed-in identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nuage.asgi import scope_header
from nuage.console.dates import when
from nuage.console.gateway import Gateway, S3Failure, S3Reply
from nuage.console.http import HTTPError, Request, Response, host_name, origin_of, url
from nuage.console.passwords import Passwords
from nuage.console.permissions import can
from nuage.console.session import Session, Sessions
from nuage.console.throttle import Throttle
from nuage.core.iam import IAM
from nuage.core.identities import Identity
from nuage.s3.context import Services
from nuage.storage.meta.base import MetadataStore


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def make_templates() -> Environment:
    env = Environment(loader=PackageLoader("nuage.console", "templates"), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["size"] = human_size
    env.filters["when"] = when
    env.globals["url"] = url
    return env


@dataclass
class Console:
    services: Services
    gateway: Gateway
    sessions: Sessions
    iam: IAM
    meta: MetadataStore
    passwords: Passwords
    regions: Sequence[str]                      # where buckets can be created from here (this region)
    s3_port: int                                # the S3 endpoint's port (the console has a port of its own)
    other_regions: Sequence[tuple[str, str]] = ()   # (name, console URL) of the other regions of the registry
    templates: Environment = field(default_factory=make_templates)
    throttle: Throttle = field(init=False)     # failed sign-ins, counted in the metadata store

    def __post_init__(self) -> None:
        self.throttle = Throttle(self.meta.console_state)

    def s3_origin(self, scope: dict[str, Any]) -> str:
        """The S3 endpoint's origin for a request to the console: the same scheme and host name, the S3 port."""
        host = scope_header(scope, b"host") or "localhost"
        return origin_of(str(scope.get("scheme", "http")), host_name(host), self.s3_port)


@dataclass
class Ctx:
    console: Console
    req: Request
    session: Session
    ident: Identity | None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def s3_url(self) -> str:
        """The S3 endpoint as the browser reaches it (presigned URLs), which the console's own S3 requests
        are addressed to as well."""
        return self.req.sibling_url(self.console.s3_port)

    @property
    def user(self) -> Identity:
        if self.ident is None:
            raise HTTPError(401, "Sign in first.")
        return self.ident

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        ident = self.ident
        page = self.console.templates.get_template(template).render(
            csrf=self.session.csrf, ident=ident, notice=self.req.query.get("notice", ""),
            who=(ident.user_name or f"{ident.display_name} (account root)") if ident else "", **values)
        return Response(status, page.encode())

    async def s3(self, method: str, bucket: str | None = None, key: str | None = None,
                 query: Sequence[tuple[str, str]] = (), body: bytes = b"",
                 headers: Sequence[tuple[str, str]] = ()) -> S3Reply:
        return await self.console.gateway.call(self.user, method, self.s3_url, bucket, key, query, body,
                                               headers, self.req.client)

    async def must(self, method: str, bucket: str | None = None, key: str | None = None,
                   query: Sequence[tuple[str, str]] = (), body: bytes = b"",
                   headers: Sequence[tuple[str, str]] = ()) -> S3Reply:
        return await self.console.gateway.must(self.user, method, self.s3_url, bucket, key, query, body,
                                               headers, self.req.client)

    async def iam(self, action: str, params: Sequence[tuple[str, str]] = ()) -> S3Reply:
        """An IAM API call as the signed-in user; raises S3Failure when refused."""
        reply = await self.console.gateway.iam(self.user, self.s3_url, action, params, self.req.client)
        if not reply.ok:
            raise S3Failure(reply)
        return reply

    def presign(self, method: str, bucket: str, key: str | None = None, query: Sequence[tuple[str, str]] = (),
                expires: int = 3600) -> str:
        return self.console.gateway.presign(self.user, method, self.s3_url, bucket, key, query, expires)

    async def can(self, operation: str, bucket: str | None = None, key: str | None = None,
                  version_id: str | None = None) -> bool:
        return await can(self.console.services, self.user, operation, bucket, key, version_id)


View = Callable[[Ctx], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str          # a regular expression on the path below /console; groups go to ctx.req.query
    view: View
    public: bool = False  # reachable without signing in
