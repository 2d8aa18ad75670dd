"""What the access decision reads: the core services, as any composition hands them over (the S3
protocol's services, the console's, a background job's)."""

from __future__ import annotations

from typing import Protocol

from nuage.core.buckets import BucketService
from nuage.core.identities import Identities
from nuage.core.objects import ObjectService


class AccessServices(Protocol):
    @property
    def buckets(self) -> BucketService: ...

    @property
    def objects(self) -> ObjectService: ...

    @property
    def identities(self) -> Identities: ...
