"""Parsing and validation of policy documents (IAM JSON policy elements reference).

``parse_policy(text, kind="bucket", bucket=...)`` validates as S3's PutBucketPolicy does: Principal is
required, actions must be S3 actions, every Resource must lie in the bucket ("Policy has invalid
resource") and every action must apply to one of the statement's resources ("Action does not apply to
any resource(s) in statement"). ``kind="identity"`` validates as IAM's Put*Policy does: no Principal,
any ``vendor:Action``, Resource in ARN format or ``*``. Size limits: 20 KB for bucket policies (bytes),
2,048 characters for an inline user policy (IAM does not count white space); pass ``max_size`` for other
quotas (5,120 for groups, 10,240 for roles, 6,144 for managed policies).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn

from nuage.core.policy.actions import S3_ACTIONS, Level, bucket_arn
from nuage.core.policy.conditions import parse_operator
from nuage.core.policy.errors import MalformedPolicy, PolicyTooLarge
from nuage.core.policy.matching import can_match_prefix, glob, match_action
from nuage.core.policy.model import (
    VERSION_2008,
    VERSION_2012,
    Condition,
    Effect,
    Policy,
    PolicyKind,
    PrincipalSpec,
    Statement,
    root_arn,
)

BUCKET_POLICY_MAX_BYTES = 20 * 1024
USER_POLICY_MAX_CHARS = 2048

_TOP = ("Version", "Id", "Statement")
_STATEMENT = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource",
              "Condition")
_ACCOUNT = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN = re.compile(r"^arn:[a-z-]+:(?:iam|sts)::([A-Za-z0-9_-]+):"
                            r"(?:root|(?:user|role|assumed-role|federated-user)/\S+)$")
_CANONICAL = re.compile(r"^[A-Za-z0-9]+$")
_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?_-]*$")
_CONDITION_KEY = re.compile(r"^[A-Za-z0-9-]+:\S+$")
_SID = re.compile(r"^[A-Za-z0-9]*$")
_VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


def _fail(message: str) -> NoReturn:
    raise MalformedPolicy(message)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k}")
        out[k] = v
    return out


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(name)


def parse_policy(text: str, *, kind: PolicyKind, bucket: str | None = None, max_size: int | None = None) -> Policy:
    """Parse and validate a policy document; raises MalformedPolicy (or PolicyTooLarge) with AWS's reason."""
    if kind == "bucket":
        limit = BUCKET_POLICY_MAX_BYTES if max_size is None else max_size
        if len(text.encode()) > limit:
            raise PolicyTooLarge(f"Policies must be less than {limit // 1024} KB" if limit % 1024 == 0
                                 else f"Policies must be less than {limit} bytes")
    else:
        limit = USER_POLICY_MAX_CHARS if max_size is None else max_size
        if sum(not c.isspace() for c in text) > limit:
            raise PolicyTooLarge(f"Maximum policy size of {limit} bytes exceeded")
    json_error = "This policy contains invalid Json" if kind == "bucket" else "Syntax errors in policy."
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        _fail(json_error)
    if not isinstance(doc, dict):
        _fail(json_error)
    for name in doc:
        if name not in _TOP:
            _fail(f"Unknown field {name}")
    version = doc.get("Version", VERSION_2008)
    if version not in (VERSION_2012, VERSION_2008):
        _fail("Invalid Version")
    pid = doc.get("Id")
    if pid is not None and not isinstance(pid, str):
        _fail(json_error)
    if "Statement" not in doc:
        _fail("Missing required field Statement")
    raw = doc["Statement"]
    raw_statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(raw_statements, list):
        _fail(json_error)
    if not raw_statements:
        _fail("Could not parse the policy: Statement is empty!")
    statements = tuple(_statement(s, kind, bucket, json_error) for s in raw_statements)
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        _fail("Statement IDs (SID) in a single policy must be unique.")
    return Policy(kind=kind, statements=statements, version=version, id=pid, text=text)


