"""Who may do what: the one authorization decision that the S3 protocol, the console, SQL jobs and every
other service acting for a caller ask (:func:`decide`), with the bucket settings it reads
(:mod:`.config`). Protocols only build the :class:`AccessQuery` from what they received and turn a
refusal into their own error."""

from nuage.core.access.config import (
    ENFORCED,
    OWNERSHIP_CONFIG,
    POLICY_CONFIG,
    PREFERRED,
    PUBLIC_BLOCK_CONFIG,
    account_name,
    bucket_acl,
    bucket_policy,
    ownership,
    public_block,
)
from nuage.core.access.decide import decide, may
from nuage.core.access.public import policy_is_public
from nuage.core.access.query import AccessQuery, Conditions, Decision, Need, Owner, base_conditions
from nuage.core.access.services import AccessServices

__all__ = [
    "ENFORCED",
    "OWNERSHIP_CONFIG",
    "POLICY_CONFIG",
    "PREFERRED",
    "PUBLIC_BLOCK_CONFIG",
    "AccessQuery",
    "AccessServices",
    "Conditions",
    "Decision",
    "Need",
    "Owner",
    "account_name",
    "base_conditions",
    "bucket_acl",
    "bucket_policy",
    "decide",
    "may",
    "ownership",
    "policy_is_public",
    "public_block",
]
