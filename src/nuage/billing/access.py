"""Who may read or change an account's billing (nuage-billing:<action>): the one decision that the tenant
billing API (nuage.billing.app) and the console's Billing page both ask.

The resource of every action is the caller's own account (:func:`account_arn`). The account's root user may
do everything; an IAM user needs an Allow of the action in its identity policies, and no Deny.
"""

from __future__ import annotations

from nuage.core.identities import Identities, Identity
from nuage.core.policy import Decision, RequestContext, evaluate
from nuage.core.policy.model import PARTITION

PREFIX = "nuage-billing"


def account_arn(account_id: str) -> str:
    """The resource every billing action is on: the caller's own account."""
    return f"arn:{PARTITION}:{PREFIX}::{account_id}:account"


def allowed(identities: Identities, caller: Identity, action: str, conditions: dict[str, list[str]]) -> bool:
    """Whether ``caller`` may ``nuage-billing:<action>`` on its own account (``conditions``: the request's
    global condition keys, nuage.core.access.query.base_conditions)."""
    if caller.is_root:
        return True
    ctx = RequestContext(caller.principal(), f"{PREFIX}:{action}", account_arn(caller.account_id), conditions)
    return evaluate(identities.policies(caller), ctx) is Decision.ALLOW
