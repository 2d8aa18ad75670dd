"""The facts an object version (or an upload) carries beside its bytes, typed.

They are stored as a flat text map, ``ObjectRecord.extra`` / ``UploadRecord.extra`` (a JSON column of the
metadata store), under keys that have not changed since they were first written: this module is the only
place that knows those keys. Read a record's facts with :class:`Facts` (``rec.facts``); write them with
the ``*_entries`` functions, whose maps go into a new record's ``extra`` or, with None for "remove", into
``MetadataStore.update_object_extra``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

ACL = "acl"                           # canned ACL name or JSON grants (nuage.core.acl)
LOCK_MODE = "lock-mode"               # Object Lock retention: GOVERNANCE or COMPLIANCE
LOCK_UNTIL = "lock-until"             # ... and its retain-until date (ISO 8601, milliseconds)
LEGAL_HOLD = "legal-hold"             # ON or OFF
REPLICATION = "repl"                  # replication status: PENDING, COMPLETED, FAILED or REPLICA
REPLICATED_SSE = "replicated-sse"     # a replica's source encryption: JSON [algorithm, kms key id, bucket key]
QUARANTINED = "quarantined"           # when the version's bytes were found damaged (repr of a Unix time)
UPLOAD_ID = "upload-id"               # the multipart upload a version was completed from
SSE_ALGORITHM = "sse"                 # AES256, aws:kms, aws:kms:dsse or SSE-C
SSE_KMS_KEY_ID = "sse-kms-key-id"
SSE_BUCKET_KEY = "sse-bucket-key"     # "true" when the client asked for an S3 Bucket Key
SSE_WRAPPED_KEY = "sse-key"           # base64(nonce || AES-GCM(wrapping key, data key))
SSE_CUSTOMER_MD5 = "sse-c-key-md5"    # base64 MD5 of the customer key, as S3 echoes it
SSE_CUSTOMER_MAC = "sse-c-key-hmac"   # base64(salt || HMAC-SHA256(salt, customer key))
SSE_FORMAT = "sse-format"             # how the blobs are encrypted: "gcm" (absent: AES-CTR, written before)
SSE_KEYS = (SSE_ALGORITHM, SSE_KMS_KEY_ID, SSE_BUCKET_KEY, SSE_WRAPPED_KEY, SSE_CUSTOMER_MD5, SSE_CUSTOMER_MAC,
            SSE_FORMAT)
FORMAT_GCM = "gcm"

PENDING, COMPLETED, FAILED, REPLICA = "PENDING", "COMPLETED", "FAILED", "REPLICA"


@dataclass(frozen=True, slots=True)
class Sse:
    """How a version's bytes are encrypted: the algorithm and the wrapped data key."""

    algorithm: str
    wrapped_key: str = ""
    kms_key_id: str | None = None
    bucket_key: bool = False
    customer_md5: str | None = None
    customer_mac: str | None = None
    gcm: bool = False               # sealed chunk by chunk with AES-GCM (else AES-CTR, written before)

    def entries(self) -> dict[str, str]:
        out = {SSE_ALGORITHM: self.algorithm}
        if self.gcm:
            out[SSE_FORMAT] = FORMAT_GCM
        for key, value in ((SSE_CUSTOMER_MD5, self.customer_md5), (SSE_CUSTOMER_MAC, self.customer_mac),
                           (SSE_KMS_KEY_ID, self.kms_key_id)):
            if value is not None:
                out[key] = value
        if self.bucket_key:
            out[SSE_BUCKET_KEY] = "true"
        if self.wrapped_key:
            out[SSE_WRAPPED_KEY] = self.wrapped_key
        return out


@dataclass(frozen=True, slots=True)
class StoredRetention:
    """An Object Lock retention as stored: its mode and its retain-until date (ISO 8601 text)."""

    mode: str
    until: str


