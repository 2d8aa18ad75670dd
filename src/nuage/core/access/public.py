"""When a bucket policy is public, after "The meaning of public" (S3 User Guide): it allows something to a
wildcard principal (``*``, ``{"AWS": "*"}``, or through ``NotPrincipal``) without pinning the caller to
fixed values with a condition on one of the keys AWS accepts for that (``aws:SourceIp`` with a narrow
enough range, ``aws:SourceArn``, ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceAccount``,
``aws:SourceOwner``, ``aws:userid``, ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalOrgID``, ``s3:DataAccessPointArn``, ``s3:DataAccessPointAccount``).

Block Public Access reads it twice: BlockPublicPolicy refuses to store such a policy, RestrictPublicBuckets
lets it serve only the bucket owner's account.
"""

from __future__ import annotations

import ipaddress

from nuage.core.policy import Condition, Policy

#: Condition keys that restrict a wildcard principal to fixed callers when given fixed values.
FIXING_KEYS = frozenset({
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner", "aws:userid",
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount", "aws:sourceip",
})
#: Operators that pin a key to the listed values (negations and wildcards do not).
FIXING_OPERATORS = frozenset({"StringEquals", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike", "IpAddress"})
#: The widest IPv4 prefix that still counts as a fixed range (AWS: /8 and wider are public).
MIN_FIXED_PREFIX_V4 = 9
MIN_FIXED_PREFIX_V6 = 33


def _fixed(cond: Condition) -> bool:
    if cond.if_exists or cond.qualifier == "ForAllValues" or cond.base not in FIXING_OPERATORS:
        return False
    key = cond.key.lower()
    if key not in FIXING_KEYS:
        return False
    if any("*" in v or "?" in v for v in cond.values) and cond.base != "IpAddress":
        return False
    if key == "aws:sourceip":
        if cond.base != "IpAddress":
            return False
        for value in cond.values:
            try:
                net = ipaddress.ip_network(value, strict=False)
            except ValueError:
                return False
            if net.prefixlen < (MIN_FIXED_PREFIX_V4 if net.version == 4 else MIN_FIXED_PREFIX_V6):
                return False
    return True


def policy_is_public(policy: Policy) -> bool:
    for stmt in policy.statements:
        if stmt.effect != "Allow":
            continue
        wildcard = (stmt.principal is not None and stmt.principal.wildcard) or stmt.not_principal is not None
        if not wildcard:
            continue
        if not any(_fixed(c) for c in stmt.conditions):
            return True
    return False
