"""Consent of a destination bucket's owner to replication from another account.

A replication rule writes into its destination bucket with nobody calling: the source region's worker
ships versions and the destination region applies them. When the destination bucket belongs to another
account than the source bucket, its owner must have agreed in the destination bucket's policy, as AWS
requires: the policy must allow the source's replication principal ``s3:ReplicateObject`` (new
versions), ``s3:ReplicateDelete`` (delete markers), ``s3:ReplicateTags`` (versions with tags, tag
changes) and, for the owner override (``AccessControlTranslation`` with ``Owner`` = ``Destination``),
``s3:ObjectOwnerOverrideToBucketOwner``, on the destination objects. An explicit Deny wins. The policy
engine (:func:`nuage.core.policy.evaluate`) decides. It is asked when the rule is saved and again on
every apply in the destination region, so a grant withdrawn later stops replication at once.

The source's replication principal is the account that owns the source bucket: a statement naming
``arn:aws:iam::ACCOUNT:root`` (or the bare 12-digit id) matches, and so does one naming the rule's
``Role`` when that role belongs to the same account. A Role ARN naming another account is not used as
the principal: anyone can write one into a configuration.

Same account: in one region, the same canonical id (what buckets record as their owner). Across regions
(each region keeps its own accounts), the same account id or the same tenant name: the operator creates a
tenant in each region under one name (and may give it the same account id everywhere), and the operator's
own account is named alike in every region.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from nuage.core.bucket_config import OWNERSHIP, POLICY, read
from nuage.core.identities import account_id_for
from nuage.core.policy import Decision, MalformedPolicy, Policy, Principal, RequestContext, evaluate, parse_policy
from nuage.core.policy.actions import object_arn
from nuage.errors import AccessDenied, InvalidRequest
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import BucketRecord

OWNER_ENFORCED = "BucketOwnerEnforced"

REPLICATE_OBJECT = "s3:ReplicateObject"
REPLICATE_DELETE = "s3:ReplicateDelete"
REPLICATE_TAGS = "s3:ReplicateTags"
OWNER_OVERRIDE = "s3:ObjectOwnerOverrideToBucketOwner"

_ROLE_ACCOUNT = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):role/\S+$")
_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Source:
    """Who replicates: the account owning the source bucket, as its own region knows it."""

    account_id: str
    canonical_id: str
    name: str | None
    same_region: bool          # the source bucket lives in the destination's region
    role: str = ""             # the configuration's Role ARN
    override: bool = False     # the rule asks for the owner override (AccessControlTranslation)
    account: str | None = None  # the rule's Destination/Account (the owner override names it)

    def principal(self) -> Principal:
        # canonical ids belong to one region's accounts table; from another region they name nobody here
        canonical = self.canonical_id if self.same_region else None
        found = _ROLE_ACCOUNT.match(self.role)
        if found is not None and found.group(1) == self.account_id:
            return Principal(account_id=self.account_id, arn=self.role, canonical_id=canonical)
        return Principal.root(self.account_id, canonical)

    def to_wire(self) -> dict[str, Any]:
        """What travels with a replica (the receiver knows the sending region from its signature)."""
        return {"account_id": self.account_id, "canonical_id": self.canonical_id, "name": self.name,
                "role": self.role, "override": self.override, "account": self.account}

    @classmethod
    def from_wire(cls, doc: Any, same_region: bool) -> Source:
        if not isinstance(doc, dict) or not isinstance(doc.get("account_id"), str) \
                or not isinstance(doc.get("canonical_id"), str):
            raise ValueError("no source account")
        name, role, account = doc.get("name"), doc.get("role"), doc.get("account")
        return cls(doc["account_id"], doc["canonical_id"], name if isinstance(name, str) else None, same_region,
                   role if isinstance(role, str) else "", bool(doc.get("override")),
                   account if isinstance(account, str) else None)


def save_actions(*, delete_markers: bool, tag_filter: bool, override: bool) -> list[str]:
    """What a rule needs granted when it is saved: tags are known to travel only under a tag filter
    (other versions with tags are checked when they are applied)."""
    actions = [REPLICATE_OBJECT]
    if delete_markers:
        actions.append(REPLICATE_DELETE)
    if tag_filter:
        actions.append(REPLICATE_TAGS)
    if override:
        actions.append(OWNER_OVERRIDE)
    return actions


def apply_actions(*, tags_only: bool, delete_marker: bool, has_tags: bool, override: bool) -> list[str]:
    """What one apply needs granted: a tag change, a delete marker, or a version (with its tags)."""
    if tags_only:
        return [REPLICATE_TAGS]
    if delete_marker:
        return [REPLICATE_DELETE]
    actions = [REPLICATE_OBJECT]
    if has_tags:
        actions.append(REPLICATE_TAGS)
    if override:
        actions.append(OWNER_OVERRIDE)
    return actions


def prefix_resource(bucket: str, prefix: str) -> str:
    """The destination objects a rule may write: ``arn:aws:s3:::BUCKET/PREFIX*``."""
    return object_arn(bucket, prefix + "*")


class Consent:
    """Answers "may this source replicate into that bucket?" from the destination's own metadata."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta
        # an account's id and name never change once it exists, so found accounts are kept
        self._accounts: dict[str, tuple[str, str | None]] = {}
        self._policies: dict[str, Policy | None] = {}

    async def account_of(self, canonical_id: str) -> tuple[str, str | None]:
        """(account id, tenant name) of the account with this canonical id (legacy owners: a derived id)."""
        hit = self._accounts.get(canonical_id)
        if hit is not None:
            return hit
        rec = await asyncio.to_thread(self.meta.iam.account_by_canonical, canonical_id)
        if rec is None:
            return account_id_for(canonical_id), None
        if len(self._accounts) >= _CACHE_MAX:
            self._accounts.clear()
        found = self._accounts[canonical_id] = (rec.account_id, rec.name)
        return found

    async def source(self, bucket: BucketRecord, *, same_region: bool, role: str = "", override: bool = False,
                     account: str | None = None) -> Source:
        """The replicating account of a source bucket of this region."""
        account_id, name = await self.account_of(bucket.owner)
        return Source(account_id, bucket.owner, name, same_region, role, override, account)

    async def same_account(self, bucket: BucketRecord, source: Source) -> bool:
        if source.same_region:
            return source.canonical_id == bucket.owner
        account_id, name = await self.account_of(bucket.owner)
        return source.account_id == account_id or (name is not None and name == source.name)

    async def owner_enforced(self, bucket: BucketRecord) -> bool:
        """BucketOwnerEnforced: every object of the bucket, replicas included, is its owner's (AWS: no
        override grant needed)."""
        return await read(self.meta, bucket.name, OWNERSHIP) == OWNER_ENFORCED

    async def _policy(self, bucket: BucketRecord) -> Policy | None:
        text = await read(self.meta, bucket.name, POLICY)
        if text is None:
            return None
        if text not in self._policies:
            if len(self._policies) >= _CACHE_MAX:
                self._policies.clear()
            try:
                self._policies[text] = parse_policy(text, kind="bucket")
            except MalformedPolicy:
                self._policies[text] = None
        return self._policies[text]

    async def refused(self, bucket: BucketRecord, source: Source, actions: list[str], resource: str) -> str | None:
        """The first of ``actions`` the destination bucket's policy does not allow the source (None: all
        allowed, or the same account, which needs no grant)."""
        if await self.same_account(bucket, source):
            return None
        policy = await self._policy(bucket)
        principal = source.principal()
        for action in actions:
            request = RequestContext(principal, action, resource)
            if policy is None or evaluate([policy], request) is not Decision.ALLOW:
                return action
        return None

    async def require(self, bucket: BucketRecord, source: Source, actions: list[str], resource: str) -> None:
        """Raise AccessDenied unless the destination's owner agreed (or is the source's account); with the
        owner override, Destination/Account must name the destination bucket's owner."""
        if source.override and source.account is not None and not await self.same_account(bucket, source):
            owner_account, _ = await self.account_of(bucket.owner)
            if source.account != owner_account:
                raise InvalidRequest("The Account of the destination does not own the destination bucket.")
        action = await self.refused(bucket, source, actions, resource)
        if action is not None:
            raise AccessDenied(f"The policy of the destination bucket {bucket.name} does not allow account "
                               f"{source.account_id} {action} on {resource}.")
