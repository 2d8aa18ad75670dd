"""Plain records that the metadata store reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from nuage.storage.meta.extra import Facts
from nuage.types import BucketName, ObjectKey, VersionId


@dataclass(frozen=True)
class BucketRecord:
    name: BucketName
    owner: str
    region: str
    created: float
    versioning: str = ""          # "" (never enabled), "Enabled" or "Suspended"
    object_lock: bool = False


@dataclass
class Segment:
    blob: str
    size: int
    crc: int | None = None         # CRC32C of the whole blob as stored (None: written before blobs had one)
    # a new blob's chunk CRCs (see nuage.storage.blobs.integrity), kept by the commit in a table of their
    # own; records read back never carry them (range reads look them up)
    chunk_crcs: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class ObjectRecord:
    bucket: BucketName
    key: ObjectKey
    version_id: VersionId
    size: int
    etag: str                      # without quotes: hex md5, or hex-N for multipart
    last_modified: float
    owner: str
    delete_marker: bool = False
    is_latest: bool = True
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)      # content-encoding, cache-control, ...
    user_meta: dict[str, str] = field(default_factory=dict)    # x-amz-meta-* without the prefix
    checksums: dict[str, str] = field(default_factory=dict)    # algorithm -> base64 value
    checksum_type: str | None = None                           # FULL_OBJECT or COMPOSITE
    part_sizes: list[int] | None = None                        # multipart objects: each part's size
    part_checksums: list[dict[str, str]] | None = None
    segments: list[Segment] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    extra: dict[str, str] = field(default_factory=dict)        # acl, retention, legal hold, ...: see extra.py
    seq: int = 0

    @property
    def facts(self) -> Facts:
        """``extra`` read as typed facts."""
        return Facts(self.extra)


@dataclass
class UploadRecord:
    upload_id: str
    bucket: BucketName
    key: ObjectKey
    initiated: float
    owner: str
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    user_meta: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    storage_class: str = "STANDARD"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def facts(self) -> Facts:
        return Facts(self.extra)


@dataclass
class PartRecord:
    upload_id: str
    part_number: int
    size: int
    etag: str
    last_modified: float
    blob: str
    checksums: dict[str, str] = field(default_factory=dict)
    crc: int | None = None         # CRC32C of the part's blob as stored
    chunk_crcs: bytes | None = field(default=None, repr=False, compare=False)   # as Segment's


@dataclass
class WriteCondition:
    """Conditional write: If-None-Match (``*`` or ETags) and/or If-Match, checked inside the commit."""

    if_none_match: str | None = None
    if_match: str | None = None


@dataclass
class ListPage:
    objects: list[ObjectRecord]
    prefixes: list[str]
    truncated: bool
    next_marker: str | None        # the key (or common prefix) to continue after


@dataclass
class VersionPage:
    versions: list[ObjectRecord]
    prefixes: list[str]
    truncated: bool
    next_key_marker: str | None
    next_version_marker: str | None


@dataclass
class UploadPage:
    uploads: list[UploadRecord]
    prefixes: list[str]
    truncated: bool
    next_key_marker: str | None
    next_upload_marker: str | None


@dataclass(frozen=True)
class ScrubItem:
    """One blob a scrub checks: an object version's segment, or a part of an upload in progress."""

    seq: int | None               # the object row (None for a part)
    bucket: str
    key: str
    version_id: str               # the upload id for a part
    blob: str                     # a blob id, or an inline id (the bytes kept in the row)
    crc: int | None               # None: written before blobs had a CRC (cannot be checked)
    quarantined: bool = False
