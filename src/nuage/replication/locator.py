"""Where a bucket lives: here, or in a peer region of the registry (asked only on a local miss, and
cached), so that requests for another region's bucket get a PermanentRedirect and replication knows
where to ship."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import quote, urlsplit

from nuage.core.replication import BucketPlace, encode_wire
from nuage.core.replication_consent import Source
from nuage.replication.app import CONSENT_HEADER, PREFIX
from nuage.replication.client import HTTPClient, TransportError
from nuage.replication.registry import RegionEntry, Registry
from nuage.replication.signing import sign
from nuage.storage.meta.base import MetadataStore

FOUND_TTL = 60.0
MISSING_TTL = 2.0
LOOKUP_PATH = PREFIX + "bucket/"
CONSENT_PATH = PREFIX + "consent/"


class Locator:
    def __init__(self, registry: Registry, meta: MetadataStore, client: HTTPClient) -> None:
        self.registry = registry
        self.region = registry.own.name
        self.meta = meta
        self.client = client
        self._cache: dict[str, tuple[BucketPlace | None, float]] = {}

    async def locate(self, bucket: str) -> BucketPlace | None:
        """Here first, then (cached) the peers."""
        rec = await self.meta.get_bucket(bucket)
        if rec is not None:
            return BucketPlace(bucket, self.region, self.registry.own.endpoint, rec.versioning)
        return await self.elsewhere(bucket)

    async def elsewhere(self, bucket: str) -> BucketPlace | None:
        hit = self._cache.get(bucket)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return await self.remote(bucket)

    async def remote(self, bucket: str) -> BucketPlace | None:
        """Ask every peer now (no cache); the answer is cached for ``elsewhere``."""
        answers = await asyncio.gather(*(self._ask(peer, bucket) for peer in self.registry.peers))
        place = next((a for a in answers if a is not None), None)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[bucket] = (place, time.monotonic() + (FOUND_TTL if place else MISSING_TTL))
        return place

    async def consent(self, place: BucketPlace, source: Source, actions: list[str], resource: str,
                      ) -> tuple[str, str] | None:
        """Ask the region holding ``place`` (now, never cached: a grant may be withdrawn at any time)
        whether its bucket's owner lets ``source`` do ``actions``; None when it does."""
        peer = self.registry.regions.get(place.region)
        if peer is None:
            return "ServiceUnavailable", f"The region {place.region} is not in the region registry."
        path = CONSENT_PATH + quote(place.bucket)
        own = self.registry.own
        query = encode_wire({"source": source.to_wire(), "actions": actions, "resource": resource})
        headers = sign("GET", urlsplit(peer.endpoint).netloc, path, {CONSENT_HEADER: query},
                       access_key=own.access_key, secret_key=own.secret_key, region=peer.name)
        try:
            response = await self.client.request("GET", peer.endpoint + path, headers)
        except TransportError:
            return "ServiceUnavailable", f"The region {peer.name} of the destination bucket cannot be reached."
        if response.status == 200:
            return None
        try:
            doc = json.loads(response.body)
            return str(doc["code"]), str(doc["message"])
        except (ValueError, KeyError, TypeError):
            return "ServiceUnavailable", f"The region {peer.name} answered HTTP {response.status}."

    def forget(self, bucket: str) -> None:
        self._cache.pop(bucket, None)

    async def _ask(self, peer: RegionEntry, bucket: str) -> BucketPlace | None:
        path = LOOKUP_PATH + quote(bucket)
        own = self.registry.own
        headers = sign("GET", urlsplit(peer.endpoint).netloc, path, {}, access_key=own.access_key,
                       secret_key=own.secret_key, region=peer.name)
        try:
            response = await self.client.request("GET", peer.endpoint + path, headers)
        except TransportError:
            return None
        if response.status != 200:
            return None
        try:
            doc = json.loads(response.body)
            return BucketPlace(bucket, str(doc["region"]), peer.endpoint, str(doc["versioning"]))
        except (ValueError, KeyError, TypeError):
            return None
