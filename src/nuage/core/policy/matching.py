"""Wildcards and policy variables.

Templates (a Resource ARN, a condition value) are read into tokens: literal text, ``*`` (any run of
characters) and ``?`` (one character). Under Version 2012-10-17, ``${key}`` is replaced by the single
value of that request key, ``${key, 'default'}`` falls back to the default, and ``${*}``, ``${?}``,
``${$}`` stand for the literal characters. A variable whose key is missing (or has several values) and
has no default leaves the template unresolved: it then matches nothing, as AWS documents for
"policy variables with no value".

Matching rules (IAM JSON policy reference):

- Action: ``service:name``, case-insensitive, ``*`` and ``?`` anywhere; no variables.
- Resource and Arn* conditions: case-sensitive; when the pattern has the six colon-separated ARN
  parts, each part is matched on its own (a wildcard does not cross a ``:`` before the resource part);
  the resource part itself may contain colons. ``*`` alone matches every resource.
- StringLike: case-sensitive glob over the whole value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

STAR = object()
QMARK = object()
Token = str | object
Lookup = Callable[[str], Sequence[str] | None]

_VAR = re.compile(r"^\s*([^\s,'{}$]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")


def tokens(template: str, lookup: Lookup | None, *, wildcards: bool = True) -> list[Token] | None:
    """Read ``template`` into tokens, substituting variables through ``lookup`` (None: variables are literal).

    Returns None when a variable cannot be resolved.
    """
    out: list[Token] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.append("".join(buf))
            buf.clear()

    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "$" and lookup is not None and template.startswith("${", i):
            end = template.find("}", i + 2)
            if end != -1:
                inner = template[i + 2:end]
                if inner in ("*", "?", "$"):
                    buf.append(inner)
                    i = end + 1
                    continue
                m = _VAR.match(inner)
                if m is not None:
                    values = lookup(m.group(1))
                    if values is not None and len(values) == 1:
                        buf.append(values[0])
                    elif m.group(2) is not None:
                        buf.append(m.group(2).replace("''", "'"))
                    else:
                        return None
                    i = end + 1
                    continue
        if wildcards and c in "*?":
            flush()
            out.append(STAR if c == "*" else QMARK)
        else:
            buf.append(c)
        i += 1
    flush()
    return out


def has_variables(template: str) -> bool:
    return "${" in template


def _regex(toks: Sequence[Token], *, arn: bool) -> str:
    """A regex source for the tokens; with ``arn``, wildcards in the first five ARN parts stop at ``:``."""
    colons = sum(t.count(":") for t in toks if isinstance(t, str))
    segmented = arn and colons >= 5
    seen = 0
    parts: list[str] = []
    for t in toks:
        if isinstance(t, str):
            parts.append(re.escape(t))
            seen += t.count(":")
        elif segmented and seen < 5:
            parts.append("[^:]*" if t is STAR else "[^:]")
        else:
            parts.append(".*" if t is STAR else ".")
    return "".join(parts)


@lru_cache(maxsize=4096)
def _compile(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def match_tokens(toks: Sequence[Token], value: str, *, arn: bool = False, ignore_case: bool = False) -> bool:
    if len(toks) == 1 and toks[0] is STAR:
        return True
    return _compile(_regex(toks, arn=arn), ignore_case).fullmatch(value) is not None


def glob(pattern: str, value: str, *, ignore_case: bool = False, lookup: Lookup | None = None) -> bool:
    """StringLike semantics: ``*`` and ``?`` wildcards over the whole value."""
    toks = tokens(pattern, lookup)
    return toks is not None and match_tokens(toks, value, ignore_case=ignore_case)


def match_action(pattern: str, action: str) -> bool:
    """Action names are case-insensitive (``s3:getobject`` is ``s3:GetObject``)."""
    if pattern == "*":
        return True
    toks = tokens(pattern, None)
    return toks is not None and match_tokens(toks, action, ignore_case=True)


def match_arn(pattern: str, arn: str, lookup: Lookup | None = None) -> bool:
    """Resource / ArnLike semantics (see the module docstring)."""
    if pattern == "*":
        return True
    toks = tokens(pattern, lookup)
    return toks is not None and match_tokens(toks, arn, arn=True)


def can_match_prefix(pattern: str, prefix: str, *, ignore_case: bool = False) -> bool:
    """Whether some string that starts with ``prefix`` matches the glob ``pattern`` (variables count as ``*``)."""
    toks = tokens(re.sub(r"\$\{[^}]*\}", "*", pattern), None)
    if toks is None:
        return False
    flat: list[Token] = []
    for t in toks:
        flat.extend(t if isinstance(t, str) else [t])  # one token per character
    states = _closure({0}, flat)
    for ch in prefix:
        nxt: set[int] = set()
        for s in states:
            if s < len(flat):
                t = flat[s]
                if t is STAR:
                    nxt.add(s)
                elif t is QMARK or t == ch or (ignore_case and isinstance(t, str) and t.lower() == ch.lower()):
                    nxt.add(s + 1)
        states = _closure(nxt, flat)
        if not states:
            return False
    return True


def _closure(states: set[int], flat: Sequence[Token]) -> set[int]:
    out = set(states)
    for s in sorted(states):
        j = s
        while j < len(flat) and flat[j] is STAR:
            j += 1
            out.add(j)
    return out
