"""Policy evaluation and the S3 authorization decision.

``evaluate`` follows "Policy evaluation logic" (IAM User Guide) for one set of policies:

1. A statement applies when its Principal matches the caller (or NotPrincipal does not; identity
   policies have neither), its Action (NotAction) matches the action, its Resource (NotResource)
   matches the resource, and every entry of its Condition block holds.
2. An applicable ``Deny`` statement anywhere gives DENY (explicit deny always wins).
3. Otherwise an applicable ``Allow`` statement gives ALLOW; otherwise NEUTRAL (implicit deny).

Principal matching ("AWS JSON policy elements: Principal"): ``"*"`` and ``{"AWS": "*"}`` match everyone,
anonymous callers included. An account (``123456789012`` or ``arn:aws:iam::123456789012:root``) or its
canonical user id matches every identity of that account, but for an IAM user that is a delegation to the
account, not a grant to the user: the user's own identity policies must still allow (see
:attr:`Evaluation.delegated`). A user ARN matches that user only. ``NotPrincipal`` excludes a caller only
when each identity in its chain is listed: a user is excluded only if both the user ARN and its account
are listed, which is why AWS's examples list both.

``authorize`` follows "How Amazon S3 authorizes a request" (user context, then bucket context):

- Explicit deny in an identity policy or the bucket policy refuses, for everyone. Exception: the root
  user of the bucket-owning account may always call GetBucketPolicy, PutBucketPolicy and
  DeleteBucketPolicy, so that a bucket policy cannot lock its owner out.
- Anonymous callers: allowed only when the bucket policy allows or an ACL grant does (identity
  policies do not exist for them).
- Same account as the bucket owner: the account's root user is allowed. An IAM user is allowed when an
  identity policy allows, or the bucket policy allows by naming the user (or ``*``), or an ACL grant
  applies to the caller.
- Another account: the resource side must allow (the bucket policy, including a grant to the caller's
  account, or an ACL grant) and the caller's own account must allow too: its identity policies for an
  IAM user, implicitly for that account's root user.

``acl_allows`` is computed by the caller from ACLs (``None``/``False`` when ACLs are disabled by
BucketOwnerEnforced). Objects owned by another account than the bucket's, SCPs, permission boundaries
and session policies are out of scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from nuage.core.policy.conditions import evaluate_conditions
from nuage.core.policy.matching import match_action, match_arn
from nuage.core.policy.model import Policy, Principal, PrincipalSpec, RequestContext, Statement, root_arn


class Decision(Enum):
    ALLOW = "Allow"
    DENY = "Deny"          # explicit deny
    NEUTRAL = "Neutral"    # no statement applied: implicit deny


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    statement: Statement | None = None   # the deciding statement: the first explicit deny, else an allow
    delegated: bool = False              # ALLOW only through the caller's account (not the user itself)


class _Match(Enum):
    NONE = 0
    ACCOUNT = 1
    DIRECT = 2


#: Actions the bucket owner's root user keeps even under a bucket policy that denies them.
ROOT_POLICY_ACTIONS = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})


def _account_listed(spec: PrincipalSpec, p: Principal) -> bool:
    return ((p.account_id is not None and root_arn(p.account_id) in spec.aws)
            or (p.canonical_id is not None and p.canonical_id in spec.canonical))


def _principal_match(spec: PrincipalSpec, p: Principal) -> _Match:
    if spec.wildcard:
        return _Match.DIRECT
    if p.is_anonymous:
        return _Match.NONE
    if p.service is not None:
        return _Match.DIRECT if p.service in spec.service else _Match.NONE
    if p.arn is not None and p.arn in spec.aws:
        return _Match.DIRECT
    if _account_listed(spec, p):
        return _Match.DIRECT if p.is_root else _Match.ACCOUNT
    return _Match.NONE


def _principal_excluded(spec: PrincipalSpec, p: Principal) -> bool:
    """Whether NotPrincipal excludes the caller: every identity in its chain must be listed."""
    if spec.wildcard:
        return True
    if p.is_anonymous:
        return False
    if p.service is not None:
        return p.service in spec.service
    account = _account_listed(spec, p)
    if p.is_root or p.arn is None:
        return account
    return account and p.arn in spec.aws


def _applies(stmt: Statement, policy: Policy, request: RequestContext) -> _Match:
    match = _Match.DIRECT
    if stmt.principal is not None:
        match = _principal_match(stmt.principal, request.principal)
        if match is _Match.NONE:
            return match
    elif stmt.not_principal is not None and _principal_excluded(stmt.not_principal, request.principal):
        return _Match.NONE
    if stmt.actions is not None and not any(match_action(a, request.action) for a in stmt.actions):
        return _Match.NONE
    if stmt.not_actions is not None and any(match_action(a, request.action) for a in stmt.not_actions):
        return _Match.NONE
    lookup = request.values if policy.variables else None
    if stmt.resources is not None and not any(match_arn(r, request.resource, lookup) for r in stmt.resources):
        return _Match.NONE
    if stmt.not_resources is not None and any(match_arn(r, request.resource, lookup) for r in stmt.not_resources):
        return _Match.NONE
    if not evaluate_conditions(stmt.conditions, request, variables=policy.variables):
        return _Match.NONE
    return match


def evaluate_detailed(policies: Sequence[Policy], request: RequestContext) -> Evaluation:
    """Like :func:`evaluate`, also naming the deciding statement and whether an allow is only delegated."""
    allow: Statement | None = None
    delegated = False
    for policy in policies:
        for stmt in policy.statements:
            match = _applies(stmt, policy, request)
            if match is _Match.NONE:
                continue
            if stmt.effect == "Deny":
                return Evaluation(Decision.DENY, stmt)
            if allow is None or (delegated and match is _Match.DIRECT):
                allow, delegated = stmt, match is _Match.ACCOUNT
    if allow is not None:
        return Evaluation(Decision.ALLOW, allow, delegated)
    return Evaluation(Decision.NEUTRAL)


def evaluate(policies: Sequence[Policy], request: RequestContext) -> Decision:
    """ALLOW, DENY (an explicit deny applies) or NEUTRAL (nothing applies) for the request."""
    return evaluate_detailed(policies, request).decision


def authorize(identity_policies: Sequence[Policy], bucket_policy: Policy | None, request: RequestContext, *,
              same_account: bool, is_root: bool, acl_allows: bool) -> bool:
    """The S3 decision for one (action, resource) of a request; see the module docstring for the rules.

    ``same_account``: the caller belongs to the account that owns the bucket. ``is_root``: the caller is
    its account's root user. ``acl_allows``: an ACL grant covers this caller and action.
    """
    caller = request.principal
    resource = evaluate_detailed([bucket_policy] if bucket_policy is not None else [], request)
    if caller.is_anonymous:
        return resource.decision is Decision.ALLOW or (resource.decision is Decision.NEUTRAL and acl_allows)
    identity = evaluate_detailed(identity_policies, request)
    if Decision.DENY in (identity.decision, resource.decision):
        return (same_account and is_root and identity.decision is not Decision.DENY
                and request.action.lower() in ROOT_POLICY_ACTIONS)
    if same_account:
        if is_root:
            return True
        return (identity.decision is Decision.ALLOW
                or (resource.decision is Decision.ALLOW and not resource.delegated)
                or acl_allows)
    resource_allows = resource.decision is Decision.ALLOW or acl_allows
    identity_allows = is_root or identity.decision is Decision.ALLOW
    return resource_allows and identity_allows
