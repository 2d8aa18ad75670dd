"""The object browser: folders (common prefixes), search by prefix, pages by continuation token, object
details (metadata, tags, checksum, versions), download, delete, share links, new folders."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import quote

from nuage.console import s3ops
from nuage.console.context import Ctx, Route
from nuage.console.gateway import S3Failure
from nuage.console.http import HTTPError, Response, redirect, url
from nuage.console.i18n import N_

PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000
MAX_SHARE_SECONDS = 7 * 24 * 3600
SHARE_CHOICES = [(3600, N_("1 hour")), (24 * 3600, N_("1 day")), (7 * 24 * 3600, N_("7 days"))]
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 8 * 1024 * 1024


def crumbs(prefix: str) -> list[tuple[str, str]]:
    """(label, prefix) for each folder level of ``prefix``."""
    out = []
    parts = prefix.split("/")[:-1]
    for i, part in enumerate(parts):
        out.append((part or "(empty)", "/".join(parts[: i + 1]) + "/"))
    return out


def _page_size(ctx: Ctx) -> int:
    raw = ctx.req.query.get("max", "")
    return min(MAX_PAGE_SIZE, max(1, int(raw))) if raw.isdigit() else PAGE_SIZE


async def browse(ctx: Ctx) -> Response:
    bucket = ctx.params["bucket"]
    q = ctx.req.query
    folder, search, token = q.get("prefix", ""), q.get("q", ""), q.get("token") or None
    versions_mode = q.get("versions") == "1"
    listing: s3ops.Listing | s3ops.VersionListing
    if versions_mode:
        key_marker = q.get("key_marker") or None
        listing = await s3ops.list_version_page(ctx, bucket, folder + search, key_marker, q.get("version_marker"),
                                                _page_size(ctx))
        token = key_marker
    else:
        listing = await s3ops.list_objects(ctx, bucket, folder + search, token, _page_size(ctx))
    probe = folder + "object"
    may_put, may_delete, may_delete_version = await asyncio.gather(
        ctx.can("PutObject", bucket, probe), ctx.can("DeleteObject", bucket, probe),
        ctx.can("DeleteObject", bucket, probe, "version"))
    return ctx.render("objects.html", section="buckets", bucket=bucket, folder=folder, search=search,
                      crumbs=crumbs(folder), listing=listing, token=token, may_put=may_put,
                      may_delete=may_delete, may_delete_version=may_delete_version, versions_mode=versions_mode,
                      threshold=MULTIPART_THRESHOLD, part_size=PART_SIZE, page_size=q.get("max", ""))


def _required(ctx: Ctx, name: str) -> str:
    value = ctx.req.form.get(name) if ctx.req.method == "POST" else ctx.req.query.get(name)
    if not value:
        raise HTTPError(400, ctx._("The {name} is missing.", name=name))
    return value


async def _details(ctx: Ctx, share_url: str = "", share_expires: int = 0, status: int = 200,
                   error: str = "") -> Response:
    bucket, key = ctx.params["bucket"], _required(ctx, "key")
    version = (ctx.req.form.get("versionId") if ctx.req.method == "POST" else ctx.req.query.get("versionId")) or None
    query = [("versionId", version)] if version else []
    head = await ctx.must("HEAD", bucket, key, query=query, headers=[("x-amz-checksum-mode", "ENABLED")])
    tags, versions, may_delete = await asyncio.gather(
        s3ops.object_tags(ctx, bucket, key, version), s3ops.list_versions(ctx, bucket, key),
        ctx.can("DeleteObject", bucket, key))
    h = head.headers
    meta = {k[len("x-amz-meta-"):]: v for k, v in h.items() if k.startswith("x-amz-meta-")}
    checksums = {k[len("x-amz-checksum-"):].upper(): v for k, v in h.items()
                 if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-type"}
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return ctx.render("object.html", status=status, section="buckets", bucket=bucket, key=key, version=version,
                      headers=h, meta=meta, checksums=checksums, tags=tags, versions=versions,
                      may_delete=may_delete, folder=folder, crumbs=crumbs(folder), share_url=share_url,
                      share_expires=share_expires, share_choices=SHARE_CHOICES, error=error)


async def details(ctx: Ctx) -> Response:
    return await _details(ctx)


async def download(ctx: Ctx) -> Response:
    bucket, key = ctx.params["bucket"], _required(ctx, "key")
    version = ctx.req.query.get("versionId")
    name = key.rstrip("/").rpartition("/")[2] or "download"
    query = [("response-content-disposition", f"attachment; filename*=UTF-8''{quote(name, safe='')}")]
    if version:
        query.append(("versionId", version))
    return redirect(ctx.presign("GET", bucket, key, query, expires=300), status=302)


async def share(ctx: Ctx) -> Response:
    bucket, key = ctx.params["bucket"], _required(ctx, "key")
    raw = ctx.req.form.get("expires", "3600")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SHARE_SECONDS:
        return await _details(ctx, status=400, error="A share link lasts from 1 second to 7 days.")
    version = ctx.req.form.get("versionId") or None
    if not await ctx.can("GetObject", bucket, key):
        raise HTTPError(403, ctx._("You may not read this object, so you may not share it."))
    query = [("versionId", version)] if version else []
    return await _details(ctx, share_url=ctx.presign("GET", bucket, key, query, expires=int(raw)),
                          share_expires=int(raw))


async def delete(ctx: Ctx) -> Response:
    bucket, key = ctx.params["bucket"], _required(ctx, "key")
    version = ctx.req.form.get("versionId") or None
    await ctx.must("DELETE", bucket, key, query=[("versionId", version)] if version else [])
    what = ctx._("{key} (version {version})", key=key, version=version) if version else key
    deleted = ctx._("Deleted {what}.", what=what)
    back = ctx.req.form.get("back")
    if back == "object":
        remaining = await s3ops.list_versions(ctx, bucket, key)
        if remaining:
            return redirect(url(f"/b/{bucket}/object", key=key, notice=deleted))
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return redirect(url(f"/b/{bucket}", prefix=folder, versions="1" if back == "versions" else None,
                        notice=deleted))


SELECTED_RE = re.compile(r"^k(\d{1,5})$")    # the bulk form's checkboxes: k0, k1... (one key each)
MAX_NAMED = 10                              # refused keys named in the notice


def _selected(ctx: Ctx) -> list[str]:
    found = sorted((int(m.group(1)), value) for name, value in ctx.req.form.items()
                   if (m := SELECTED_RE.match(name)) and value)
    return list(dict.fromkeys(value for _, value in found))


async def delete_many(ctx: Ctx) -> Response:
    """Delete the selected objects: S3 DeleteObjects as the user, which authorizes each key as a
    DeleteObject of that key alone would be; the notice names the keys S3 refused, and why."""
    bucket = ctx.params["bucket"]
    folder = ctx.req.form.get("prefix", "")
    keys = _selected(ctx)
    if not keys:
        return redirect(url(f"/b/{bucket}", prefix=folder, notice=ctx._("No object was selected.")))
    result = await s3ops.delete_objects(ctx, bucket, keys)
    done = len(result.deleted)
    notice = ctx.ngettext("Deleted {n} object.", "Deleted {n} objects.", done).format(n=done)
    if result.refused:
        named = ", ".join(f"{key} ({code})" for key, code, _ in result.refused[:MAX_NAMED])
        more = len(result.refused) - MAX_NAMED
        notice += " " + (ctx._("Not deleted, {n}: {keys} and {more} more.") if more > 0 else
                         ctx._("Not deleted, {n}: {keys}.")).format(n=len(result.refused), keys=named, more=more)
    return redirect(url(f"/b/{bucket}", prefix=folder, notice=notice))


async def new_folder(ctx: Ctx) -> Response:
    bucket = ctx.params["bucket"]
    folder = ctx.req.form.get("prefix", "")
    name = _required(ctx, "name").strip().strip("/")
    if not name:
        raise HTTPError(400, ctx._("The folder name is missing."))
    try:
        await ctx.must("PUT", bucket, folder + name + "/")
    except S3Failure as exc:
        raise HTTPError(exc.status, ctx._("The folder was not created: {message} ({code})",
            message=exc.message, code=exc.code)) from exc
    return redirect(url(f"/b/{bucket}", prefix=folder + name + "/", notice=ctx._("Folder {name} created.", name=name)))


B = r"/b/(?P<bucket>[^/]+)"
ROUTES = [
    Route("GET", B, browse),
    Route("GET", B + r"/object", details),
    Route("GET", B + r"/download", download),
    Route("POST", B + r"/share", share),
    Route("POST", B + r"/delete", delete),
    Route("POST", B + r"/delete-selected", delete_many),
    Route("POST", B + r"/folder", new_folder),
]
