"""The web console: an ASGI application served on its own port, so on its own origin. Tenant content
(an HTML object, a presigned URL, ``response-content-type=text/html``) is served by the S3 endpoint, whose
origin is another one: its scripts cannot read the console's pages, hence not their CSRF token.

Each request: parse, load the session from its signed cookie, find the signed-in identity, check the
``Origin`` and the CSRF token of every POST, dispatch through the route table (data: method, path
pattern, view), and answer with security headers (CSP without inline scripts, no framing, no referrer).
Views talk to S3 through :mod:`nuage.console.gateway`, as the user.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from nuage.accesslog import tell
from nuage.console.context import Console, Ctx, Route
from nuage.console.gateway import S3Failure
from nuage.console.http import HTTPError, Request, Response, json_response, parse, redirect, url
from nuage.console.i18n import N_, locale_of_scope, translations
from nuage.console.session import Session, cookie_name
from nuage.console.views import ROUTES
from nuage.console.views.billing import may_see
from nuage.storage.meta.outage import RETRY_AFTER, database_unavailable

log = logging.getLogger("nuage.console")

# connect-src adds the S3 endpoint, where upload.js PUTs the bytes of uploads (presigned URLs)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' {s3}; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")
SECURITY_HEADERS = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    # not no-referrer: with it, browsers send "Origin: null" with the pages' own forms
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
]
STATIC_RE = re.compile(r"^/static/([A-Za-z0-9._-]+)$")
ERROR_TITLE = N_("Error")
ERROR_TITLES = {401: N_("Signed out"), 403: N_("Forbidden"), 404: N_("Not found"), 503: N_("Service unavailable")}
UNAVAILABLE = N_("The console cannot reach its database for a moment. Please try again in a few seconds.")


def cookie_count(header: str, name: str) -> int:
    """How many cookies named ``name`` a Cookie header carries."""
    return sum(1 for part in header.replace(",", ";").split(";") if part.strip().startswith(name + "="))


def same_origin(req: Request) -> bool:
    """Whether a request that a browser sent came from the console's own pages: its ``Origin`` (browsers
    send it with every POST) names the console's host and port, and its ``Sec-Fetch-Site`` (when sent)
    says so too. A page of another origin, the S3 endpoint's tenant content included, may still make the
    browser send a form here, with the session cookie (another port of the same host is the same site);
    this refuses it even before the CSRF token is looked at. Clients that are not browsers send neither."""
    origin = req.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc.lower() != req.host.lower():
        return False
    return req.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


class ConsoleApp:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.routes = [(r.method, re.compile("^" + r.pattern + "$"), r) for r in ROUTES]
        for env in (console.templates, *console.localized.values()):   # the navigation's Billing link
            env.globals["may_bill"] = lambda ident: may_see(console, ident)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        tell(scope, "console")
        static = STATIC_RE.match(str(scope["path"]))
        s3_origin = self.console.s3_origin(scope)
        if static is not None and scope["method"] in ("GET", "HEAD"):
            await self._send(send, self._static(static.group(1)), None, s3_origin)
            return
        cookie: str | None = None
        try:
            req = await parse(scope, receive)
            session = await self._session(req)
            ident = None
            if session.access_key is not None:
                # from the cache at once; else read on a thread, with the user's policies (the pages ask for them)
                ident = await self.console.services.identities.resolve(session.access_key)
                if ident is not None and ident.suspended:
                    ident = None
            if ident is not None:
                tell(scope, "console", principal=ident.arn, access_key=ident.access_key)
            ctx = Ctx(self.console, req, session, ident)
            response = await self._dispatch(ctx)
            if ctx.session.fresh:
                cookie = self.console.sessions.cookie_header(ctx.session, secure=req.scheme == "https")
        except HTTPError as exc:
            response = self._error(scope, exc.status, exc.message)
        except Exception as exc:
            if database_unavailable(exc, log, f"console {scope.get('method')} {scope.get('path')}", "503"):
                response = self._error(scope, 503, UNAVAILABLE)
            else:
                log.exception("internal error in the console on %s %s", scope.get("method"), scope.get("path"))
                response = self._error(scope, 500, N_("Something went wrong on the server."))
        await self._send(send, response, cookie, s3_origin)

    async def _session(self, req: Request) -> Session:
        """The session of the request's cookie. Two cookies of that name mean that a page of another port
        of this host (cookies know no ports) planted one with a longer path (over plain HTTP, where there
        is no __Host- cookie): neither is trusted, the request is signed out."""
        name = cookie_name(req.scheme == "https")
        if cookie_count(req.headers.get("cookie", ""), name) > 1:
            return await self.console.sessions.load(None)
        return await self.console.sessions.load(req.cookies.get(name))

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
            raise HTTPError(405, N_("This page does not take that method."))
        raise HTTPError(404, N_("There is no such page."))

    async def _run(self, ctx: Ctx, route: Route, params: dict[str, str]) -> Response:
        req = ctx.req
        if req.method == "POST":
            if not same_origin(req):
                raise HTTPError(403, N_("This request did not come from the console's own pages."))
            token = req.headers.get("x-csrf-token") if req.json is not None else req.form.get("csrf")
            if not ctx.session.csrf_ok(token):
                raise HTTPError(403, N_("The form has expired or did not come from this console (CSRF check). "
                                        "Reload the page and try again."))
        if not route.public and ctx.ident is None:
            if req.method == "GET":
                return redirect(url("/login", notice=ctx._("Sign in to continue.")))
            raise HTTPError(401, N_("Your session has ended: sign in again."))
        ctx.params = params
        try:
            return await route.view(ctx)
        except S3Failure as exc:   # a 503 among them: the S3 or IAM API found the database down
            if req.json is not None or req.path.startswith("/api/"):
                response = json_response({"error": exc.code, "message": exc.message}, exc.status)
            else:
                response = ctx.render("error.html", status=exc.status, title=exc.code, message=exc.message)
            if exc.status == 503:
                response.headers.append(("retry-after", str(RETRY_AFTER)))
            return response

    def _error(self, scope: dict[str, Any], status: int, message: str) -> Response:
        """The error page, or for the pages' scripts (``/api/`` and JSON requests) a JSON error; a message
        of the catalogue is given in the request's language."""
        locale = locale_of_scope(scope)
        message = translations(locale).gettext(message)
        if str(scope.get("path", "")).startswith("/api/") or any(
                k.lower() == b"content-type" and v.lower().startswith(b"application/json")
                for k, v in scope.get("headers", ())):
            response = json_response({"error": status, "message": message}, status)
        else:
            title = translations(locale).gettext(ERROR_TITLES.get(status, ERROR_TITLE))
            page = self.console.templates_for(locale).get_template("error.html").render(
                title=title, message=message, ident=None, csrf="", notice="")
            response = Response(status, page.encode())
        if status == 503:
            response.headers.append(("retry-after", str(RETRY_AFTER)))
        return response

    def _static(self, name: str) -> Response:
        path = resources.files("nuage.console").joinpath("static", name)
        if not path.is_file():
            return Response(404, b"not found", "text/plain")
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        return Response(200, path.read_bytes(), ctype, [("cache-control", "public, max-age=3600")])

    async def _send(self, send: Any, response: Response, cookie: str | None, s3_origin: str) -> None:
        names = {k for k, _ in response.headers}
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS if k not in names]
        if "content-security-policy" not in names:
            headers.append((b"content-security-policy", CSP.format(s3=s3_origin).encode("latin-1")))
        headers.append((b"content-type", response.content_type.encode()))
        headers.append((b"content-length", str(len(response.body)).encode()))
        if cookie is not None:
            headers.append((b"set-cookie", cookie.encode("latin-1")))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
