"""What the S3 handlers are given: the services of the core and the server's settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nuage.config import Settings
from nuage.core.buckets import BucketService
from nuage.core.multipart import MultipartService
from nuage.core.objects import ObjectService
from nuage.s3.http import Request, Response


@dataclass
class Services:
    settings: Settings
    buckets: BucketService
    objects: ObjectService
    multipart: MultipartService
    lookup_secret: Callable[[str], str | None]
    lookup_owner: Callable[[str], tuple[str, str] | None]   # access key -> (owner id, display name)


Handler = Callable[[Services, Request], Awaitable[Response]]
