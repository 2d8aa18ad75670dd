"""What every console view is given: the server's services, the in-process S3 gateway, the templates,
and per request the parsed request, its session and the signed-in identity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nuage.asgi import scope_header
from nuage.billing.budgets import Budgets
from nuage.billing.service import Billing
from nuage.console.dates import when
from nuage.console.gateway import Gateway, S3Failure, S3Reply
from nuage.console.http import HTTPError, Request, Response, host_name, origin_of, url
from nuage.console.i18n import COOKIE, DEFAULT, HTML_LANG, LOCALES, N_, NAMES, choose, format_number, translations
from nuage.console.passwords import Passwords
from nuage.console.permissions import can
from nuage.console.session import Session, Sessions
from nuage.console.throttle import Throttle
from nuage.core.iam import IAM
from nuage.core.identities import Identity
from nuage.s3.context import Services
from nuage.storage.meta.base import MetadataStore


def human_size(n: int | None, locale: str = DEFAULT) -> str:
    """A byte count in binary units, its figure in the conventions of ``locale``."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            figure = format_number(int(size), locale) if unit == "B" else format_number(size, locale, "#,##0.0")
            return f"{figure} {unit}"
        size /= 1024
    return str(n)


def count(n: int | float | None, locale: str = DEFAULT) -> str:
    """A count (objects, rows, requests) with the digit grouping of ``locale``."""
    return "" if n is None else format_number(n, locale)


# Words that reach the pages as data (S3 and IAM statuses, job states, labels of the views), translated
# there by the ``t`` filter; listed here so that extraction finds them.
DATA_WORDS = (N_("Enabled"), N_("Suspended"), N_("Off"), N_("Active"), N_("Inactive"), N_("queued"), N_("running"),
              N_("succeeded"), N_("failed"), N_("cancelled"))


def make_templates(locale: str = DEFAULT) -> Environment:
    """The console's templates in ``locale``: ``{% trans %}``, ``_()`` and ``ngettext()`` translate."""
    env = Environment(loader=PackageLoader("nuage.console", "templates"), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True     # as extracted (babel.cfg): a {% trans %} block's lines joined
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["size"] = partial(human_size, locale=locale)
    env.filters["num"] = partial(count, locale=locale)
    env.filters["t"] = translations(locale).gettext     # a word the views give (a status, a label), as is
    env.filters["when"] = when
    env.globals["url"] = url
    env.globals["locale"] = locale
    env.globals["html_lang"] = HTML_LANG[locale]
    env.globals["languages"] = [(code, NAMES[code]) for code in LOCALES]
    return env


def all_templates() -> dict[str, Environment]:
    return {locale: make_templates(locale) for locale in LOCALES}


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
    billing: Billing | None = None              # invoices and the month so far (the Billing page)
    budgets: Budgets | None = None              # the tenants' monthly budgets and their events (ditto)
    operator: str = ""                          # the operator account's canonical id (sees every tenant's billing)
    templates: Environment = field(default_factory=make_templates)      # English
    localized: dict[str, Environment] = field(default_factory=all_templates)
    throttle: Throttle = field(init=False)     # failed sign-ins, counted in the metadata store

    def __post_init__(self) -> None:
        self.throttle = Throttle(self.meta.console_state)

    def s3_origin(self, scope: dict[str, Any]) -> str:
        """The S3 endpoint's origin for a request to the console: the same scheme and host name, the S3 port."""
        host = scope_header(scope, b"host") or "localhost"
        return origin_of(str(scope.get("scheme", "http")), host_name(host), self.s3_port)

    def templates_for(self, locale: str) -> Environment:
        return self.localized.get(locale, self.templates)


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

    @property
    def locale(self) -> str:
        """``en`` or ``zh_CN``: the language switch's cookie, else the browser's ``Accept-Language``."""
        return choose(self.req.cookies.get(COOKIE), self.req.headers.get("accept-language"))

    @property
    def here(self) -> str:
        """Where the language switch comes back to: this page (without its notice) when it was a GET."""
        if self.req.method != "GET":
            return url("/")
        return url(self.req.path, **{k: v for k, v in self.req.query.items() if k != "notice"})

    def _(self, msgid: str, /, **values: object) -> str:
        """``msgid`` in the request's language, its ``{name}`` fields filled in with ``values``."""
        text = translations(self.locale).gettext(msgid)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.locale).ngettext(singular, plural, n)

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        ident = self.ident
        page = self.console.templates_for(self.locale).get_template(template).render(
            csrf=self.session.csrf, ident=ident, notice=self.req.query.get("notice", ""), here=self.here,
            who=(ident.user_name or self._("{name} (account root)").format(name=ident.display_name))
            if ident else "", **values)
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
