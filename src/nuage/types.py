"""Names for the values that travel between layers. No internal imports."""

from __future__ import annotations

from typing import NewType

BucketName = NewType("BucketName", str)
ObjectKey = NewType("ObjectKey", str)
VersionId = NewType("VersionId", str)
Region = NewType("Region", str)
BlobId = NewType("BlobId", str)

NULL_VERSION = VersionId("null")
NEW_VERSION = VersionId("")   # the version of a record not stored yet: the store gives it its id

VERSIONING_OFF = ""
VERSIONING_ENABLED = "Enabled"
VERSIONING_SUSPENDED = "Suspended"

MAX_KEY_BYTES = 1024