def _strings(value: Any, error: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        _fail(error)
    return tuple(items)


def _statement(raw: Any, kind: PolicyKind, bucket: str | None, json_error: str) -> Statement:
    if not isinstance(raw, dict):
        _fail(json_error)
    for name in raw:
        if name not in _STATEMENT:
            _fail(f"Unknown field {name}")
    sid = raw.get("Sid")
    if sid is not None and (not isinstance(sid, str) or (kind == "identity" and not _SID.match(sid))):
        _fail("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
              "expression [0-9A-Za-z]*")
    if "Effect" not in raw:
        _fail("Missing required field Effect")
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        _fail(f"Invalid effect: {effect}")
    principal, not_principal = _principals(raw, kind)
    actions, not_actions = _actions(raw, kind)
    resources, not_resources = _resources(raw, kind, bucket)
    if kind == "bucket" and actions is not None and resources is not None:
        _check_applies(actions, resources, bucket)
    return Statement(effect=_effect(effect), sid=sid, principal=principal, not_principal=not_principal,
                     actions=actions, not_actions=not_actions, resources=resources, not_resources=not_resources,
                     conditions=_conditions(raw.get("Condition"), kind, json_error))


def _effect(value: str) -> Effect:
    return "Allow" if value == "Allow" else "Deny"


def _principals(raw: dict[str, Any], kind: PolicyKind) -> tuple[PrincipalSpec | None, PrincipalSpec | None]:
    has_p, has_np = "Principal" in raw, "NotPrincipal" in raw
    if kind == "identity":
        if has_p or has_np:
            _fail("Policy document should not specify a principal.")
        return None, None
    if not has_p and not has_np:
        _fail("Missing required field Principal")
    if has_p and has_np:
        _fail("Invalid principal in policy")
    return (_principal(raw["Principal"]), None) if has_p else (None, _principal(raw["NotPrincipal"]))


def _principal(value: Any) -> PrincipalSpec:
    bad = "Invalid principal in policy"
    if value == "*":
        return PrincipalSpec(wildcard=True)
    if not isinstance(value, dict) or not value:
        _fail(bad)
    wildcard = False
    aws: set[str] = set()
    canonical: set[str] = set()
    service: set[str] = set()
    federated: set[str] = set()
    for ptype, entries in value.items():
        for entry in _strings(entries, bad):
            if ptype == "AWS":
                if entry == "*":
                    wildcard = True
                elif _ACCOUNT.match(entry):
                    aws.add(root_arn(entry))
                elif _PRINCIPAL_ARN.match(entry):
                    aws.add(entry)
                else:
                    _fail(bad)
            elif ptype == "CanonicalUser" and _CANONICAL.match(entry):
                canonical.add(entry)
            elif ptype == "Service" and entry and not any(c.isspace() for c in entry):
                service.add(entry)
            elif ptype == "Federated" and entry and not any(c.isspace() for c in entry):
                federated.add(entry)
            else:
                _fail(bad)
    return PrincipalSpec(wildcard=wildcard, aws=frozenset(aws), canonical=frozenset(canonical),
                         service=frozenset(service), federated=frozenset(federated))


def _actions(raw: dict[str, Any], kind: PolicyKind) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    has_a, has_na = "Action" in raw, "NotAction" in raw
    if not has_a and not has_na:
        _fail("Missing required field Action")
    if has_a and has_na:
        _fail("Policy has invalid action")
    bad = "Policy has invalid action" if kind == "bucket" else _VENDOR
    values = _strings(raw["Action"] if has_a else raw["NotAction"], bad)
    for action in values:
        if action == "*":
            continue
        if not _ACTION.match(action):
            _fail(bad)
        if kind == "bucket" and not any(match_action(action, known) for known in S3_ACTIONS):
            _fail("Policy has invalid action")
    return (values, None) if has_a else (None, values)


def _resources(raw: dict[str, Any], kind: PolicyKind, bucket: str | None
               ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    has_r, has_nr = "Resource" in raw, "NotResource" in raw
    if not has_r and not has_nr:
        _fail("Missing required field Resource")
    if has_r and has_nr:
        _fail("Policy has invalid resource")
    values = _strings(raw["Resource"] if has_r else raw["NotResource"], "Policy has invalid resource")
    for r in values:
        if r != "*" and not (r.startswith("arn:") and r.count(":") >= 5):
            _fail("Policy has invalid resource" if kind == "bucket" else f'Resource {r} must be in ARN format or "*".')
        if kind == "bucket" and has_r and bucket is not None and not _in_bucket(r, bucket):
            _fail("Policy has invalid resource")
    return (values, None) if has_r else (None, values)


def _in_bucket(resource: str, bucket: str) -> bool:
    return bool(_levels_of(resource, bucket))


def _levels_of(resource: str, bucket: str | None) -> set[Level]:
    """The resource types (bucket, object) a Resource pattern can denote within ``bucket``."""
    if resource == "*":
        return {"bucket", "object"}
    levels: set[Level] = set()
    if bucket is None:
        part = resource.split(":", 5)[-1]
        if "/" not in part:
            levels.add("bucket")
        if "/" in part or "*" in part:  # a "*" in the bucket name may also span "/key"
            levels.add("object")
        return levels
    arn = bucket_arn(bucket)
    if _matches_exactly(resource, arn):
        levels.add("bucket")
    if can_match_prefix(resource, arn + "/"):
        levels.add("object")
    return levels


def _matches_exactly(pattern: str, arn: str) -> bool:
    return glob(re.sub(r"\$\{[^}]*\}", "*", pattern), arn)


def _check_applies(actions: tuple[str, ...], resources: tuple[str, ...], bucket: str | None) -> None:
    available: set[Level] = set()
    for r in resources:
        available |= _levels_of(r, bucket)
    for action in actions:
        levels = {lvl for known, lvl in S3_ACTIONS.items() if match_action(action, known)}
        if not levels & available:
            _fail("Action does not apply to any resource(s) in statement")


def _condition_value(value: Any, error: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    _fail(error)


def _conditions(raw: Any, kind: PolicyKind, json_error: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        _fail(json_error)
    bad_key = "Policy has an invalid condition key" if kind == "bucket" else _VENDOR
    out: list[Condition] = []
    for operator, block in raw.items():
        parsed = parse_operator(operator)
        if parsed is None:
            _fail(f"Invalid Condition type : {operator}")
        base, qualifier, if_exists = parsed
        if not isinstance(block, dict) or not block:
            _fail(json_error)
        for key, values in block.items():
            if not _CONDITION_KEY.match(key):
                _fail(bad_key)
            items = values if isinstance(values, list) else [values]
            if not items:
                _fail(json_error)
            out.append(Condition(operator=operator, base=base, qualifier=qualifier, if_exists=if_exists, key=key,
                                 values=tuple(_condition_value(v, json_error) for v in items)))
    return tuple(out)
