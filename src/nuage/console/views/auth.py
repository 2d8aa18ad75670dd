"""Sign-in with an access key and its secret, and sign-out."""

from __future__ import annotations

import asyncio
import hmac

from nuage.console.context import Ctx, Route
from nuage.console.http import Response, redirect, url
from nuage.console.i18n import N_
from nuage.console.passwords import PasswordError
from nuage.console.session import new_session


async def home(ctx: Ctx) -> Response:
    return redirect(url("/buckets") if ctx.ident else url("/login"))


async def login_page(ctx: Ctx) -> Response:
    if ctx.ident is not None:
        return redirect(url("/buckets"))
    return ctx.render("login.html", error="", access_key="")


TOO_MANY = N_("Too many failed sign-ins: wait a few minutes and try again.")
# the messages of PasswordError that a sign-in shows, translated where shown
PASSWORD_MESSAGES = (N_("The account, user name or password is not right."),
                     N_("This user has no active access key, which the console acts with: ask for one."))


async def login(ctx: Ctx) -> Response:
    access_key = ctx.req.form.get("access_key", "").strip()
    secret = ctx.req.form.get("secret_key", "")
    throttle, client = ctx.console.throttle, ctx.req.client
    if not await throttle.admit(client, access_key):
        return ctx.render("login.html", status=429, error=ctx._(TOO_MANY), access_key=access_key)
    ident = await asyncio.to_thread(ctx.console.services.identities.lookup, access_key) if access_key else None
    good = ident is not None and hmac.compare_digest(ident.secret.encode(), secret.encode())
    if ident is None or not good or ident.suspended:
        reason = ctx._("This account is suspended.") if ident is not None and good else \
            ctx._("The access key or the secret key is not right.")
        return ctx.render("login.html", status=401, error=reason, access_key=access_key)
    await throttle.succeeded(client, access_key)
    ctx.session = new_session(access_key)          # a new session (and CSRF token) at every sign-in
    return redirect(url("/buckets"))


async def login_password(ctx: Ctx) -> Response:
    form = ctx.req.form
    account, user = form.get("account", "").strip(), form.get("user", "").strip()
    throttle, client, name = ctx.console.throttle, ctx.req.client, f"{account}/{user}"
    if not await throttle.admit(client, name):
        return ctx.render("login.html", status=429, error=ctx._(TOO_MANY), access_key="", account=account, user=user,
                          password_mode=True)
    try:
        access_key = await ctx.console.passwords.sign_in(account, user, form.get("password", ""))
    except PasswordError as exc:
        return ctx.render("login.html", status=401, error=ctx._(str(exc)), access_key="", account=account, user=user,
                          password_mode=True)
    await throttle.succeeded(client, name)
    ctx.session = new_session(access_key)
    return redirect(url("/buckets"))


async def logout(ctx: Ctx) -> Response:
    await ctx.console.sessions.end(ctx.session)
    ctx.session = new_session()
    ctx.ident = None
    return redirect(url("/login", notice=ctx._("You are signed out.")))


ROUTES = [
    Route("GET", r"/", home, public=True),
    Route("GET", r"/login", login_page, public=True),
    Route("POST", r"/login", login, public=True),
    Route("POST", r"/login/password", login_password, public=True),
    Route("POST", r"/logout", logout, public=True),
]
