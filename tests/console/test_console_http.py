"""The console over plain HTTP (no browser): sign-in, cookies, CSRF, session expiry and tampering,
sign-out, and permissions that match the S3 API's for a read-only IAM user."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient, Page
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer


def test_login_page_sets_a_strict_httponly_cookie(console: ConsoleClient) -> None:
    page = console.get("/login")
    assert page.status == 200
    cookie = page.headers.get("set-cookie", "")
    assert cookie.startswith("nuage_console=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/;" in cookie and "Domain" not in cookie
    assert "script-src 'self'" in page.headers.get("content-security-policy", "")
    assert page.headers.get("x-frame-options") == "DENY"
    assert 'name="csrf"' in page.text and console.csrf


def test_over_https_the_session_is_a_host_cookie(tls_server: NuageServer) -> None:
    """Over HTTPS the cookie is __Host-: host-only, Secure, Path=/, so a page of another port of the host
    (cookies know no ports) can neither overwrite nor shadow it."""
    assert tls_server.verify is not None
    console = ConsoleClient(tls_server.console_endpoint, cafile=tls_server.verify)
    assert console.endpoint.startswith("https://")
    page = console.get("/login")
    cookie = page.headers.get("set-cookie", "")
    assert cookie.startswith("__Host-nuage_console=")
    for flag in ("Path=/;", "HttpOnly", "SameSite=Strict", "Secure"):
        assert flag in cookie, flag
    assert "Domain" not in cookie
    assert f"connect-src 'self' {tls_server.endpoint}" in page.headers["content-security-policy"]
    assert console.sign_in(ACCESS_KEY, SECRET_KEY).status == 303
    assert console.get("/buckets").status == 200
    # the plain-HTTP cookie name is not a session over HTTPS
    value = console.cookie()
    assert value is not None
    fresh = ConsoleClient(tls_server.console_endpoint, cafile=tls_server.verify)
    req = urllib.request.Request(fresh.endpoint + "/buckets", headers={"cookie": f"nuage_console={value}"})
    assert fresh._open(req).status == 303


def test_pages_need_a_sign_in(console: ConsoleClient) -> None:
    page = console.get("/buckets")
    assert page.status == 303 and page.location.startswith("/login")


def test_wrong_secret_is_refused(console: ConsoleClient) -> None:
    page = console.sign_in(ACCESS_KEY, SECRET_KEY + "x")
    assert page.status == 401
    assert "not right" in page.text
    assert console.get("/buckets").status == 303
    assert console.sign_in("NOSUCHKEY00000000000", SECRET_KEY).status == 401


def test_sign_in_lists_buckets_with_count_and_size(server: NuageServer, console: ConsoleClient, s3: Any) -> None:
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"x" * 2048)
    s3.put_object(Bucket=name, Key="dir/b.txt", Body=b"y" * 1024)
    page = console.sign_in(ACCESS_KEY, SECRET_KEY)
    assert page.status == 303 and page.location == "/buckets"
    page = console.get("/buckets")
    assert page.status == 200
    row = page.text.split(f'data-bucket="{name}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Objects" class="num">2</td>' in row
    assert "3.0 KiB" in row
    assert server.region in row
    assert f'aria-label="Delete bucket {name}"' in row


def test_post_without_or_with_a_wrong_csrf_token_is_refused(console: ConsoleClient, s3: Any) -> None:
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    console.get("/buckets")
    for token in ("", "forged-token", console.csrf[:-1]):
        name = unique_bucket_name()
        page = console.post("/buckets/create", {"name": name}, csrf=token)
        assert page.status == 403, token
        assert "CSRF" in page.text
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_bucket(Bucket=name)
    page = console.post_json("/api/upload/start", '{"bucket": "x", "key": "k", "size": 1}', csrf="forged")
    assert page.status == 403


def test_create_and_delete_bucket_and_refuse_a_non_empty_one(console: ConsoleClient, s3: Any) -> None:
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    console.get("/buckets")
    name = unique_bucket_name()
    page = console.post("/buckets/create", {"name": name})
    assert page.status == 303, page.text
    s3.head_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="keep", Body=b"1")
    page = console.post("/buckets/delete", {"bucket": name})
    assert page.status == 409
    assert f"The bucket {name} is not empty" in page.text
    s3.head_bucket(Bucket=name)
    s3.delete_object(Bucket=name, Key="keep")
    assert console.post("/buckets/delete", {"bucket": name}).status == 303
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_bucket(Bucket=name)
    page = console.post("/buckets/create", {"name": "Bad_Name"})
    assert page.status == 400 and "InvalidBucketName" in page.text


def test_tampered_cookie_is_a_signed_out_session(console: ConsoleClient) -> None:
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    assert console.get("/buckets").status == 200
    value = console.cookie()
    assert value is not None
    payload, stamp, signature = value.split(".")
    console.set_cookie(payload + "." + stamp + "." + ("A" if signature[0] != "A" else "B") + signature[1:])
    page = console.get("/buckets")
    assert page.status == 303 and page.location.startswith("/login")
    # a cookie made without the server's key (another access key in it) is refused too
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer(b"not-the-key", salt="nuage-console-session").dumps(
        {"csrf": "x", "ak": ACCESS_KEY})
    console.set_cookie(forged)
    assert console.get("/buckets").status == 303


def test_sign_out_ends_the_session_even_for_a_replayed_cookie(console: ConsoleClient) -> None:
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    assert console.get("/buckets").status == 200
    old = console.cookie()
    assert old is not None
    page = console.post("/logout", {})
    assert page.status == 303
    assert console.get("/buckets").status == 303
    console.set_cookie(old)
    assert console.get("/buckets").status == 303


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("console-short") / "data",
                      env={"NUAGE_CONSOLE_SESSION_SECONDS": "3"}).start()
    yield srv
    srv.stop()


def test_session_expires(short_server: NuageServer) -> None:
    console = ConsoleClient(short_server.console_endpoint)
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    assert console.get("/buckets").status == 200
    time.sleep(4.5)
    page = console.get("/buckets")
    assert page.status == 303 and page.location.startswith("/login")
    page = console.post("/buckets/create", {"name": unique_bucket_name()})
    assert page.status == 403   # the expired session's CSRF token went with it


def test_read_only_user_sees_no_destructive_controls_and_forgery_is_refused(
        server: NuageServer, s3: Any) -> None:
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"hello")
    user = make_user(server, READ_ONLY_POLICY, "ro")
    console = ConsoleClient(server.console_endpoint)
    assert console.sign_in(user.access_key, user.secret_key).status == 303
    page = console.get("/buckets")
    assert page.status == 200 and name in page.text
    # (buckets of other tests on this server may have policies that let anyone delete them)
    row = page.text.split(f'data-bucket="{name}"', 1)[1].split("</tr>", 1)[0]
    assert "Delete" not in row and "versioning of" not in row and "Create a bucket" not in page.text
    assert user.name in page.text
    # forged requests with a valid session and CSRF token: S3 authorization refuses them
    page = console.post("/buckets/delete", {"bucket": name})
    assert page.status == 403 and "AccessDenied" in page.text
    page = console.post("/buckets/create", {"name": unique_bucket_name()})
    assert page.status == 403
    s3.head_bucket(Bucket=name)


def test_static_files_are_served_with_their_types(console: ConsoleClient) -> None:
    for name, ctype in (("console.css", "text/css"), ("htmx.min.js", "javascript"), ("uplot.min.js", "javascript")):
        page = console.get("/static/" + name)
        assert page.status == 200 and ctype in page.headers["content-type"], name
    assert console.get("/static/nope.js").status == 404
    assert console.get("/static/../app.py").status in (303, 404)


def test_a_bucket_named_console_stays_reachable_through_s3(s3: Any) -> None:
    s3.create_bucket(Bucket="console")
    s3.put_object(Bucket="console", Key="k", Body=b"v")
    assert s3.get_object(Bucket="console", Key="k")["Body"].read() == b"v"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="console")["Contents"]] == ["k"]
    s3.delete_object(Bucket="console", Key="k")
    s3.delete_bucket(Bucket="console")


def test_versioning_and_replication_status_on_the_buckets_page(console: ConsoleClient, s3: Any) -> None:
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    page = console.get("/buckets")
    row = page.text.split(f'data-bucket="{name}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Replication">Off</td>' in row
    assert f'aria-label="Enable versioning of {name}"' in row
    assert console.post("/buckets/versioning", {"bucket": name, "status": "Enabled"}).status == 303
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    row = console.get("/buckets").text.split(f'data-bucket="{name}"', 1)[1].split("</tr>", 1)[0]
    assert f'aria-label="Suspend versioning of {name}"' in row


def test_repeated_failed_sign_ins_are_throttled(server: NuageServer) -> None:
    user = make_user(server, READ_ONLY_POLICY, "guess")
    console = ConsoleClient(server.console_endpoint)
    for _ in range(10):
        assert console.sign_in(user.access_key, "not-the-secret").status == 401
    page = console.sign_in(user.access_key, user.secret_key)      # even the right secret, for a while
    assert page.status == 429 and "Too many failed sign-ins" in page.text
    other = make_user(server, READ_ONLY_POLICY, "fine")
    assert console.sign_in(other.access_key, other.secret_key).status == 303    # other keys are not blocked


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _send(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None) -> Page:
    """One request, no cookie jar, redirects not followed."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.build_opener(_NoRedirect()).open(req, timeout=30) as resp:
            return Page(resp.status, resp.headers, resp.read().decode(errors="replace"))
    except urllib.error.HTTPError as err:
        return Page(err.code, err.headers, err.read().decode(errors="replace"))


