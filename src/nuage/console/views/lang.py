"""The language switch on every page: a form that sets the ``lang`` cookie and comes back to the page."""

from __future__ import annotations

from nuage.console.context import Ctx, Route
from nuage.console.http import Response, redirect, url
from nuage.console.i18n import COOKIE, LOCALES

YEAR = 365 * 24 * 3600


def local_path(target: str) -> str:
    """``target`` when it is a path of this console (never another origin: ``//host``, ``/\\host``)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\r\n"):
        return url("/")
    return target


async def switch(ctx: Ctx) -> Response:
    locale = ctx.req.form.get("lang", "")
    response = redirect(local_path(ctx.req.form.get("next", "/")))
    if locale in LOCALES:
        secure = "; Secure" if ctx.req.scheme == "https" else ""
        response.headers.append(("set-cookie", f"{COOKIE}={locale}; Path=/; Max-Age={YEAR}; SameSite=Strict{secure}"))
    return response


ROUTES = [Route("POST", r"/lang", switch, public=True)]
