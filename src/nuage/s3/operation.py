"""What an S3 operation is, as one typed row: how a request matches it, what runs it, what it needs.

The rows themselves are the table of :mod:`nuage.s3.operations`; the router picks a row, and the app,
authorization, metering and audit read their facts from it rather than from tables keyed by a name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from nuage.core.policy.actions import Level
from nuage.s3.context import BucketHandler, ObjectHandler, ServiceHandler, Services
from nuage.s3.http import Request, Response


class Target(Enum):
    """What the address names: the service (``/``), a bucket, or an object of a bucket."""

    SERVICE = "service"
    BUCKET = "bucket"
    OBJECT = "object"


class Access(Enum):
    """How a request for the operation is authenticated and authorized."""

    SIGNED = "signed"   # authenticated, then decided by the policy engine on the row's action
    OWNER = "owner"     # not implemented here: the bucket owner's root user is told so (501), others are denied
    FORM = "form"       # a browser upload: its handler authorizes it from the signed form (PostObject)
    NONE = "none"       # a CORS preflight: neither authenticated nor authorized, as on S3


class AccessLevel(Enum):
    """The access level of the row's IAM action, as the Service Authorization Reference lists it."""

    LIST = "List"
    READ = "Read"
    WRITE = "Write"
    PERMISSIONS = "Permissions management"
    TAGGING = "Tagging"


class Metering(Enum):
    """The request class a bill counts the operation in (S3's and OSS's price lists)."""

    TIER1 = "tier1"     # PUT, COPY, POST and LIST requests
    TIER2 = "tier2"     # GET, SELECT, HEAD and every other request
    FREE = "free"       # DELETE and abort: not charged


AnyHandler = ServiceHandler | BucketHandler | ObjectHandler
Runner = Callable[[Services, Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One S3 operation.

    Matching: ``method`` on ``target``, when the query parameter ``query`` and the header ``header`` are
    present (None: not required); the table is read in order and the first row that matches wins.
    ``handler`` takes ``(svc, req)`` for the service, ``(svc, req, bucket)`` for a bucket and
    ``(svc, req, bucket, key)`` for an object; ``runner`` calls it with the request's address (the table
    builds both from the handler, so they cannot disagree).
    ``action`` is the IAM action the request needs and ``resource`` the kind of ARN it applies to;
    :func:`nuage.core.policy.required_permissions` adds what depends on the request (versions, copy
    source, ACL and tagging headers).
    """

    name: str
    method: str
    target: Target
    handler: AnyHandler
    runner: Runner                  # the handler, called with the address its target needs
    action: str
    resource: Level
    access_level: AccessLevel
    metering: Metering
    query: str | None = None
    header: str | None = None
    access: Access = Access.SIGNED
    reads_body: bool = False        # the request carries a body the handler reads
    data_event: bool = False        # audited as a data event (an object's bytes or listing), not management
    copies: bool = False            # reads the object named by x-amz-copy-source (s3:GetObject on it too)
    creates_object: bool = False    # writes a new object or upload: may carry x-amz-acl, grants and tags
    lists: bool = False             # a listing: s3:prefix, s3:delimiter and s3:max-keys condition keys
    per_key: bool = False           # authorized key by key by its handler once the body is read
    expiration_header: bool = False  # answers x-amz-expiration when a lifecycle rule expires the object

    @property
    def implemented(self) -> bool:
        return self.access is not Access.OWNER

    async def run(self, svc: Services, req: Request) -> Response:
        """Call the handler with the request's bucket and key, as its target needs them."""
        return await self.runner(svc, req)



def service_runner(handler: ServiceHandler) -> Runner:
    return handler


def bucket_runner(handler: BucketHandler) -> Runner:
    async def run(svc: Services, req: Request) -> Response:
        if req.bucket is None:
            raise ValueError("a bucket operation routed without a bucket")
        return await handler(svc, req, req.bucket)
    return run


def object_runner(handler: ObjectHandler) -> Runner:
    async def run(svc: Services, req: Request) -> Response:
        if req.bucket is None or req.key is None:
            raise ValueError("an object operation routed without a bucket and a key")
        return await handler(svc, req, req.bucket, req.key)
    return run
