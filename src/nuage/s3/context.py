"""What the S3 handlers are given: the services of the core and the server's settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nuage.config import Settings
from nuage.core.buckets import BucketService
from nuage.core.identities import Identities
from nuage.core.multipart import MultipartService
from nuage.core.objects import ObjectService
from nuage.core.replication import BucketLocator
from nuage.s3.http import Request, Response
from nuage.types import BucketName, ObjectKey


@dataclass
class Services:
    settings: Settings
    buckets: BucketService
    objects: ObjectService
    multipart: MultipartService
    identities: Identities
    locator: BucketLocator | None = None      # other regions' buckets (None: no region registry)


#: What runs an operation: given the request's bucket, or its bucket and key, when its target has them.
ServiceHandler = Callable[[Services, Request], Awaitable[Response]]
BucketHandler = Callable[[Services, Request, BucketName], Awaitable[Response]]
ObjectHandler = Callable[[Services, Request, BucketName, ObjectKey], Awaitable[Response]]
