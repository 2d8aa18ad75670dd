"""Service and bucket operations: ListBuckets, Create/Head/DeleteBucket, location, versioning, tagging."""

from __future__ import annotations

import base64
import binascii
import re

from nuage import errors as d
from nuage.core.bucket_config import ACL, OWNERSHIP, TAGGING
from nuage.s3 import errors as e
from nuage.s3.acl_headers import stored_from_headers
from nuage.s3.context import Services
from nuage.s3.handlers.common import MAX_TAGS_BUCKET, int_param, owner_el, parse_tagging, render_tagging, xml_body
from nuage.s3.headers import iso_date
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import child_text, render, root, sub

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$|^EU$")



async def list_buckets(svc: Services, req: Request) -> Response:
    """ListBuckets, in name order, with prefix, bucket-region, max-buckets and continuation-token."""
    prefix = req.query.get("prefix", "")
    region = req.query.get("bucket-region")
    max_buckets = int_param(req, "max-buckets", MAX_BUCKETS, lo=1)
    if max_buckets > MAX_BUCKETS:
        raise e.InvalidArgument("max-buckets must be between 1 and 10000", ArgumentName="max-buckets",
                                ArgumentValue=str(max_buckets))
    token = req.query.get("continuation-token")
    after = _untoken(token) if token else None
    doc = root("ListAllMyBucketsResult")
    owner_el(doc, req.owner_id, req.owner_name)
    items = sub(doc, "Buckets")
    listed = [b for b in await svc.buckets.list(req.owner_id)
              if b.name.startswith(prefix) and (region is None or b.region == region)
              and (after is None or b.name > after)]
    for b in listed[:max_buckets]:
        el = sub(items, "Bucket")
        sub(el, "Name", b.name)
        sub(el, "CreationDate", iso_date(b.created))
        sub(el, "BucketRegion", b.region)
    if len(listed) > max_buckets:
        sub(doc, "ContinuationToken", _token(listed[max_buckets - 1].name))
    if prefix:
        sub(doc, "Prefix", prefix)
    return xml_response(render(doc))


MAX_BUCKETS = 10000


def _token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _untoken(token: str) -> str:
    try:
        name = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise e.InvalidArgument("The continuation token provided is incorrect",
                                ArgumentName="continuation-token") from exc
    if not name:
        raise e.InvalidArgument("The continuation token provided is incorrect", ArgumentName="continuation-token")
    return name


async def create_bucket(svc: Services, req: Request, bucket: BucketName) -> Response:
    name = bucket
    location: str | None = None
    el = await xml_body(req, required=False)
    if el is not None:
        if el.tag != "CreateBucketConfiguration":
            raise e.MalformedXML()
        location = child_text(el, "LocationConstraint")
        if location == "":
            location = None
    lock = req.headers.get("x-amz-bucket-object-lock-enabled", "").lower() == "true"
    ownership = req.headers.get("x-amz-object-ownership")
    if ownership is not None and ownership not in ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"):
        raise e.InvalidArgument(ArgumentName="x-amz-object-ownership", ArgumentValue=ownership)
    canned = await stored_from_headers(svc, req.headers) or "private"
    if ownership == "BucketOwnerEnforced" and canned not in ("private", "bucket-owner-full-control"):
        raise e.InvalidBucketAclWithObjectOwnership()
    if svc.locator is not None and await svc.buckets.find(name) is None and await svc.locator.remote(name):
        raise e.BucketAlreadyExists()          # one bucket namespace across the regions of the registry
    created = False
    try:
        await svc.buckets.create(name, req.owner_id, location, object_lock=lock, acl=canned)
        created = True
    except d.InvalidLocation as exc:
        if location is not None and _REGION_RE.match(location):
            raise e.IllegalLocationConstraintException(
                f"The {location} location constraint is incompatible for the region specific endpoint "
                "this request was sent to.") from exc
        raise e.InvalidLocationConstraint(exc.message) from exc
    except d.BucketAlreadyOwnedByYou:
        # us-east-1 keeps the legacy answer: re-creating your own bucket succeeds, unless it asks
        # for a different ACL than the bucket has.
        if svc.settings.region != "us-east-1":
            raise
        if (await svc.buckets.config(name, ACL) or ACL.absent) != canned:
            raise e.BucketAlreadyExists() from None
    if created and ownership is not None:
        await svc.buckets.set_config(name, OWNERSHIP, ownership)
    return empty(200, [("location", f"/{name}")])


async def head_bucket(svc: Services, req: Request, bucket: BucketName) -> Response:
    b = await svc.buckets.get(bucket)
    return empty(200, [("x-amz-bucket-region", b.region)])


async def delete_bucket(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.delete(bucket)
    return empty(204)


async def get_location(svc: Services, req: Request, bucket: BucketName) -> Response:
    b = await svc.buckets.get(bucket)
    doc = root("LocationConstraint")
    if b.region != "us-east-1":
        doc.text = b.region
    return xml_response(render(doc))


async def get_versioning(svc: Services, req: Request, bucket: BucketName) -> Response:
    b = await svc.buckets.get(bucket)
    doc = root("VersioningConfiguration")
    if b.versioning:
        sub(doc, "Status", b.versioning)
    return xml_response(render(doc))


async def put_versioning(svc: Services, req: Request, bucket: BucketName) -> Response:
    name = bucket
    await svc.buckets.get(name)
    el = await xml_body(req)
    assert el is not None
    if el.tag != "VersioningConfiguration":
        raise e.MalformedXML()
    status = child_text(el, "Status")
    mfa = child_text(el, "MfaDelete")
    if mfa not in (None, "Disabled", "Enabled"):
        raise e.MalformedXML()
    if status is None:
        return empty(200)
    if status not in ("Enabled", "Suspended"):
        raise e.MalformedXML()
    await svc.buckets.set_versioning(name, status)
    return empty(200)


async def get_tagging(svc: Services, req: Request, bucket: BucketName) -> Response:
    tags = await svc.buckets.require(bucket, TAGGING)
    return xml_response(render(render_tagging(tags)))


async def put_tagging(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    el = await xml_body(req)
    assert el is not None
    await svc.buckets.set_config(bucket, TAGGING, parse_tagging(el, MAX_TAGS_BUCKET))
    return empty(204)


async def delete_tagging(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.set_config(bucket, TAGGING, None)
    return empty(204)
