"""Object previews on the object page: images and PDF documents shown from a console URL that reads the
object as the user (the same S3 authorization as a download), text (the first 64 KiB, escaped), CSV (the
first 20 rows) and Parquet (the first 20 rows, by a SQL job of the user).

Nothing the tenant wrote runs on the console's origin: only allow-listed image types and PDF are served
inline (with a CSP of their own that runs nothing); HTML, SVG, XML and any other type are shown as text
inside the page, escaped, or not at all (the download is an attachment, from the S3 endpoint)."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from nuage.console import s3ops
from nuage.console.context import Ctx, Route
from nuage.console.http import HTTPError, Response
from nuage.console.views.objects import crumbs
from nuage.console.views.sql import quick_query

TEXT_BYTES = 64 * 1024
TABLE_ROWS = 20
INLINE_BYTES = 20 * 1024 * 1024          # images and PDF documents larger than this are not previewed
IMAGES = {"image/png": ".png", "image/jpeg": ".jpg .jpeg", "image/gif": ".gif", "image/webp": ".webp",
          "image/avif": ".avif", "image/bmp": ".bmp"}      # never image/svg+xml: an SVG document runs scripts
TEXT_TYPES = {"application/json", "application/xml", "application/x-ndjson", "application/yaml",
              "application/x-yaml", "application/javascript", "application/sql", "application/toml",
              "image/svg+xml", "application/xhtml+xml"}
TEXT_EXTENSIONS = {".txt", ".md", ".log", ".json", ".jsonl", ".ndjson", ".xml", ".yaml", ".yml", ".html", ".htm",
                   ".svg", ".py", ".js", ".css", ".ini", ".toml", ".sh", ".sql", ".cfg", ".conf", ".rst"}
UNTYPED = ("", "application/octet-stream", "binary/octet-stream")    # no type given: the name decides
PARQUET_TYPES = {"application/vnd.apache.parquet", "application/x-parquet", "application/parquet"}
GLOB = set("*?[]{}'")      # a key the SQL engine would read as a pattern, or that would end its string
# the inline answers run nothing: no script, no plugin but the PDF viewer's own document, no form
IMAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"


def _extension(key: str) -> str:
    name = key.rpartition("/")[2].lower()
    return name[name.rfind("."):] if "." in name else ""


def image_type(content_type: str, key: str) -> str | None:
    """The allow-listed image type of an object, by its Content-Type or else its name; None if it is none."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in IMAGES:
        return ctype
    if ctype in UNTYPED:
        ext = _extension(key)
        return next((t for t, exts in IMAGES.items() if ext and ext in exts.split()), None)
    return None


def preview_kind(content_type: str, key: str) -> str:
    """image, pdf, csv, tsv, parquet, text, or "" (no preview)."""
    ctype, ext = content_type.split(";")[0].strip().lower(), _extension(key)
    if ctype in ("text/csv", "application/csv") or ext == ".csv":
        return "csv"
    if ctype == "text/tab-separated-values" or ext == ".tsv":
        return "tsv"
    if ctype in PARQUET_TYPES or ext == ".parquet":
        return "parquet"
    if image_type(content_type, key):
        return "image"
    if ctype == "application/pdf" or (ext == ".pdf" and ctype in UNTYPED):
        return "pdf"
    if ctype.startswith("text/") or ctype in TEXT_TYPES or ctype.endswith(("+json", "+xml")) \
            or ext in TEXT_EXTENSIONS:
        return "text"
    return ""


def _text(data: bytes, whole: bool) -> str | None:
    """UTF-8 text (a character cut at the end of a partial read left out); None for binary data."""
    if b"\x00" in data:
        return None
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(data, final=whole)


@dataclass
class Preview:
    kind: str
    size: int = 0
    text: str | None = None
    truncated: bool = False
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    job: str = ""


def _table(text: str, whole: bool, delimiter: str) -> tuple[list[str], list[list[Any]]]:
    lines = text.splitlines()
    if not whole and lines:
        lines = lines[:-1]            # the last line of a partial read may be cut
    rows = list(csv.reader(io.StringIO("\n".join(lines[:TABLE_ROWS + 1])), delimiter=delimiter))
    return (rows[0], [list(r) for r in rows[1:TABLE_ROWS + 1]]) if rows else ([], [])


