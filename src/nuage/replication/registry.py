"""The region registry: the regions this deployment knows, from a small JSON file shared by them.

    {"regions": [
        {"name": "cn-hangzhou", "endpoint": "http://127.0.0.1:9000",
         "access_key": "HANGZHOUREPLICATION1", "secret_key": "...", "accept_from": []},
        {"name": "us-west-1", "endpoint": "http://127.0.0.1:9001",
         "access_key": "USWEST1REPLICATION01", "secret_key": "...", "accept_from": ["cn-hangzhou"]}
    ]}

``access_key``/``secret_key`` is the key a region signs its outgoing replication requests with;
the other regions check those signatures against the same file. ``accept_from`` lists the regions
whose replicas a region accepts (residency: anything else gets AccessDenied); empty accepts none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class RegionEntry:
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    accept_from: frozenset[str]


@dataclass(frozen=True)
class Registry:
    own: RegionEntry
    regions: dict[str, RegionEntry]

    @property
    def peers(self) -> list[RegionEntry]:
        return [r for r in self.regions.values() if r.name != self.own.name]

    def by_access_key(self, access_key: str) -> RegionEntry | None:
        return next((r for r in self.regions.values() if r.access_key == access_key), None)

    def secret(self, access_key: str) -> str | None:
        entry = self.by_access_key(access_key)
        return entry.secret_key if entry else None

    def accepts(self, sender: str) -> bool:
        """Whether this region takes replicas sent by region ``sender``."""
        return sender == self.own.name or sender in self.own.accept_from


def _entry(doc: Any) -> RegionEntry:
    if not isinstance(doc, dict):
        raise RegistryError("each region is an object")
    try:
        name, endpoint = str(doc["name"]), str(doc["endpoint"]).rstrip("/")
        access, secret = str(doc["access_key"]), str(doc["secret_key"])
    except KeyError as exc:
        raise RegistryError(f"a region lacks {exc.args[0]}") from None
    if not endpoint.startswith(("http://", "https://")):
        raise RegistryError(f"the endpoint of {name} must be an http:// or https:// URL")
    accept = doc.get("accept_from", [])
    if not isinstance(accept, list):
        raise RegistryError(f"accept_from of {name} must be a list of region names")
    return RegionEntry(name, endpoint, access, secret, frozenset(str(a) for a in accept))


def parse_registry(text: str, own: str) -> Registry:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RegistryError(f"the region registry is not valid JSON: {exc}") from None
    items = doc.get("regions") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise RegistryError('the region registry needs a "regions" list')
    regions: dict[str, RegionEntry] = {}
    for item in items:
        entry = _entry(item)
        if entry.name in regions:
            raise RegistryError(f"region {entry.name} is listed twice")
        regions[entry.name] = entry
    keys = [r.access_key for r in regions.values()]
    if len(set(keys)) != len(keys):
        raise RegistryError("two regions share a replication access key")
    if own not in regions:
        raise RegistryError(f"this region ({own}) is not in the region registry")
    return Registry(regions[own], regions)


def load_registry(path: Path, own: str) -> Registry:
    return parse_registry(path.read_text(), own)
