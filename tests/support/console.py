"""A small HTTP client for the web console (no browser): a cookie jar, no automatic redirects, and the
CSRF token of the last page it read."""

from __future__ import annotations

import http.cookiejar
import re
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlencode

CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


@dataclass
class Page:
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class ConsoleClient:
    def __init__(self, endpoint: str, cafile: str | None = None) -> None:
        self.endpoint = endpoint
        self.jar = http.cookiejar.CookieJar()
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()]
        if cafile is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
        self.opener = urllib.request.build_opener(*handlers)
        self.csrf = ""

    def _open(self, req: urllib.request.Request) -> Page:
        try:
            with self.opener.open(req, timeout=30) as resp:
                page = Page(resp.status, resp.headers, resp.read().decode())
        except urllib.error.HTTPError as err:
            page = Page(err.code, err.headers, err.read().decode())
        found = CSRF_RE.search(page.text)
        if found and found.group(1):
            self.csrf = found.group(1)
        return page

    def get(self, path: str) -> Page:
        return self._open(urllib.request.Request(self.endpoint + path))

    def post(self, path: str, form: dict[str, str], *, csrf: str | None = None) -> Page:
        data = urlencode({"csrf": self.csrf if csrf is None else csrf, **form}).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method="POST",
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        return self._open(req)

    def post_json(self, path: str, payload: str, *, csrf: str | None = None) -> Page:
        req = urllib.request.Request(self.endpoint + path, data=payload.encode(), method="POST",
                                     headers={"content-type": "application/json",
                                              "x-csrf-token": self.csrf if csrf is None else csrf})
        return self._open(req)

    def sign_in(self, access_key: str, secret_key: str) -> Page:
        self.get("/login")
        return self.post("/login", {"access_key": access_key, "secret_key": secret_key})

    def cookie(self, name: str | None = None) -> str | None:
        """The session cookie's value (``__Host-nuage_console`` over HTTPS)."""
        name = name or ("__Host-nuage_console" if self.endpoint.startswith("https:") else "nuage_console")
        for c in self.jar:
            if c.name == name:
                return c.value
        return None

    def set_cookie(self, value: str, name: str | None = None) -> None:
        name = name or ("__Host-nuage_console" if self.endpoint.startswith("https:") else "nuage_console")
        for c in list(self.jar):
            if c.name == name:
                c.value = value
