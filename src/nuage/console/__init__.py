"""The web console: server-rendered pages (Jinja2) on a port of their own (so an origin of their own, apart
from the S3 endpoint's tenant content), for people who manage their cloud from a browser. Every action is
an S3 request made as the signed-in user (see :mod:`nuage.console.gateway`), so the console enforces
exactly the permissions of the S3 API."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from nuage.asgi import ASGIApp
from nuage.billing.budgets import Budgets
from nuage.billing.service import Billing
from nuage.console.app import ConsoleApp
from nuage.console.context import Console
from nuage.console.cors import ConsoleUploads
from nuage.console.gateway import Gateway
from nuage.console.http import origin_of
from nuage.console.passwords import Passwords
from nuage.console.session import Sessions, load_key
from nuage.core.iam import IAM
from nuage.s3.context import Services
from nuage.storage.meta.base import MetadataStore

__all__ = ["ConsoleApp", "ConsoleUploads", "build_console", "console_url_of"]


def console_url_of(endpoint: str, port_offset: int = 1) -> str:
    """The console of another region, from its S3 endpoint: the default console port is the S3 port + 1."""
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "localhost"
    return origin_of(parts.scheme, f"[{host}]" if ":" in host else host, port + port_offset) + "/"


def build_console(services: Services, s3_app: ASGIApp, iam_app: ASGIApp, iam: IAM, meta: MetadataStore,
                  other_regions: Sequence[tuple[str, str]] = (), query_app: ASGIApp | None = None,
                  s3_port: int | None = None, billing: Billing | None = None, budgets: Budgets | None = None,
                  operator: str = "") -> ConsoleApp:
    """The console of this region; ``other_regions`` are (name, endpoint) of the registry's other regions;
    ``s3_port`` is the S3 endpoint's (default: the settings'); ``billing`` and ``budgets`` the Billing page's,
    where the root user of the account whose canonical id is ``operator`` sees every tenant."""
    settings = services.settings
    sessions = Sessions(load_key(settings.data_dir), settings.console_session_seconds, meta.console_state)
    others = [(name, console_url_of(endpoint)) for name, endpoint in other_regions]
    gateway = Gateway(s3_app, iam_app, settings.region, query_app)
    return ConsoleApp(Console(services, gateway, sessions, iam, meta, Passwords(iam, meta), [settings.region],
                              s3_port=settings.port if s3_port is None else s3_port, other_regions=others,
                              billing=billing, budgets=budgets, operator=operator))
