"""The SQL page: an editor, run, cancel, the result as a table and a bar or line chart, export to CSV,
save to a bucket. Every call is the SQL jobs API (:mod:`nuage.query.app`) as the signed-in user, so a job
reads only the objects the user may GetObject; saving the result is an S3 PutObject as the user."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from nuage.console.context import Ctx, Route
from nuage.console.gateway import S3Failure, S3Reply
from nuage.console.http import HTTPError, Response, redirect, url

RESULT_ROWS = 1000
WAIT_SECONDS = 3        # a quick job shows its result at once; a longer one is followed on its page
JOB_RE = r"/sql/jobs/(?P<job>[A-Za-z0-9_-]+)"


def _payload(reply: S3Reply) -> Any:
    try:
        return json.loads(reply.body) if reply.body else {}
    except ValueError:
        return {}


def _error(reply: S3Reply) -> tuple[str, str]:
    err = _payload(reply).get("error") or {}
    return str(err.get("code", reply.status)), str(err.get("message", "The SQL jobs API refused the request."))


async def _api(ctx: Ctx, method: str, path: str, query: list[tuple[str, str]] | None = None,
               payload: object = None) -> S3Reply:
    if ctx.console.gateway.query_app is None:
        raise HTTPError(404, ctx._("SQL jobs are not available on this server."))
    return await ctx.console.gateway.query(ctx.user, ctx.s3_url, method, path, query or [], payload,
                                           ctx.req.client)


async def _api_ok(ctx: Ctx, method: str, path: str, query: list[tuple[str, str]] | None = None) -> S3Reply:
    """:func:`_api`, with a refusal shown as the error page (its code and message)."""
    reply = await _api(ctx, method, path, query)
    if not reply.ok:
        code, message = _error(reply)
        raise HTTPError(reply.status, f"{message} ({code})")
    return reply


async def _jobs(ctx: Ctx) -> list[dict[str, Any]]:
    reply = await _api(ctx, "GET", "/query/jobs", [("max_jobs", "20")])
    return list(_payload(reply).get("jobs", [])) if reply.ok else []


async def sql_page(ctx: Ctx, status: int = 200, error: str = "", sql: str = "") -> Response:
    return ctx.render("sql.html", status=status, section="sql", jobs=await _jobs(ctx), error=error,
                      sql=sql or ctx.req.query.get("sql", ""))


async def sql_home(ctx: Ctx) -> Response:
    return await sql_page(ctx)


async def run(ctx: Ctx) -> Response:
    form = ctx.req.form
    sql = form.get("sql", "")
    output: dict[str, str] | None = None
    if form.get("save") in ("csv", "parquet"):
        output = {"bucket": form.get("bucket", ""), "key": form.get("key", ""), "format": form["save"]}
    payload: dict[str, object] = {"sql": sql, "wait": WAIT_SECONDS}
    if output is not None:
        payload["output"] = output
    reply = await _api(ctx, "POST", "/query/jobs", payload=payload)
    if not reply.ok:
        code, message = _error(reply)
        return await sql_page(ctx, status=reply.status, error=f"{message} ({code})", sql=sql)
    return redirect(url(f"/sql/jobs/{_payload(reply)['id']}"))


async def job_page(ctx: Ctx) -> Response:
    job_id = ctx.params["job"]
    reply = await _api_ok(ctx, "GET", f"/query/jobs/{job_id}")
    job = _payload(reply)
    result: dict[str, Any] = {}
    if job.get("status") == "succeeded" and not (job.get("output") or {}).get("bucket"):
        got = await _api(ctx, "GET", f"/query/jobs/{job_id}/result", [("format", "json"),
                                                                     ("max_rows", str(RESULT_ROWS))])
        if got.ok:
            result = _payload(got)
    running = job.get("status") in ("queued", "running")
    return ctx.render("sql_job.html", section="sql", job=job, result=result, running=running,
                      shown=len(result.get("rows", [])), chart_json=json.dumps(result).replace("</", "<\\/"))


async def cancel(ctx: Ctx) -> Response:
    job_id = ctx.params["job"]
    await _api_ok(ctx, "POST", f"/query/jobs/{job_id}/cancel")
    return redirect(url(f"/sql/jobs/{job_id}", notice=ctx._("Cancelled.")))


async def _csv(ctx: Ctx, job_id: str) -> bytes:
    reply = await _api_ok(ctx, "GET", f"/query/jobs/{job_id}/result", [("format", "csv")])
    return reply.body


async def export_csv(ctx: Ctx) -> Response:
    job_id = ctx.params["job"]
    body = await _csv(ctx, job_id)
    name = quote(f"result-{job_id}.csv")
    return Response(200, body, "text/csv; charset=utf-8",
                    [("content-disposition", f"attachment; filename*=UTF-8''{name}")])


async def save(ctx: Ctx) -> Response:
    """Save the result (CSV) as an object, with the user's own S3 PutObject."""
    job_id = ctx.params["job"]
    bucket, key = ctx.req.form.get("bucket", "").strip(), ctx.req.form.get("key", "").strip()
    if not bucket or not key:
        raise HTTPError(400, ctx._("Give a bucket and a key to save the result to."))
    body = await _csv(ctx, job_id)
    try:
        await ctx.must("PUT", bucket, key, body=body, headers=[("content-type", "text/csv")])
    except S3Failure as exc:
        raise HTTPError(exc.status, ctx._("The result was not saved: {message} ({code})",
            message=exc.message, code=exc.code)) from exc
    return redirect(url(f"/sql/jobs/{job_id}", notice=ctx._("Saved as {url}.", url=f"s3://{bucket}/{key}")))


ROUTES = [
    Route("GET", r"/sql", sql_home),
    Route("POST", r"/sql/run", run),
    Route("GET", JOB_RE, job_page),
    Route("POST", JOB_RE + r"/cancel", cancel),
    Route("GET", JOB_RE + r"/result\.csv", export_csv),
    Route("POST", JOB_RE + r"/save", save),
]


async def quick_query(ctx: Ctx, sql: str, max_rows: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run ``sql`` as a SQL job of the user, waiting for it a few seconds: (the job, its JSON result, empty
    while the job runs or when it failed). For previews of tables stored as objects."""
    reply = await _api(ctx, "POST", "/query/jobs", payload={"sql": sql, "wait": WAIT_SECONDS})
    job = _payload(reply)
    if not reply.ok:
        code, message = _error(reply)
        return {"status": "failed", "error": {"code": code, "message": message}}, {}
    if job.get("status") != "succeeded":
        return job, {}
    got = await _api(ctx, "GET", f"/query/jobs/{job['id']}/result", [("format", "json"), ("max_rows", str(max_rows))])
    return job, (_payload(got) if got.ok else {})