async def _parquet(ctx: Ctx, bucket: str, key: str, version: str | None, out: Preview) -> None:
    if version:
        out.note = ctx._("The first rows are shown for the current version only: download this version to read it.")
        return
    if GLOB & set(key) or ctx.console.gateway.query_app is None:
        out.note = ctx._("No table preview for this object.")
        return
    job, result = await quick_query(ctx, f"SELECT * FROM 's3://{bucket}/{key}' LIMIT {TABLE_ROWS}", TABLE_ROWS)
    out.job = str(job.get("id", ""))
    if job.get("status") == "failed":
        err = job.get("error") or {}
        out.note = ctx._("The rows could not be read: {message} ({code})", message=err.get("message", ""),
                                                                                  code=err.get("code", ""))
    elif not result:
        out.note = ctx._("Reading the first rows takes longer: see the SQL job.")
    else:
        out.columns = [c if isinstance(c, str) else str(c.get("name", "")) for c in result.get("columns", [])]
        out.rows = [list(r) for r in result.get("rows", [])][:TABLE_ROWS]


async def build(ctx: Ctx, bucket: str, key: str, version: str | None) -> Preview:
    query = [("versionId", version)] if version else []
    head = await ctx.must("HEAD", bucket, key, query=query)
    ctype, size = head.headers.get("content-type", ""), int(head.headers.get("content-length", "0") or 0)
    out = Preview(preview_kind(ctype, key), size)
    if out.kind in ("image", "pdf"):
        if size > INLINE_BYTES:
            out.kind, out.note = "", ctx._("Too large to preview here: download it.")
    elif out.kind in ("text", "csv", "tsv"):
        got = await s3ops.read_head(ctx, bucket, key, version, TEXT_BYTES)
        whole = got.size <= TEXT_BYTES
        out.text, out.truncated = _text(got.data, whole), not whole
        if out.text is None:
            out.kind, out.note = "", ctx._("This object looks binary: no text preview.")
        elif out.kind != "text":
            out.columns, out.rows = _table(out.text, whole, "\t" if out.kind == "tsv" else ",")
    elif out.kind == "parquet":
        await _parquet(ctx, bucket, key, version, out)
    else:
        out.note = ctx._("No preview for this type of object: download it.")
    return out


def _key(ctx: Ctx) -> tuple[str, str, str | None]:
    key = ctx.req.query.get("key", "")
    if not key:
        raise HTTPError(400, ctx._("The key is missing."))
    return ctx.params["bucket"], key, ctx.req.query.get("versionId") or None


async def preview_page(ctx: Ctx) -> Response:
    """The preview of an object: a page of its own, whose #preview section the object page loads."""
    bucket, key, version = _key(ctx)
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return ctx.render("preview.html", section="buckets", bucket=bucket, key=key, version=version, folder=folder,
                      crumbs=crumbs(folder), preview=await build(ctx, bucket, key, version))


async def inline(ctx: Ctx) -> Response:
    """The bytes of an image or a PDF document, read as the user, for the preview's <img> or <iframe>. Any
    other type is refused: it is shown as text in the page, never served from the console's origin."""
    bucket, key, version = _key(ctx)
    got = await s3ops.read_head(ctx, bucket, key, version, INLINE_BYTES + 1)
    kind = preview_kind(got.content_type, key)
    if kind not in ("image", "pdf"):
        raise HTTPError(404, ctx._("This object is not shown inline: download it."))
    if got.size > INLINE_BYTES:
        raise HTTPError(404, ctx._("This object is too large to preview: download it."))
    name = quote(key.rpartition("/")[2] or "preview", safe="")
    ctype = image_type(got.content_type, key) if kind == "image" else "application/pdf"
    return Response(200, got.data, ctype or "application/octet-stream", [
        ("content-disposition", f"inline; filename*=UTF-8''{name}"),
        ("content-security-policy", IMAGE_CSP if kind == "image" else PDF_CSP),
        ("x-frame-options", "SAMEORIGIN"),
        ("cross-origin-resource-policy", "same-origin")])


ROUTES = [
    Route("GET", r"/b/(?P<bucket>[^/]+)/preview", preview_page),
    Route("GET", r"/b/(?P<bucket>[^/]+)/inline", inline),
]
