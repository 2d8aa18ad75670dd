"""Bucket CORS: the rule model (validated, stored as JSON in bucket_configs) and how a browser's
request is matched against it. No HTTP here: the S3 layer turns the answer into headers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from nuage.core.bucket_config import ConfigKind
from nuage.errors import InvalidRequest, MalformedXML

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 100
MAX_ID = 255


@dataclass
class CORSRule:
    allowed_methods: list[str]
    allowed_origins: list[str]
    allowed_headers: list[str] = field(default_factory=list)
    expose_headers: list[str] = field(default_factory=list)
    max_age: int | None = None
    id: str | None = None

    def origin_match(self, origin: str) -> str | None:
        """The AllowedOrigin entry that admits ``origin``, or None."""
        for pattern in self.allowed_origins:
            if wildcard_match(pattern, origin):
                return pattern
        return None

    def headers_allowed(self, requested: list[str]) -> bool:
        return all(any(wildcard_match(p.lower(), h.lower()) for p in self.allowed_headers) for h in requested)


def wildcard_match(pattern: str, value: str) -> bool:
    """``pattern`` holds at most one ``*``, which stands for any run of characters (even none)."""
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def validate(rules: list[CORSRule]) -> list[CORSRule]:
    if not rules or len(rules) > MAX_RULES:
        raise MalformedXML()
    for rule in rules:
        if not rule.allowed_methods or not rule.allowed_origins:
            raise MalformedXML()
        if rule.id is not None and len(rule.id) > MAX_ID:
            raise InvalidRequest("The ID of a CORS rule must not be longer than 255 characters.")
        for method in rule.allowed_methods:
            if method not in METHODS:
                raise InvalidRequest(f"Found unsupported HTTP method in CORS config. Unsupported method is "
                                     f"{method}")
        for origin in rule.allowed_origins:
            if origin.count("*") > 1:
                raise InvalidRequest(f'AllowedOrigin "{origin}" can not have more than one wildcard.')
        for header in rule.allowed_headers:
            if header.count("*") > 1:
                raise InvalidRequest(f'AllowedHeader "{header}" can not have more than one wildcard.')
        if rule.max_age is not None and rule.max_age < 0:
            raise MalformedXML()
    return rules


def dumps(rules: list[CORSRule]) -> str:
    return json.dumps([asdict(r) for r in rules])


def loads(text: str) -> list[CORSRule]:
    return [CORSRule(**raw) for raw in json.loads(text)]


#: A bucket's CORS rules.
CORS: ConfigKind[list[CORSRule]] = ConfigKind("cors", dumps, loads)


@dataclass
class Match:
    rule: CORSRule
    allow_origin: str       # "*" when the rule admits every origin, else the request's origin


def find(rules: list[CORSRule], origin: str, method: str, request_headers: list[str] | None = None) -> Match | None:
    """The first rule that admits this origin, method and (for a preflight) these request headers."""
    for rule in rules:
        pattern = rule.origin_match(origin)
        if pattern is None or method not in rule.allowed_methods:
            continue
        if request_headers and not rule.headers_allowed(request_headers):
            continue
        return Match(rule, "*" if pattern == "*" else origin)
    return None


def split_header_list(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").split(",") if h.strip()]
