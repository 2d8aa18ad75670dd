"""The console's own request and response values (a few forms and pages; no framework)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote

from nuage.asgi import BodyError, read_small_body

MAX_FORM = 256 * 1024


class HTTPError(Exception):
    """Answer with ``status`` and a short message (rendered as the error page, or JSON for the API)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    method: str
    path: str                         # starting with "/" (the console has its own origin)
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    host: str
    scheme: str
    client: str
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}"

    def sibling_url(self, port: int) -> str:
        """The URL of another port of this server, by the host name this request came to (the S3
        endpoint, from the console's own port)."""
        return origin_of(self.scheme, host_name(self.host), port)


DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(scheme: str, hostname: str, port: int) -> str:
    """An origin as a browser writes it (in ``Origin``, in the URLs it sends): no port when it is the
    scheme's default."""
    return f"{scheme}://{hostname}" if DEFAULT_PORTS.get(scheme) == port else f"{scheme}://{hostname}:{port}"


def host_name(host: str) -> str:
    """The host name of a Host header: ``example.com:9001`` -> ``example.com``, ``[::1]:9001`` -> ``[::1]``."""
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.rpartition(":")[0] if ":" in host else host


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


async def parse(scope: dict[str, Any], receive: Any) -> Request:
    headers: dict[str, str] = {}
    for k, v in scope.get("headers", ()):
        name = k.decode("latin-1").lower()
        headers[name] = f"{headers[name]}, {v.decode('latin-1')}" if name in headers else v.decode("latin-1")
    path = str(scope["path"]) or "/"
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    client = scope.get("client") or ("", 0)
    req = Request(method=str(scope["method"]), path=path, query=query, headers=headers,
                  cookies=_cookies(headers.get("cookie", "")), host=headers.get("host", "localhost"),
                  scheme=str(scope.get("scheme", "http")), client=str(client[0]))
    if req.method == "POST":
        try:
            raw = await read_small_body(receive, MAX_FORM)
        except BodyError as exc:
            raise HTTPError(413 if exc.too_large else 400, "The request body was not received whole.") from exc
        ctype = headers.get("content-type", "")
        text = raw.decode("utf-8", errors="replace")
        if ctype.startswith("application/json"):
            try:
                req.json = json.loads(text) if text.strip() else {}
            except ValueError as exc:
                raise HTTPError(400, "The request body is not valid JSON.") from exc
        else:
            req.form = dict(parse_qsl(text, keep_blank_values=True))
    return req


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", "text/plain", [("location", location)])


def json_response(payload: object, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json")


def url(path: str, **params: str | int | None) -> str:
    """A console URL: the path, with the given query parameters (None left out)."""
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items() if v is not None and v != "")
    return path + ("?" + query if query else "")
