"""Bucket configurations (tagging, policy, CORS, lifecycle, ...): one :class:`ConfigKind` per kind, with
the name its document is stored under and the typed codec between the value and the stored text.

The metadata store keeps each configuration as text under ``(bucket, kind name)``; everything above it
reads and writes typed values through :func:`read` and :func:`write` (or BucketService, which adds the
bucket's existence check). A configuration that was never set reads as None; where an operation needs
one, :meth:`ConfigKind.missing` is the one "not configured" error, which each API answers in its own
words (the S3 layer maps every kind in ``nuage.s3.errors.CONFIG_MISSING``).

Adding a kind: a ``ConfigKind`` beside its model (its name is stored: never rename one), an entry in
``CONFIG_MISSING`` if S3 has an answer for its absence, and the handlers that translate its XML.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nuage.core.sse import SSESpec
from nuage.errors import NoSuchBucketConfig
from nuage.storage.meta.base import MetadataStore

T = TypeVar("T")

_KINDS: dict[str, ConfigKind[Any]] = {}


@dataclass(frozen=True, eq=False)
class ConfigKind(Generic[T]):
    """A kind of bucket configuration. ``name`` is the stored kind (data folders and databases hold
    it); ``dumps`` and ``loads`` turn a value into its stored text and back. ``absent`` says what a
    bucket without the document has, for a kind whose absence is a setting of its own (None: the
    kind is "not configured", an error where an operation needs it)."""

    name: str
    dumps: Callable[[T], str]
    loads: Callable[[str], T]
    absent: str | None = None

    def __post_init__(self) -> None:
        if self.name in _KINDS:
            raise ValueError(f"two bucket configuration kinds are named {self.name!r}")
        _KINDS[self.name] = self

    def missing(self, bucket: str) -> NoSuchBucketConfig:
        """The error of an operation that needs this configuration on a bucket that has none."""
        err = NoSuchBucketConfig(self.name)
        err.details["bucket"] = bucket
        return err

    def __repr__(self) -> str:
        return f"ConfigKind({self.name!r})"


def kinds() -> dict[str, ConfigKind[Any]]:
    """Every kind defined so far, by stored name (the modules that define them must be imported)."""
    return dict(_KINDS)


async def read(meta: MetadataStore, bucket: str, kind: ConfigKind[T]) -> T | None:
    """A bucket's configuration of one kind (None: not set). No existence check of the bucket: the
    store's config cache answers the hot paths (authorization, CORS) without a query."""
    text = await meta.get_bucket_config(bucket, kind.name)
    return kind.loads(text) if text is not None else None


async def write(meta: MetadataStore, bucket: str, kind: ConfigKind[T], value: T | None) -> None:
    """Set (or with None remove) a bucket's configuration of one kind."""
    await meta.put_bucket_config(bucket, kind.name, kind.dumps(value) if value is not None else None)


def _text(value: str) -> str:
    return value


def _tags_loads(text: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in json.loads(text).items()}


def _flags_loads(text: str) -> dict[str, bool]:
    """A public access block as stored; a document that is not an object blocks nothing."""
    try:
        doc = json.loads(text)
    except ValueError:
        return {}
    return {str(k): bool(v) for k, v in doc.items()} if isinstance(doc, dict) else {}


def _object_loads(text: str) -> dict[str, Any]:
    return dict(json.loads(text))


#: The bucket's tags (JSON object of key to value).
TAGGING: ConfigKind[dict[str, str]] = ConfigKind("tagging", json.dumps, _tags_loads)
#: The bucket policy, kept as the text the owner sent (its JSON is checked when set).
POLICY: ConfigKind[str] = ConfigKind("policy", _text, _text)
#: The static website configuration (JSON object of the parsed XML).
WEBSITE: ConfigKind[dict[str, Any]] = ConfigKind("website", json.dumps, _object_loads)
#: The object ownership mode (BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter).
OWNERSHIP: ConfigKind[str] = ConfigKind("ownershipControls", _text, _text)
#: The public access block flags that are given (JSON object of flag to bool).
PUBLIC_BLOCK: ConfigKind[dict[str, bool]] = ConfigKind("publicAccessBlock", json.dumps, _flags_loads)
#: The bucket ACL: a canned name or encoded grants; a bucket without one is private.
ACL: ConfigKind[str] = ConfigKind("acl", _text, _text, absent="private")
#: The bucket's default encryption.
ENCRYPTION: ConfigKind[SSESpec] = ConfigKind("encryption", SSESpec.to_config, SSESpec.from_config)
