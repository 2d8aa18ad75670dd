"""The question authorization answers and its answer, as values: an :class:`AccessQuery` (who asks, for
which permissions, on which bucket, with which condition keys) in, a :class:`Decision` out."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from nuage.core.identities import Identity
from nuage.types import VersionId

Conditions = Mapping[str, Sequence[str]]


class Need(NamedTuple):
    """One permission the caller needs: an IAM action on a resource ARN.

    ``version_id`` is the version of the object it applies to (None: the current one): the resource owner,
    its tags and its ACL come from that version. ``copy_source`` marks the read of a copy source, whose
    decided-on version the decision reports (:attr:`Decision.source_version`).
    """

    action: str
    resource: str
    version_id: str | None = None
    copy_source: bool = False


def no_conditions() -> Conditions:
    return {}


class AccessQuery(NamedTuple):
    """What the caller asks to do (a tuple: one is built for every request).

    ``bucket`` is the existing bucket the request addresses, whose policy and ACLs decide with the caller's
    own identity policies; None for the service and for a bucket being created, where only the caller's
    account decides (anonymous callers are refused). ``conditions`` builds the request's condition keys
    when a policy is consulted (the owner's fast path never needs them). ``expected_owner`` is
    x-amz-expected-bucket-owner. ``owner_only``: only the bucket owner's root user may (operations that
    are not implemented). ``creates_object``: the request writes a new object or upload with the ACL
    ``canned_acl`` (x-amz-acl); the decision then says who owns what it writes. ``needs`` may be given as
    a function that builds them, with ``local`` saying they all concern the addressed bucket: the owner's
    fast path then never builds them.
    """

    caller: Identity | None
    needs: tuple[Need, ...] | Callable[[], tuple[Need, ...]]
    bucket: str | None
    conditions: Callable[[], Conditions] = no_conditions
    expected_owner: str | None = None
    owner_only: bool = False
    creates_object: bool = False
    canned_acl: str | None = None
    local: bool = False

    def wanted(self) -> tuple[Need, ...]:
        return self.needs() if callable(self.needs) else self.needs


class Owner(NamedTuple):
    canonical_id: str
    display_name: str


class Decision(NamedTuple):
    """Allowed or not, and why (for logs and the console; never sent to a client).

    ``bucket_missing``: the addressed bucket does not exist (not allowed; S3 answers NoSuchBucket to whom
    it may tell). ``source_version``: the copy source's version the decision was made on, which the copy
    must then read. ``new_owner``: for a query that creates an object, the account that owns it when that
    is not the caller's (object ownership controls give it to the bucket owner).
    """

    allowed: bool
    reason: str
    bucket_missing: bool = False
    source_version: VersionId | None = None
    new_owner: Owner | None = None


def base_conditions(*, secure: bool, source_ip: str | None = None, now: float | None = None) -> dict[str, list[str]]:
    """The global condition keys every request has: transport, time and, when known, the source address."""
    moment = time.time() if now is None else now
    keys: dict[str, list[str]] = {}
    if source_ip:
        keys["aws:SourceIp"] = [source_ip]
    keys["aws:SecureTransport"] = ["true" if secure else "false"]
    keys["aws:CurrentTime"] = [datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    keys["aws:EpochTime"] = [str(int(moment))]
    return keys
