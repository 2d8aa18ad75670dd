"""Condition operators (IAM JSON policy elements: Condition operators).

Evaluation of one (operator, key, policy values) against the request, exactly as AWS documents it:

- Several policy values for a key: OR (the request value must match one of them). For a negated
  operator (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals,
  NotIpAddress, ArnNotEquals, ArnNotLike) the values combine as NOR: the negated operator is true exactly
  when its positive counterpart is false.
- A key missing from the request: the positive operator is false, so the negated one is true.
  ``...IfExists`` makes the condition true when the key is missing; otherwise it is evaluated as usual.
  ``Null``: ``"true"`` holds when the key is missing, ``"false"`` when it is present.
- Set qualifiers on multivalued keys: ``ForAnyValue:`` is true when at least one request value matches
  (false when the key is missing or empty); ``ForAllValues:`` is true when every request value matches
  (true when the key is missing or empty). With a negated operator "matches" means "matches none of the
  policy values".
- Without a qualifier and with several request values, the key matches when any request value matches.
- Policy variables are substituted in String*, Arn* and Bool values (Version 2012-10-17 only).
- Numeric values are decimals; dates are ISO 8601 (``2024-01-01``, ``2024-01-01T00:00:00Z``) or epoch
  seconds; Bool compares ``true``/``false`` case-insensitively; BinaryEquals compares base64-decoded
  bytes; IpAddress takes a CIDR block or an address, IPv4 or IPv6. A value that does not parse matches
  nothing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from nuage.core.policy.matching import Lookup, glob, match_arn, tokens
from nuage.core.policy.model import Condition, RequestContext

Matcher = Callable[[str, str, Lookup | None], bool]


def _string_eq(req: str, pol: str, lookup: Lookup | None) -> bool:
    toks = tokens(pol, lookup, wildcards=False)
    return toks is not None and "".join(t for t in toks if isinstance(t, str)) == req


def _string_eq_ic(req: str, pol: str, lookup: Lookup | None) -> bool:
    toks = tokens(pol, lookup, wildcards=False)
    return toks is not None and "".join(t for t in toks if isinstance(t, str)).casefold() == req.casefold()


def _string_like(req: str, pol: str, lookup: Lookup | None) -> bool:
    return glob(pol, req, lookup=lookup)


def _arn(req: str, pol: str, lookup: Lookup | None) -> bool:
    return req.count(":") >= 5 and match_arn(pol, req, lookup)


def parse_number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_date(text: str) -> float | None:
    """Seconds since the epoch from ISO 8601 or from an epoch number; None when it is neither."""
    text = text.strip()
    number = parse_number(text)
    if number is not None:
        return float(number)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _compare(parse: Callable[[str], Decimal | float | None], test: Callable[[Decimal | float, Decimal | float], bool]
             ) -> Matcher:
    def matcher(req: str, pol: str, lookup: Lookup | None) -> bool:
        a, b = parse(req), parse(pol)
        return a is not None and b is not None and test(a, b)
    return matcher


def _bool(req: str, pol: str, lookup: Lookup | None) -> bool:
    toks = tokens(pol, lookup, wildcards=False)
    if toks is None:
        return False
    value = "".join(t for t in toks if isinstance(t, str)).lower()
    return value in ("true", "false") and value == req.strip().lower()


def _binary(req: str, pol: str, lookup: Lookup | None) -> bool:
    try:
        return base64.b64decode(req, validate=True) == base64.b64decode(pol, validate=True)
    except (binascii.Error, ValueError):
        return req == pol


def _ip(req: str, pol: str, lookup: Lookup | None) -> bool:
    try:
        address = ipaddress.ip_address(req.strip().strip("[]"))
        network = ipaddress.ip_network(pol.strip(), strict=False)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None and network.version == 4:
        return address.ipv4_mapped in network
    return address.version == network.version and address in network


def _lt(a: Decimal | float, b: Decimal | float) -> bool:
    return a < b


def _le(a: Decimal | float, b: Decimal | float) -> bool:
    return a <= b


def _gt(a: Decimal | float, b: Decimal | float) -> bool:
    return a > b


def _ge(a: Decimal | float, b: Decimal | float) -> bool:
    return a >= b


def _eq(a: Decimal | float, b: Decimal | float) -> bool:
    return a == b


#: Positive operators and their matcher.
POSITIVE: dict[str, Matcher] = {
    "StringEquals": _string_eq,
    "StringEqualsIgnoreCase": _string_eq_ic,
    "StringLike": _string_like,
    "NumericEquals": _compare(parse_number, _eq),
    "NumericLessThan": _compare(parse_number, _lt),
    "NumericLessThanEquals": _compare(parse_number, _le),
    "NumericGreaterThan": _compare(parse_number, _gt),
    "NumericGreaterThanEquals": _compare(parse_number, _ge),
    "DateEquals": _compare(parse_date, _eq),
    "DateLessThan": _compare(parse_date, _lt),
    "DateLessThanEquals": _compare(parse_date, _le),
    "DateGreaterThan": _compare(parse_date, _gt),
    "DateGreaterThanEquals": _compare(parse_date, _ge),
    "Bool": _bool,
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    "ArnEquals": _arn,
    "ArnLike": _arn,
}

#: Negated operators and the positive operator they negate.
NEGATED: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}

#: Operators whose values may hold policy variables.
WITH_VARIABLES = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"})

_CANONICAL = {name.lower(): name for name in (*POSITIVE, *NEGATED, "Null")}
QUALIFIERS = ("ForAnyValue", "ForAllValues")


def parse_operator(name: str) -> tuple[str, str | None, bool] | None:
    """``(base, qualifier, if_exists)`` for an operator name, or None if it is not one."""
    qualifier: str | None = None
    rest = name
    head, sep, tail = name.partition(":")
    if sep:
        qualifier = next((q for q in QUALIFIERS if q.lower() == head.lower()), None)
        if qualifier is None:
            return None
        rest = tail
    if_exists = rest.lower().endswith("ifexists")
    if if_exists:
        rest = rest[: -len("IfExists")]
    base = _CANONICAL.get(rest.lower())
    if base is None or (base == "Null" and (if_exists or qualifier is not None)):
        return None
    return base, qualifier, if_exists


def evaluate_condition(cond: Condition, request: RequestContext, *, variables: bool) -> bool:
    """Whether one (operator, key) pair of a Condition block holds for the request."""
    present = request.values(cond.key)
    missing = not present
    if cond.base == "Null":
        return any((v.lower() == "true") == missing for v in cond.values if v.lower() in ("true", "false"))
    if missing and cond.if_exists:
        return True
    if cond.qualifier == "ForAllValues" and missing:
        return True
    if missing or present is None:
        return cond.base in NEGATED and cond.qualifier is None
    negated = cond.base in NEGATED
    positive = NEGATED.get(cond.base, cond.base)
    matcher = POSITIVE[positive]
    lookup: Lookup | None = request.values if variables and positive in WITH_VARIABLES else None

    def matches(value: str) -> bool:
        return any(matcher(value, pol, lookup) for pol in cond.values)

    if cond.qualifier == "ForAllValues":
        return all(matches(v) != negated for v in present)
    if cond.qualifier == "ForAnyValue":
        return any(matches(v) != negated for v in present)
    return any(matches(v) for v in present) != negated


def evaluate_conditions(conds: tuple[Condition, ...], request: RequestContext, *, variables: bool) -> bool:
    """A Condition block holds when every (operator, key) pair in it holds (AND)."""
    return all(evaluate_condition(c, request, variables=variables) for c in conds)
