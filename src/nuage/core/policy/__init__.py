"""IAM policy language for Nuage: parse, validate and evaluate bucket and identity policies.

Pure functions, no I/O. Modules: :mod:`.parse` (documents and validation), :mod:`.matching` (wildcards
and policy variables), :mod:`.conditions` (condition operators), :mod:`.evaluate` (decisions and the S3
authorization flow), :mod:`.actions` (what an operation needs: IAM actions and resource ARNs).
"""

from nuage.core.policy.actions import (
    BYPASS_GOVERNANCE,
    S3_ACTIONS,
    SERVICE_ARN,
    ActionFacts,
    Permission,
    action_level,
    bucket_arn,
    object_arn,
    required_permissions,
)
from nuage.core.policy.errors import MalformedPolicy, PolicyTooLarge
from nuage.core.policy.evaluate import Decision, Evaluation, authorize, evaluate, evaluate_detailed
from nuage.core.policy.model import Condition, Policy, Principal, PrincipalSpec, RequestContext, Statement
from nuage.core.policy.parse import BUCKET_POLICY_MAX_BYTES, USER_POLICY_MAX_CHARS, parse_policy

__all__ = [
    "BUCKET_POLICY_MAX_BYTES",
    "BYPASS_GOVERNANCE",
    "S3_ACTIONS",
    "SERVICE_ARN",
    "USER_POLICY_MAX_CHARS",
    "ActionFacts",
    "Condition",
    "Decision",
    "Evaluation",
    "MalformedPolicy",
    "Permission",
    "Policy",
    "PolicyTooLarge",
    "Principal",
    "PrincipalSpec",
    "RequestContext",
    "Statement",
    "action_level",
    "authorize",
    "bucket_arn",
    "evaluate",
    "evaluate_detailed",
    "object_arn",
    "parse_policy",
    "required_permissions",
]
