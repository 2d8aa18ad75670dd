"""Values shared by the policy modules: the parsed policy and the request it is evaluated against."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PolicyKind = Literal["bucket", "identity"]
Effect = Literal["Allow", "Deny"]

#: Version under which policy variables (``${aws:username}``) are substituted; under 2008-10-17 they are literal text.
VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
PARTITION = "aws"


def normalize_key(key: str) -> str:
    """Condition key names are case-insensitive; the part after a ``/`` (a tag key) keeps its case."""
    head, sep, tail = key.partition("/")
    return head.lower() + sep + tail


def root_arn(account_id: str) -> str:
    return f"arn:{PARTITION}:iam::{account_id}:root"


def user_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:{PARTITION}:iam::{account_id}:user{path}{name}"


@dataclass(frozen=True)
class Principal:
    """Who makes a request. An account's root user has ``arn`` = ``arn:aws:iam::ACCOUNT:root``."""

    account_id: str | None = None
    arn: str | None = None
    canonical_id: str | None = None
    user_name: str | None = None
    user_id: str | None = None
    service: str | None = None
    is_anonymous: bool = False

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(is_anonymous=True)

    @classmethod
    def root(cls, account_id: str, canonical_id: str | None = None) -> Principal:
        return cls(account_id=account_id, arn=root_arn(account_id), canonical_id=canonical_id)

    @classmethod
    def user(cls, account_id: str, name: str, *, user_id: str | None = None, canonical_id: str | None = None,
             path: str = "/") -> Principal:
        return cls(account_id=account_id, arn=user_arn(account_id, name, path), canonical_id=canonical_id,
                   user_name=name, user_id=user_id)

    @property
    def is_root(self) -> bool:
        return self.account_id is not None and self.arn == root_arn(self.account_id)

    def derived_keys(self) -> dict[str, list[str]]:
        """The global condition keys that follow from the principal alone (as AWS fills them)."""
        if self.is_anonymous:
            return {"aws:principaltype": ["Anonymous"], "aws:userid": ["anonymous"]}
        keys: dict[str, list[str]] = {}
        if self.service is not None:
            keys["aws:principalservicename"] = [self.service]
            keys["aws:principaltype"] = ["Service"]
            return keys
        if self.account_id is not None:
            keys["aws:principalaccount"] = [self.account_id]
        if self.arn is not None:
            keys["aws:principalarn"] = [self.arn]
        if self.is_root:
            keys["aws:principaltype"] = ["Account"]
            if self.account_id is not None:
                keys["aws:userid"] = [self.account_id]
        else:
            keys["aws:principaltype"] = ["User"]
            if self.user_name is not None:
                keys["aws:username"] = [self.user_name]
            if self.user_id is not None:
                keys["aws:userid"] = [self.user_id]
        return keys


@dataclass(frozen=True)
class RequestContext:
    """One authorization question: may ``principal`` perform ``action`` on ``resource``?

    ``conditions`` holds the request's condition keys (``aws:SourceIp``, ``s3:prefix``, ...), each with its
    list of values; names are case-insensitive. Keys derived from the principal (``aws:username``,
    ``aws:userid``, ``aws:PrincipalAccount``, ``aws:PrincipalArn``, ``aws:PrincipalType``) are filled in
    unless given explicitly.
    """

    principal: Principal
    action: str
    resource: str
    conditions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    _keys: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {k: tuple(v) for k, v in self.principal.derived_keys().items()}
        for k, v in self.conditions.items():
            keys[normalize_key(k)] = (v,) if isinstance(v, str) else tuple(v)
        object.__setattr__(self, "_keys", keys)

    def values(self, key: str) -> tuple[str, ...] | None:
        """The values of a condition key, or None when the request has no such key."""
        return self._keys.get(normalize_key(key))


@dataclass(frozen=True)
class PrincipalSpec:
    """A parsed Principal or NotPrincipal element. Account ids are stored as root ARNs."""

    wildcard: bool = False
    aws: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()
    service: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Condition:
    """One (operator, key) pair of a Condition block, e.g. ``ForAnyValue:StringLikeIfExists`` on ``s3:prefix``."""

    operator: str                   # as written in the policy
    base: str                       # canonical base operator, e.g. "StringLike"
    qualifier: str | None           # "ForAnyValue", "ForAllValues" or None
    if_exists: bool
    key: str                        # as written
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    effect: Effect
    sid: str | None = None
    principal: PrincipalSpec | None = None
    not_principal: PrincipalSpec | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Policy:
    kind: PolicyKind
    statements: tuple[Statement, ...]
    version: str = VERSION_2008
    id: str | None = None
    text: str = ""

    @property
    def variables(self) -> bool:
        """Whether policy variables are substituted (only under Version 2012-10-17)."""
        return self.version == VERSION_2012
