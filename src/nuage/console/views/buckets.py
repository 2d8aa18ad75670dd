"""The buckets page: list (region, versioning, object count, size), create, delete, versioning on/off."""

from __future__ import annotations

import asyncio

from nuage import xml
from nuage.console import s3ops
from nuage.console.context import Ctx, Route
from nuage.console.gateway import S3Failure
from nuage.console.http import Response, redirect, url


async def _page(ctx: Ctx, status: int = 200, error: str = "", name: str = "") -> Response:
    buckets = await s3ops.list_buckets(ctx)

    async def fill(b: s3ops.Bucket) -> None:
        if not b.region:
            b.region = await s3ops.bucket_region(ctx, b.name)
        b.versioning = await s3ops.bucket_versioning(ctx, b.name)
        b.replication = await s3ops.bucket_replication(ctx, b.name)
        b.bytes, b.objects = await ctx.console.meta.bucket_usage(b.name)
        b.may_delete = await ctx.can("DeleteBucket", b.name)
        b.may_version = await ctx.can("PutBucketVersioning", b.name)

    await asyncio.gather(*(fill(b) for b in buckets))
    return ctx.render("buckets.html", status=status, buckets=buckets, error=error, name=name,
                      regions=ctx.console.regions, other_regions=ctx.console.other_regions,
                      may_create=await ctx.can("CreateBucket"))


async def buckets_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def create(ctx: Ctx) -> Response:
    name = ctx.req.form.get("name", "").strip()
    region = ctx.req.form.get("region", "") or ctx.console.regions[0]
    body = b""
    if region != "us-east-1":
        doc = xml.root("CreateBucketConfiguration")
        xml.sub(doc, "LocationConstraint", region)
        body = xml.render(doc)
    try:
        await ctx.must("PUT", name, body=body)
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._(
            "The bucket was not created: {message} ({code})", message=exc.message, code=exc.code),
                           name=name)
    return redirect(url("/buckets", notice=ctx._("Bucket {name} created.", name=name)))


async def delete(ctx: Ctx) -> Response:
    name = ctx.req.form.get("bucket", "")
    try:
        await ctx.must("DELETE", name)
    except S3Failure as exc:
        reason = (ctx._("The bucket {name} is not empty: delete its objects (and their versions) first, "
                        "then the bucket.").format(name=name)
                  if exc.code == "BucketNotEmpty" else
                  ctx._("The bucket {name} was not deleted: {message} ({code})",
                      name=name, message=exc.message, code=exc.code))
        return await _page(ctx, status=exc.status, error=reason)
    return redirect(url("/buckets", notice=ctx._("Bucket {name} deleted.", name=name)))


async def versioning(ctx: Ctx) -> Response:
    name = ctx.req.form.get("bucket", "")
    status = "Enabled" if ctx.req.form.get("status") == "Enabled" else "Suspended"
    doc = xml.root("VersioningConfiguration")
    xml.sub(doc, "Status", status)
    try:
        await ctx.must("PUT", name, query=[("versioning", "")], body=xml.render(doc))
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._(
            "Versioning was not changed: {message}", message=exc.message))
    return redirect(url("/buckets", notice=ctx._("Versioning of {name}: {status}.", name=name, status=ctx._(status))))


ROUTES = [
    Route("GET", r"/buckets", buckets_page),
    Route("POST", r"/buckets/create", create),
    Route("POST", r"/buckets/delete", delete),
    Route("POST", r"/buckets/versioning", versioning),
]
