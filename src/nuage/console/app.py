"""The web console: an ASGI application mounted at ``/console`` on the S3 port.

Each request: parse, load the session from its signed cookie, find the signed-in identity, check the CSRF
token of every POST, dispatch through the route table (data: method, path pattern, view), and answer
with security headers (CSP without inline scripts, no framing, no referrer). Views talk to S3 through
:mod:`nuage.console.gateway`, as the user.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

from nuage.console.context import Console, Ctx, Route
from nuage.console.gateway import S3Failure
from nuage.console.http import HTTPError, Response, json_response, parse, redirect, url
from nuage.console.session import COOKIE
from nuage.console.views import ROUTES

log = logging.getLogger("nuage.console")

SECURITY_HEADERS = [
    ("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
]
SIGNED_QUERY = {"X-Amz-Signature", "Signature"}   # presigned S3 requests (SigV4, SigV2)
STATIC_RE = re.compile(r"^/static/([A-Za-z0-9._-]+)$")


def is_console_request(scope: dict[str, Any]) -> bool:
    """``/console`` and below, when not an S3 request (a signed request may address a bucket ``console``)."""
    path = str(scope.get("path", ""))
    if scope.get("type") != "http" or not (path == "/console" or path.startswith("/console/")):
        return False
    if any(k.lower() == b"authorization" for k, _ in scope.get("headers", ())):
        return False
    names = {k for k, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)}
    return not names & SIGNED_QUERY


class ConsoleApp:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.routes = [(r.method, re.compile("^" + r.pattern + "$"), r) for r in ROUTES]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        static = STATIC_RE.match(str(scope["path"])[len("/console"):])
        if static is not None and scope["method"] in ("GET", "HEAD"):
            await self._send(send, self._static(static.group(1)), None)
            return
        cookie: str | None = None
        try:
            req = await parse(scope, receive)
            session = self.console.sessions.load(req.cookies.get(COOKIE))
            ident = None
            if session.access_key is not None:
                ident = await asyncio.to_thread(self.console.services.identities.lookup, session.access_key)
                if ident is not None and ident.suspended:
                    ident = None
            ctx = Ctx(self.console, req, session, ident)
            response = await self._dispatch(ctx)
            if ctx.session.fresh:
                cookie = self.console.sessions.cookie_header(ctx.session, secure=req.scheme == "https")
        except HTTPError as exc:
            response = self._error(scope, exc.status, exc.message)
        except Exception:
            log.exception("internal error in the console on %s %s", scope.get("method"), scope.get("path"))
            response = self._error(scope, 500, "Something went wrong on the server.")
        await self._send(send, response, cookie)

    async def _dispatch(self, ctx: Ctx) -> Response:
        req = ctx.req
        allowed_methods = []
        for method, pattern, route in self.routes:
            found = pattern.match(req.path)
            if found is None:
                continue
            allowed_methods.append(method)
            if method != req.method:
                continue
            return await self._run(ctx, route, found.groupdict())
        if allowed_methods:
            raise HTTPError(405, "This page does not take that method.")
        raise HTTPError(404, "There is no such page.")

    async def _run(self, ctx: Ctx, route: Route, params: dict[str, str]) -> Response:
        req = ctx.req
        if req.method == "POST":
            token = req.headers.get("x-csrf-token") if req.json is not None else req.form.get("csrf")
            if not ctx.session.csrf_ok(token):
                raise HTTPError(403, "The form has expired or did not come from this console (CSRF check). "
                                     "Reload the page and try again.")
        if not route.public and ctx.ident is None:
            if req.method == "GET":
                return redirect(url("/login", notice="Sign in to continue."))
            raise HTTPError(401, "Your session has ended: sign in again.")
        ctx.params = params
        try:
            return await route.view(ctx)
        except S3Failure as exc:
            if req.json is not None or req.path.startswith("/api/"):
                return json_response({"error": exc.code, "message": exc.message}, exc.status)
            return ctx.render("error.html", status=exc.status, title=exc.code, message=exc.message)

    def _error(self, scope: dict[str, Any], status: int, message: str) -> Response:
        if str(scope.get("path", "")).startswith("/console/api/"):
            return json_response({"error": status, "message": message}, status)
        page = self.console.templates.get_template("error.html").render(
            title={401: "Signed out", 403: "Forbidden", 404: "Not found"}.get(status, "Error"), message=message,
            ident=None, csrf="", notice="")
        return Response(status, page.encode())

    def _static(self, name: str) -> Response:
        path = resources.files("nuage.console").joinpath("static", name)
        if not path.is_file():
            return Response(404, b"not found", "text/plain")
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        return Response(200, path.read_bytes(), ctype, [("cache-control", "public, max-age=3600")])

    async def _send(self, send: Any, response: Response, cookie: str | None) -> None:
        names = {k for k, _ in response.headers}
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS if k not in names]
        headers.append((b"content-type", response.content_type.encode()))
        headers.append((b"content-length", str(len(response.body)).encode()))
        if cookie is not None:
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