class Facts:
    """A typed, read-only view of a record's ``extra`` map (nothing is decoded until asked for)."""

    __slots__ = ("_x",)

    def __init__(self, extra: Mapping[str, str]) -> None:
        self._x = extra

    @property
    def acl(self) -> str | None:
        return self._x.get(ACL)

    @property
    def retention(self) -> StoredRetention | None:
        mode, until = self._x.get(LOCK_MODE), self._x.get(LOCK_UNTIL)
        return StoredRetention(mode, until) if mode is not None and until is not None else None

    @property
    def has_retention(self) -> bool:
        return LOCK_MODE in self._x

    @property
    def legal_hold(self) -> str | None:
        return self._x.get(LEGAL_HOLD)

    @property
    def replication(self) -> str | None:
        return self._x.get(REPLICATION)

    @property
    def replicated_sse(self) -> str | None:
        return self._x.get(REPLICATED_SSE)

    @property
    def quarantined(self) -> bool:
        return QUARANTINED in self._x

    @property
    def upload_id(self) -> str | None:
        return self._x.get(UPLOAD_ID)

    @property
    def sse_algorithm(self) -> str | None:
        return self._x.get(SSE_ALGORITHM)

    @property
    def sse(self) -> Sse | None:
        x = self._x
        algorithm = x.get(SSE_ALGORITHM)
        if algorithm is None:
            return None
        return Sse(algorithm, x.get(SSE_WRAPPED_KEY, ""), x.get(SSE_KMS_KEY_ID), x.get(SSE_BUCKET_KEY) == "true",
                   x.get(SSE_CUSTOMER_MD5), x.get(SSE_CUSTOMER_MAC), x.get(SSE_FORMAT) == FORMAT_GCM)


def apply_changes(extra: dict[str, str], changes: Mapping[str, str | None]) -> None:
    """Set the entries of ``changes`` in ``extra``, removing those given as None."""
    for name, value in changes.items():
        if value is None:
            extra.pop(name, None)
        else:
            extra[name] = value


def acl_entries(acl: str) -> dict[str, str]:
    """The entry of a new version's ACL (a canned name or JSON grants)."""
    return {ACL: acl}


def acl_change(acl: str | None) -> dict[str, str | None]:
    """The change that stores (or, with None, removes) a version's ACL."""
    return {ACL: acl}


def lock_entries(retention: StoredRetention | None, legal_hold: str | None) -> dict[str, str]:
    """The entries of a new version's Object Lock retention and legal hold (absent ones are left out)."""
    out: dict[str, str] = {}
    if retention is not None:
        out[LOCK_MODE] = retention.mode
        out[LOCK_UNTIL] = retention.until
    if legal_hold is not None:
        out[LEGAL_HOLD] = legal_hold
    return out


def retention_change(retention: StoredRetention | None) -> dict[str, str | None]:
    """The change that sets a version's retention, or removes it (None)."""
    if retention is None:
        return {LOCK_MODE: None, LOCK_UNTIL: None}
    return {LOCK_MODE: retention.mode, LOCK_UNTIL: retention.until}


def legal_hold_change(status: str) -> dict[str, str | None]:
    return {LEGAL_HOLD: status}


def replication_entries(status: str) -> dict[str, str]:
    return {REPLICATION: status}


def replicated_sse_entries(text: str) -> dict[str, str]:
    return {REPLICATED_SSE: text}


def upload_entries(upload_id: str) -> dict[str, str]:
    return {UPLOAD_ID: upload_id}


def quarantine_entries(when: float) -> dict[str, str]:
    return {QUARANTINED: repr(when)}


# -- replicas: what travels with a version to another region -----------------------------------------
def replica_entries(extra: Mapping[str, str], server_side_sse: bool) -> dict[str, str]:
    """The facts a replica takes from its source: all but how the source's bytes are encrypted and its
    replication status. A server-side encryption is named instead (``replicated-sse``), so that the
    destination encrypts the replica the same way with its own keys."""
    out = {k: v for k, v in extra.items() if k not in _NOT_REPLICATED}
    facts = Facts(extra)
    sse = facts.sse
    if sse is not None and server_side_sse:
        out[REPLICATED_SSE] = json.dumps([sse.algorithm, sse.kms_key_id, extra.get(SSE_BUCKET_KEY)])
    return out


def received_replica(extra: Mapping[str, str], object_lock: bool) -> tuple[dict[str, str], tuple[str, str | None,
                                                                                             bool] | None]:
    """A replica's facts as its destination stores them (marked REPLICA; without Object Lock entries when
    the destination bucket has no Object Lock), and the server-side encryption its source named
    (algorithm, KMS key id, bucket key), if any."""
    out = {k: v for k, v in extra.items() if k != REPLICATED_SSE}
    out[REPLICATION] = REPLICA
    if not object_lock:
        for name in (LOCK_MODE, LOCK_UNTIL, LEGAL_HOLD):
            out.pop(name, None)
    named = extra.get(REPLICATED_SSE)
    if named is None:
        return out, None
    algorithm, kms_key, bucket_key = json.loads(named)
    return out, (str(algorithm), kms_key, bucket_key == "true")


_NOT_REPLICATED = frozenset((*SSE_KEYS, REPLICATION))
