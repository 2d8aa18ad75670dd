"""The web console: server-rendered pages (Jinja2) at ``/console`` on the S3 port, for people who manage
their cloud from a browser. Every action is an S3 request made as the signed-in user (see
:mod:`nuage.console.gateway`), so the console enforces exactly the permissions of the S3 API."""

from __future__ import annotations

from collections.abc import Sequence

from nuage.asgi import ASGIApp
from nuage.console.app import ConsoleApp, is_console_request
from nuage.console.context import Console
from nuage.console.gateway import Gateway
from nuage.console.passwords import Passwords
from nuage.console.session import Sessions, load_key
from nuage.core.iam import IAM
from nuage.s3.context import Services
from nuage.storage.meta.base import MetadataStore

__all__ = ["ConsoleApp", "build_console", "is_console_request"]


def build_console(services: Services, s3_app: ASGIApp, iam_app: ASGIApp, iam: IAM, meta: MetadataStore,
                  other_regions: Sequence[tuple[str, str]] = (), query_app: ASGIApp | None = None) -> ConsoleApp:
    """The console of this region; ``other_regions`` are (name, endpoint) of the registry's other regions."""
    settings = services.settings
    sessions = Sessions(load_key(settings.data_dir), settings.console_session_seconds)
    others = [(name, endpoint.rstrip("/") + "/console") for name, endpoint in other_regions]
    gateway = Gateway(s3_app, iam_app, settings.region, query_app)
    return ConsoleApp(Console(services, gateway, sessions, iam, meta, Passwords(iam, meta), [settings.region],
                              others))
