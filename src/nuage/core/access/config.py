"""The stored bucket settings that authorization reads, in one place: the bucket policy, the object
ownership mode, the public access block and the bucket ACL; and the display name of an account.

The stored documents come from the store's config cache (exact, invalidated at commit); parsing a policy
is the costly part, so parsed policies are memoised by their text.
"""

from __future__ import annotations

import asyncio
import functools

from nuage.core.access.services import AccessServices
from nuage.core.bucket_config import ACL, OWNERSHIP, POLICY, PUBLIC_BLOCK
from nuage.core.policy import MalformedPolicy, Policy, parse_policy
from nuage.types import BucketName

POLICY_CONFIG = POLICY.name
OWNERSHIP_CONFIG = OWNERSHIP.name
PUBLIC_BLOCK_CONFIG = PUBLIC_BLOCK.name
ACL_CONFIG = ACL.name
#: The ownership mode that disables ACLs: the bucket owner owns every object in the bucket.
ENFORCED = "BucketOwnerEnforced"
PREFERRED = "BucketOwnerPreferred"


@functools.lru_cache(maxsize=4096)
def _parsed_policy(text: str) -> Policy | None:
    try:
        return parse_policy(text, kind="bucket")
    except MalformedPolicy:
        return None


async def bucket_policy(svc: AccessServices, bucket: BucketName) -> Policy | None:
    """The bucket's policy (None: none, or a stored document that no longer parses)."""
    text = await svc.buckets.config(bucket, POLICY)
    return _parsed_policy(text) if text is not None else None


async def ownership(svc: AccessServices, bucket: BucketName) -> str | None:
    """The bucket's object ownership mode (None: no ownership controls)."""
    return await svc.buckets.config(bucket, OWNERSHIP)


async def public_block(svc: AccessServices, bucket: BucketName) -> dict[str, bool]:
    """The bucket's public access block settings that are given (an unreadable document blocks nothing)."""
    return await svc.buckets.config(bucket, PUBLIC_BLOCK) or {}


async def bucket_acl(svc: AccessServices, bucket: BucketName) -> str | None:
    """The bucket's stored ACL (a canned name or encoded grants; None: private)."""
    return await svc.buckets.config(bucket, ACL)


async def account_name(svc: AccessServices, canonical_id: str) -> str | None:
    """The display name of the account with this canonical id (None: no such account)."""
    account = await asyncio.to_thread(svc.identities.meta.iam.account_by_canonical, canonical_id)
    return account.name if account is not None else None
