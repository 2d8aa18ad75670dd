"""Domain errors raised by core and storage. They know nothing of HTTP or S3 codes;
``nuage.s3.errors`` maps each to the S3 error that AWS sends."""

from __future__ import annotations


class NuageError(Exception):
    """Base of every domain error; ``message`` is safe to show to the caller."""

    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None, **details: str) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class BucketNotFound(NuageError):
    default_message = "The specified bucket does not exist"


class BucketAlreadyExists(NuageError):
    default_message = (
        "The requested bucket name is not available. The bucket namespace is shared by all users "
        "of the system. Please select a different name and try again."
    )


class BucketAlreadyOwnedByYou(NuageError):
    default_message = "Your previous request to create the named bucket succeeded and you already own it."


class BucketNotEmpty(NuageError):
    default_message = "The bucket you tried to delete is not empty"


class InvalidBucketName(NuageError):
    default_message = "The specified bucket is not valid."


class KeyNotFound(NuageError):
    default_message = "The specified key does not exist."


class VersionNotFound(NuageError):
    default_message = "The specified version does not exist."


class DeleteMarkerTarget(NuageError):
    """The version addressed is a delete marker (GET/HEAD answer 405 with headers)."""

    default_message = "The specified method is not allowed against this resource."

    def __init__(self, version_id: str, last_modified: float, message: str | None = None) -> None:
        super().__init__(message)
        self.version_id = version_id
        self.last_modified = last_modified


class CurrentIsDeleteMarker(NuageError):
    """GET/HEAD without versionId hit a delete marker: 404 with x-amz-delete-marker."""

    default_message = "The specified key does not exist."

    def __init__(self, version_id: str, message: str | None = None) -> None:
        super().__init__(message)
        self.version_id = version_id


class PreconditionFailed(NuageError):
    default_message = "At least one of the pre-conditions you specified did not hold"


class NotModified(NuageError):
    default_message = "Not Modified"

    def __init__(self, etag: str, last_modified: float) -> None:
        super().__init__()
        self.etag = etag
        self.last_modified = last_modified


class ConditionalRequestConflict(NuageError):
    default_message = "A conflicting operation occurred. If using PutObject you can retry the request."


class InvalidRange(NuageError):
    default_message = "The requested range is not satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size


class UploadNotFound(NuageError):
    default_message = (
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed."
    )


class InvalidPart(NuageError):
    default_message = (
        "One or more of the specified parts could not be found. The part may not have been uploaded, "
        "or the specified entity tag may not match the part's entity tag."
    )


class InvalidPartOrder(NuageError):
    default_message = "The list of parts was not in ascending order. Parts must be ordered by part number."


class EntityTooSmall(NuageError):
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class EntityTooLarge(NuageError):
    default_message = "Your proposed upload exceeds the maximum allowed object size."


class BadDigest(NuageError):
    default_message = "The Content-MD5 you specified did not match what we received."


class ChecksumMismatch(NuageError):
    """An x-amz-checksum-* value does not match the bytes received."""

    default_message = "The {algorithm} you specified did not match the calculated checksum."


class ContentSHA256Mismatch(NuageError):
    default_message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class IncompleteBody(NuageError):
    default_message = "You did not provide the number of bytes specified by the Content-Length HTTP header"


class InvalidArgument(NuageError):
    default_message = "Invalid Argument"


class InvalidRequest(NuageError):
    default_message = "Invalid Request"


class InvalidRetentionPeriod(InvalidArgument):
    """A default retention period that is not positive or exceeds the limit."""


class InvalidLocation(InvalidArgument):
    """A location constraint this region cannot serve."""


class InvalidVersioningStatus(InvalidArgument):
    """A versioning status other than Enabled or Suspended: the document itself is wrong."""


class InvalidBucketState(InvalidRequest):
    """The request conflicts with the bucket's present state (versioning, Object Lock, replication)."""


class MalformedDocument(InvalidRequest):
    """A request document lacks a part its schema requires (no rule, no part)."""


class InvalidReplicationRule(InvalidRequest):
    """A replication rule that is invalid alone or together with the others (ids, priorities, ARN)."""


class ReplicaBodyIncomplete(InvalidRequest):
    """The body of a replica does not have the size its record announces."""


class ContentDigestMismatch(InvalidRequest):
    """The whole object's checksum given at completion does not match the one computed from its parts."""


class MalformedXML(NuageError):
    default_message = (
        "The XML you provided was not well-formed or did not validate against our published schema"
    )


class InvalidTag(NuageError):
    default_message = "The TagKey you have provided is invalid"


class NoSuchTagSet(NuageError):
    default_message = "The TagSet does not exist"


class NoSuchBucketConfig(NuageError):
    """A bucket sub-resource (policy, cors, lifecycle, ...) that was never set."""

    default_message = "The configuration does not exist"

    def __init__(self, kind: str, message: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class KeyTooLong(NuageError):
    default_message = "Your key is too long"


class AccessDenied(NuageError):
    default_message = "Access Denied"


class QuotaExceeded(NuageError):
    default_message = "The quota of this bucket or tenant is exceeded."


class InvalidStorageClass(NuageError):
    default_message = "The storage class you specified is not valid"


class ObjectChanged(NuageError):
    """The version looked up was replaced (its bytes deleted) before reading them could begin."""

    default_message = "The object changed while it was being read. Please try again."


class ObjectCorrupt(NuageError):
    """The version's stored bytes failed their checksum (found by a read or a scrub): it is quarantined
    and refused until an operator restores or deletes it. Retrying cannot help."""

    default_message = "The object's stored data is damaged."


class ResponseAborted(Exception):
    """Raised by an ASGI app that ends a response it has started without completing it, on purpose (the
    client must see a cut body, never a complete one: damaged bytes found before the end). The app has
    logged why; the HTTP server closes the connection without a traceback."""
