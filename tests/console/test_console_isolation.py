"""Tenant content cannot act on a console session (Debian's Chromium, headless, driven by Playwright).

A signed-in console user opens an HTML object that someone stored in a bucket, the way anyone opens a
link: presigned, or as text made HTML by ``response-content-type=text/html``. The object's script tries to
read a console page (for its CSRF token) and to create an access key, at the console's own origin and at
``/console`` of the origin it was served from (where the console used to live), with and without
``credentials: 'include'``, and once more blind (a no-cors POST, whose answer it cannot read). It must
read nothing and create nothing, while the session stays signed in."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import unique_bucket_name
from tests.console.conftest import READ_ONLY_POLICY, make_user
from tests.support.console import ConsoleClient
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

HOSTILE = """<!doctype html>
<html><head><meta charset="utf-8"><title>holiday photos</title></head><body>
<script>
const CONSOLE = %(console)s;
async function attempt(base, credentials) {
  const r = {base: base, credentials: credentials, read: false, created: false, blind: false, error: null};
  let csrf = "";
  try {
    const page = await fetch(base + "/users", {credentials: credentials});
    const text = await page.text();
    const found = text.match(/name="csrf-token" content="([^"]+)"/);
    if (found) { r.read = true; csrf = found[1]; }
    const made = await fetch(base + "/users/keys/create", {method: "POST", credentials: credentials,
                                                           body: new URLSearchParams({csrf: csrf})});
    r.created = (await made.text()).indexOf("new-secret-key") >= 0;
  } catch (e) { r.error = String(e); }
  try {
    await fetch(base + "/users/keys/create", {method: "POST", mode: "no-cors", credentials: credentials,
                                              body: new URLSearchParams({csrf: csrf})});
    r.blind = true;
  } catch (e) { r.blind = false; }
  return r;
}
async function framed(base) {
  // a console page in a frame: refused by its CSP (frame-ancestors), and another origin's document anyway
  return new Promise(function (done) {
    const frame = document.createElement("iframe");
    frame.src = base + "/users";
    frame.onload = function () {
      try { done(frame.contentDocument.documentElement.innerHTML.indexOf("csrf-token") >= 0); }
      catch (e) { done(false); }
    };
    setTimeout(function () { done(false); }, 3000);
    document.body.appendChild(frame);
  });
}
(async function () {
  const results = [];
  for (const base of [location.origin + "/console", CONSOLE]) {
    for (const credentials of ["same-origin", "include"]) { results.push(await attempt(base, credentials)); }
    results.push({base: base, framed: await framed(base)});
  }
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
})();
</script>
</body></html>
"""


TOSSER = """<!doctype html>
<html><head><meta charset="utf-8"><title>holiday photos</title></head><body>
<script>
// cookies know no ports: plant the attacker's own console session for the console's host
const path = new URL(%(console)s).pathname.replace(/\\/$/, "");
document.cookie = "nuage_console=" + %(session)s + "; path=" + path + "/buckets";
document.cookie = "nuage_console=" + %(session)s + "; path=/";
const out = document.createElement("pre");
out.id = "result";
out.textContent = "planted";
document.body.appendChild(out);
</script>
</body></html>
"""


def sign_in(page: Any, server: NuageServer) -> None:
    page.goto(server.console_endpoint + "/")
    page.get_by_label("Access key").fill(ACCESS_KEY)
    page.get_by_label("Secret key").fill(SECRET_KEY)
    page.keyboard.press("Enter")
    page.wait_for_url(server.console_endpoint + "/buckets")


def root_keys(server: NuageServer) -> list[str]:
    iam = server.client("iam")
    return sorted(k["AccessKeyId"] for k in iam.list_access_keys()["AccessKeyMetadata"])


def test_a_hostile_html_object_cannot_act_on_a_console_session(server: NuageServer, browser: Any) -> None:
    s3 = server.client()
    bucket = unique_bucket_name("hostile")
    s3.create_bucket(Bucket=bucket)
    body = (HOSTILE % {"console": json.dumps(server.console_endpoint)}).encode()
    s3.put_object(Bucket=bucket, Key="photos.html", Body=body, ContentType="text/html")
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=body, ContentType="text/plain")
    links = [
        s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "photos.html"}, ExpiresIn=600),
        s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "notes.txt",
                                                        "ResponseContentType": "text/html"}, ExpiresIn=600),
    ]
    before = root_keys(server)

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server)

    for link in links:
        victim = context.new_page()
        victim.goto(link)
        victim.wait_for_selector("#result", state="attached", timeout=30_000)
        results = json.loads(victim.locator("#result").text_content() or "[]")
        assert len(results) == 6, results           # the script ran: the object is an HTML page
        for result in results:
            assert not result.get("read"), result    # no console page, so no CSRF token
            assert not result.get("created"), result
            assert not result.get("framed"), result
        victim.close()
        assert root_keys(server) == before, link     # not even the blind POSTs made a key

    # the session was alive all along: the attempts were made against a signed-in console
    page.goto(server.console_endpoint + "/users")
    assert page.get_by_role("button", name="Sign out").is_visible()
    context.close()
    for key in ("photos.html", "notes.txt"):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)


def test_a_planted_session_cookie_does_not_sign_the_victim_in_as_the_attacker(
        server: NuageServer, browser: Any) -> None:
    """The attacker signs in to the console as themself and has an HTML object plant that session's
    cookie for the console's host (cookies know no ports), with a longer path. The victim's console must
    never act as the attacker: where both cookies are sent, the request is signed out."""
    mallory = make_user(server, READ_ONLY_POLICY, "mallory")
    attacker = ConsoleClient(server.console_endpoint)
    assert attacker.sign_in(mallory.access_key, mallory.secret_key).status == 303
    session = attacker.cookie()
    assert session is not None
    s3 = server.client()
    bucket = unique_bucket_name("tosser")
    s3.create_bucket(Bucket=bucket)
    body = TOSSER % {"console": json.dumps(server.console_endpoint), "session": json.dumps(session)}
    s3.put_object(Bucket=bucket, Key="photos.html", Body=body.encode(), ContentType="text/html")
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "photos.html"}, ExpiresIn=600)

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server)
    hostile = context.new_page()
    hostile.goto(link)
    hostile.wait_for_selector("#result", state="attached")
    hostile.close()
    for path in ("/buckets", "/users"):
        page.goto(server.console_endpoint + path)
        assert mallory.name not in page.content(), path
    page.goto(server.console_endpoint + "/buckets")      # both cookies sent: signed out
    assert page.url.startswith(server.console_endpoint + "/login")
    context.close()
    s3.delete_object(Bucket=bucket, Key="photos.html")
    s3.delete_bucket(Bucket=bucket)