def test_the_s3_port_serves_no_console(server: NuageServer) -> None:
    """The console lives on its own port; on the S3 port, /console is an S3 path like any other (a bucket
    named console, here missing): an S3 error, never a console page, form or cookie."""
    for method, path in (("GET", "/console"), ("GET", "/console/"), ("GET", "/console/login"),
                         ("GET", "/console/users"), ("GET", "/console/static/upload.js"),
                         ("POST", "/console/login")):
        page = _send(method, server.endpoint + path, body=b"" if method == "POST" else None)
        assert page.status in (403, 404, 405), (method, path, page.status)
        assert page.text.startswith("<?xml") and "<Error>" in page.text, (method, path)
        assert "csrf" not in page.text and "set-cookie" not in page.headers, (method, path)
    assert server.console_port != server.port
    assert _send("GET", server.console_endpoint + "/login").status == 200


def test_csp_lets_the_pages_reach_only_their_origin_and_the_s3_endpoint(console: ConsoleClient,
                                                                          server: NuageServer) -> None:
    csp = console.get("/login").headers["content-security-policy"]
    directives = dict(d.strip().partition(" ")[::2] for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'self'"
    assert directives["connect-src"] == f"'self' {server.endpoint}"
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"


def test_a_post_from_another_origin_is_refused_even_with_the_csrf_token(
        server: NuageServer, console: ConsoleClient, s3: Any) -> None:
    """Browsers send Origin with every POST: a form of the S3 endpoint's origin (tenant content) is
    refused before its token is even looked at."""
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    console.get("/buckets")
    name = unique_bucket_name()
    refused = [{"origin": origin} for origin in (server.endpoint, "http://evil.example", "null")]
    refused += [{"sec-fetch-site": site} for site in ("same-site", "cross-site")]
    for headers in refused:
        data = urllib.parse.urlencode({"csrf": console.csrf, "name": name}).encode()
        req = urllib.request.Request(console.endpoint + "/buckets/create", data=data, method="POST",
                                     headers={"content-type": "application/x-www-form-urlencoded", **headers})
        page = console._open(req)
        assert page.status == 403, headers
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_bucket(Bucket=name)
    data = urllib.parse.urlencode({"csrf": console.csrf, "name": name}).encode()
    req = urllib.request.Request(console.endpoint + "/buckets/create", data=data, method="POST",
                                 headers={"content-type": "application/x-www-form-urlencoded",
                                          "origin": server.console_endpoint, "sec-fetch-site": "same-origin"})
    assert console._open(req).status == 303
    s3.delete_bucket(Bucket=name)


def test_a_second_session_cookie_signs_the_request_out(console: ConsoleClient) -> None:
    """Cookies know no ports: a page of the S3 endpoint may plant a cookie of the console's name with a
    longer path. Two of them: the request is signed out rather than run as either."""
    console.sign_in(ACCESS_KEY, SECRET_KEY)
    value = console.cookie()
    assert value is not None and console.get("/buckets").status == 200
    page = _send("GET", console.endpoint + "/buckets", {"cookie": f"nuage_console={value}"})
    assert page.status == 200
    page = _send("GET", console.endpoint + "/buckets", {"cookie": f"nuage_console={value}; nuage_console={value}"})
    assert page.status == 303 and page.location.startswith("/login")


def test_uploads_from_the_console_origin_get_cors_and_nothing_else_does(server: NuageServer, s3: Any) -> None:
    """The browser PUTs upload bytes to the S3 endpoint with presigned URLs: from the console's origin
    (and only from it) those requests and their preflight get CORS headers for that origin."""
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    v4 = server.client(signature_version="s3v4")       # as the console presigns (SigV2 would sign content-type)
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.bin"}, ExpiresIn=600)
    console_origin = server.console_endpoint
    ask = {"access-control-request-method": "PUT", "access-control-request-headers": "content-type"}
    page = _send("OPTIONS", url, {"origin": console_origin, **ask})
    assert page.status == 200
    assert page.headers["access-control-allow-origin"] == console_origin
    assert page.headers["access-control-allow-methods"] == "PUT"
    assert "access-control-allow-credentials" not in page.headers
    page = _send("PUT", url, {"origin": console_origin, "content-type": "application/octet-stream"}, b"abc")
    assert page.status == 200, page.text
    assert page.headers["access-control-allow-origin"] == console_origin
    assert "ETag" in page.headers["access-control-expose-headers"]
    assert s3.get_object(Bucket=bucket, Key="up.bin")["Body"].read() == b"abc"
    # another origin, a method other than PUT, or a request that is not presigned: the bucket's rules
    # (none here) decide, as S3 does
    for origin in ("http://evil.example", server.endpoint, f"http://localhost:{server.console_port}"):
        page = _send("OPTIONS", url, {"origin": origin, **ask})
        assert page.status == 403 and "access-control-allow-origin" not in page.headers, origin
        page = _send("PUT", url, {"origin": origin}, b"abc")
        assert page.status == 200 and "access-control-allow-origin" not in page.headers, origin
    page = _send("OPTIONS", url, {"origin": console_origin, "access-control-request-method": "DELETE"})
    assert page.status == 403 and "access-control-allow-origin" not in page.headers
    plain = f"{server.endpoint}/{bucket}/up.bin"
    page = _send("OPTIONS", plain, {"origin": console_origin, **ask})
    assert page.status == 403 and "access-control-allow-origin" not in page.headers
    get = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "up.bin"}, ExpiresIn=600)
    page = _send("GET", get, {"origin": console_origin})
    assert page.status == 200 and "access-control-allow-origin" not in page.headers
    s3.delete_object(Bucket=bucket, Key="up.bin")
    s3.delete_bucket(Bucket=bucket)


def test_links_to_other_regions_consoles_assume_their_default_port() -> None:
    from nuage.console import console_url_of

    assert console_url_of("http://127.0.0.1:9000") == "http://127.0.0.1:9001/"
    assert console_url_of("https://s3.example.com") == "https://s3.example.com:444/"
    assert console_url_of("http://[::1]:9100/") == "http://[::1]:9101/"
