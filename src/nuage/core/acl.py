"""Access control lists: the grant model, independent of any protocol.

An ACL is stored where a canned ACL name was stored before (bucket config ``acl``,
``ObjectRecord.facts.acl``): either a canned name (``private``, ``public-read``, ...; what older
releases wrote) or a JSON document ``{"grants": [{"permission": ..., "id"|"uri": ...}, ...]}`` for
explicit grants. :func:`grants_of` turns either form into grants for a given owner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL = "READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"
PERMISSIONS = (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL)
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
GROUPS = (ALL_USERS, AUTH_USERS, LOG_DELIVERY)
PUBLIC_GROUPS = (ALL_USERS, AUTH_USERS)
CANNED = ("private", "public-read", "public-read-write", "authenticated-read", "bucket-owner-read",
          "bucket-owner-full-control", "log-delivery-write", "aws-exec-read")
PUBLIC_CANNED = ("public-read", "public-read-write", "authenticated-read")
#: Header name -> permission, for the x-amz-grant-* headers.
GRANT_HEADERS = {"x-amz-grant-read": READ, "x-amz-grant-write": WRITE, "x-amz-grant-read-acp": READ_ACP,
                 "x-amz-grant-write-acp": WRITE_ACP, "x-amz-grant-full-control": FULL_CONTROL}


@dataclass(frozen=True)
class Grant:
    """One grant: to a canonical user (``id``), a group (``uri``) or an e-mail address (``email``,
    only while a request is parsed: stored grants name accounts by id)."""

    permission: str
    id: str | None = None
    uri: str | None = None
    email: str | None = None

    @property
    def is_public(self) -> bool:
        return self.uri in PUBLIC_GROUPS

    def to_json(self) -> dict[str, str]:
        out = {"permission": self.permission}
        if self.id is not None:
            out["id"] = self.id
        if self.uri is not None:
            out["uri"] = self.uri
        return out


def canned_grants(canned: str, owner: str, bucket_owner: str | None = None) -> list[Grant]:
    """The grants a canned ACL stands for (group grants first, as S3 lists them)."""
    grants: list[Grant] = []
    if canned in ("public-read", "public-read-write"):
        grants.append(Grant(READ, uri=ALL_USERS))
    if canned == "public-read-write":
        grants.append(Grant(WRITE, uri=ALL_USERS))
    if canned == "authenticated-read":
        grants.append(Grant(READ, uri=AUTH_USERS))
    if canned == "log-delivery-write":
        grants += [Grant(WRITE, uri=LOG_DELIVERY), Grant(READ_ACP, uri=LOG_DELIVERY)]
    grants.append(Grant(FULL_CONTROL, id=owner))
    if bucket_owner is not None and bucket_owner != owner:
        if canned == "bucket-owner-read":
            grants.append(Grant(READ, id=bucket_owner))
        elif canned == "bucket-owner-full-control":
            grants.append(Grant(FULL_CONTROL, id=bucket_owner))
    return grants


def encode(grants: list[Grant]) -> str:
    """The stored form of explicit grants."""
    return json.dumps({"grants": [g.to_json() for g in grants]}, separators=(",", ":"))


def grants_of(stored: str | None, owner: str, bucket_owner: str | None = None) -> list[Grant]:
    """Grants of a stored ACL (a canned name or :func:`encode`'s JSON); None is ``private``."""
    if stored is None:
        return canned_grants("private", owner, bucket_owner)
    if stored.startswith("{"):
        try:
            doc = json.loads(stored)
            return [Grant(g["permission"], id=g.get("id"), uri=g.get("uri")) for g in doc.get("grants", [])]
        except (ValueError, KeyError, TypeError, AttributeError):
            return canned_grants("private", owner, bucket_owner)
    return canned_grants(stored, owner, bucket_owner)


def ordered(grants: list[Grant]) -> list[Grant]:
    """Group grants first, then grants to users, each in their given order."""
    return [g for g in grants if g.uri is not None] + [g for g in grants if g.uri is None]


def is_public(stored: str | None) -> bool:
    """Whether a stored ACL grants anything to AllUsers or AuthenticatedUsers."""
    if stored is None:
        return False
    if not stored.startswith("{"):
        return stored in PUBLIC_CANNED
    return any(g.is_public for g in grants_of(stored, ""))


def grants_permission(grants: list[Grant], permission: str, *, canonical_id: str | None, authenticated: bool,
                      ignore_public: bool = False) -> bool:
    """Whether one of ``grants`` gives ``permission`` to a caller (``canonical_id`` None: anonymous, or a
    caller that grants to accounts do not reach)."""
    for g in grants:
        if g.permission not in (permission, FULL_CONTROL):
            continue
        if g.uri is not None:
            if ignore_public and g.is_public:
                continue
            if g.uri == ALL_USERS or (g.uri == AUTH_USERS and authenticated):
                return True
        elif g.id is not None and canonical_id is not None and g.id == canonical_id:
            return True
    return False
