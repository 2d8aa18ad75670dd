"""From the S3 Select syntax tree to DuckDB SQL over a view named ``s3object``.

Only what the dialect allows is emitted: known functions (a fixed table), quoted identifiers and
escaped literals, so no user text reaches DuckDB as SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nuage.core.select.errors import (
    BadLikeEscape,
    BadTimestampPattern,
    IllegalArgument,
    UnknownColumn,
    UnknownDatePart,
    UnsupportedCastType,
    UnsupportedFunction,
    UnsupportedStructure,
    UnsupportedSyntax,
    WrongArguments,
)
from nuage.core.select.sql import (
    Between,
    Binary,
    Call,
    Case,
    Cast,
    Column,
    InList,
    IsNull,
    Like,
    Literal,
    Node,
    Query,
    Unary,
)

POSITIONAL = re.compile(r"^_(\d+)$")

CAST_TYPES = {
    "int": "BIGINT", "integer": "BIGINT", "bigint": "BIGINT", "smallint": "BIGINT", "tinyint": "BIGINT",
    "float": "DOUBLE", "real": "DOUBLE", "double": "DOUBLE", "decimal": "DOUBLE", "numeric": "DOUBLE",
    "string": "VARCHAR", "varchar": "VARCHAR", "char": "VARCHAR", "text": "VARCHAR",
    "bool": "BOOLEAN", "boolean": "BOOLEAN", "timestamp": "TIMESTAMP",
}
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")
AGGREGATES = frozenset({"count", "sum", "avg", "min", "max"})
TIMESTAMP_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y%m%dT%H%M%S", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ",
                     "%Y-%m-%dT%H:%MZ", "%Y-%m-%dT", "%Y-%mT", "%YT", "%Y-%m-%d")
# TO_STRING patterns (the Java-like letters of S3 Select) to strftime, longest first
_PATTERN = re.compile(r"'[^']*'|y+|M+|d+|H+|h+|m+|s+|S+|a|n|X+|x+|[A-Za-z]")
_PATTERN_MAP = {
    "yyyy": "%Y", "yyy": "%Y", "yy": "%y", "y": "%Y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%-m",
    "dd": "%d", "d": "%-d", "HH": "%H", "H": "%-H", "hh": "%I", "h": "%-I", "mm": "%M", "m": "%-M",
    "ss": "%S", "s": "%-S", "SSS": "%g", "SS": "%g", "S": "%g", "a": "%p", "n": "%n",
}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Schema:
    """What the ``s3object`` view offers. CSV views carry ``_1.._N`` and, with a header in use, the
    header names; JSON and Parquet views carry the record's top-level fields."""

    kind: str                                   # csv | json | parquet
    columns: list[str]
    star_columns: list[str]                     # what SELECT * returns
    lookup: dict[str, str] = field(default_factory=dict)   # lowercased name -> view column

    def __post_init__(self) -> None:
        for name in self.columns:
            self.lookup.setdefault(name.lower(), name)


@dataclass
class Translation:
    sql: str
    names: list[str]             # output column names (JSON output keys)


class Translator:
    def __init__(self, query: Query, schema: Schema, now: datetime | None = None) -> None:
        self.q = query
        self.schema = schema
        self.now = (now or datetime.now(UTC)).replace(tzinfo=None)
        self.expanding: list[str] = []
        self.source_names = {"s3object", "stdin"} | ({query.source_alias.lower()} if query.source_alias else set())

    # -- statement ----------------------------------------------------------------------------
    def translate(self) -> Translation:
        names: list[str] = []
        exprs: list[str] = []
        if not self.q.items:
            for col in self.schema.star_columns:
                exprs.append(quote_ident(col))
                names.append(col)
        for i, item in enumerate(self.q.items, 1):
            if isinstance(item.expr, Column) and len(item.expr.parts) >= 1 and item.alias is None and \
                    self._is_source(item.expr.parts):
                exprs.append(self._record())
                names.append(f"_{i}")
                continue
            exprs.append(self.emit(item.expr))
            if item.alias is not None:
                names.append(item.alias)
            elif isinstance(item.expr, Column) and not POSITIONAL.match(item.expr.parts[-1]):
                names.append(item.expr.parts[-1])
            else:
                names.append(f"_{i}")
        select = ", ".join(f"{e} AS {quote_ident(f'c{i}')}" for i, e in enumerate(exprs))
        sql = f"SELECT {select} FROM s3object"
        if self.q.where is not None:
            sql += f" WHERE {self.emit(self.q.where)}"
        if self.q.limit is not None:
            sql += f" LIMIT {self.q.limit}"
        return Translation(sql, names)

    def _is_source(self, parts: tuple[str, ...]) -> bool:
        return len(parts) == 1 and parts[0].lower() in self.source_names and parts[0].lower() not in \
            self.schema.lookup

    def _record(self) -> str:
        cols = self.schema.star_columns
        return "struct_pack(" + ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for c in cols) + ")"

    # -- expressions --------------------------------------------------------------------------
    def emit(self, node: Node) -> str:
        method: Callable[[Node], str] | None = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise UnsupportedSyntax(f"Unsupported expression: {type(node).__name__}.")
        return method(node)

    def _literal(self, node: Node) -> str:
        assert isinstance(node, Literal)
        v = node.value
        if node.quoted_double and isinstance(v, str):
            found = self._binding(v, quoted=True)
            if found is not None:
                return found
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return f"CAST({v!r} AS DOUBLE)"
        return sql_string(str(v))

    def _binding(self, name: str, *, quoted: bool = False) -> str | None:
        """A view column or a SELECT alias by that name, or None."""
        # "text" names a header column or an alias when there is one (never a positional _N, which
        # the RGW dialect writes as a string: _1 LIKE "_3")
        col = self.schema.lookup.get(name.lower()) if not quoted else (
            name if name in self.schema.columns and not POSITIONAL.match(name) else None)
        if col is not None:
            return quote_ident(col)
        alias = self.q.aliases.get(name.lower())
        if alias is not None:
            if name.lower() in self.expanding:
                raise UnsupportedStructure("number of calls exceed maximum size, probably a "
                                           f"cyclic reference to alias {{{name}}}")
            self.expanding.append(name.lower())
            try:
                return f"({self.emit(alias)})"
            finally:
                self.expanding.pop()
        return None

    def _column(self, node: Node) -> str:
        assert isinstance(node, Column)
        parts = list(node.parts)
        if len(parts) > 1 and (parts[0].lower() in self.source_names or
                               (self.schema.kind != "csv" and parts[0] == "_1")):
            parts = parts[1:]
        head = parts[0]
        found = self._binding(head)
        if found is None:
            m = POSITIONAL.match(head)
            if m and self.schema.kind == "csv" and len(parts) == 1:
                return "CAST(NULL AS VARCHAR)"   # a column past the end of every record
            raise UnknownColumn(f"alias {{{head}}} or column not exist in schema: no column {head!r}.")
        return found + "".join("." + quote_ident(p) for p in parts[1:])

    def _star(self, node: Node) -> str:
        return "*"

    def _unary(self, node: Node) -> str:
        assert isinstance(node, Unary)
        return f"({node.op} {self.emit(node.operand)})"

    def _binary(self, node: Node) -> str:
        assert isinstance(node, Binary)
        return f"({self.emit(node.left)} {node.op} {self.emit(node.right)})"

    def _isnull(self, node: Node) -> str:
        assert isinstance(node, IsNull)
        return f"({self.emit(node.operand)} IS {'NOT ' if node.negated else ''}NULL)"

    def _inlist(self, node: Node) -> str:
        assert isinstance(node, InList)
        items = ", ".join(self.emit(i) for i in node.items)
        return f"({self.emit(node.operand)} {'NOT ' if node.negated else ''}IN ({items}))"

    def _between(self, node: Node) -> str:
        assert isinstance(node, Between)
        return (f"({self.emit(node.operand)} {'NOT ' if node.negated else ''}BETWEEN "
                f"{self.emit(node.low)} AND {self.emit(node.high)})")

    def _like(self, node: Node) -> str:
        assert isinstance(node, Like)
        subject = f"CAST({self.emit(node.operand)} AS VARCHAR)"
        neg = "NOT " if node.negated else ""
        pattern = node.pattern.value if isinstance(node.pattern, Literal) else None
        escape = node.escape.value if isinstance(node.escape, Literal) else None
        if node.escape is not None and (not isinstance(escape, str) or len(escape) != 1):
            raise BadLikeEscape("The ESCAPE of LIKE must be one character.")
        if isinstance(pattern, str) and "[" in pattern:
            regex = like_to_regex(pattern, escape if isinstance(escape, str) else None)
            return f"({neg}regexp_full_match({subject}, {sql_string(regex)}))"
        esc = f" ESCAPE {sql_string(escape)}" if isinstance(escape, str) else ""
        return f"({subject} {neg}LIKE {self.emit(node.pattern)}{esc})"

    def _case(self, node: Node) -> str:
        assert isinstance(node, Case)
        out = "(CASE"
        if node.subject is not None:
            out += " " + self.emit(node.subject)
        for cond, value in node.whens:
            out += f" WHEN {self.emit(cond)} THEN {self.emit(value)}"
        if node.default is not None:
            out += f" ELSE {self.emit(node.default)}"
        return out + " END)"

    def _cast(self, node: Node) -> str:
        assert isinstance(node, Cast)
        target = CAST_TYPES.get(node.type_name)
        if target is None:
            raise UnsupportedCastType(f"Cannot cast to {node.type_name!r}.")
        return self._cast_to(self.emit(node.operand), target)

    def _cast_to(self, operand: str, target: str) -> str:
        if target == "TIMESTAMP":
            return self._to_timestamp(operand)
        return f"CAST({operand} AS {target})"

    def _to_timestamp(self, operand: str) -> str:
        tries = ", ".join(sql_string(f) for f in TIMESTAMP_FORMATS)
        return (f"COALESCE(try_strptime(CAST({operand} AS VARCHAR), [{tries}]), "
                f"CAST(CAST({operand} AS VARCHAR) AS TIMESTAMP))")

    def _call(self, node: Node) -> str:
        assert isinstance(node, Call)
        name = node.name
        args = [self.emit(a) for a in node.args]

        def arity(lo: int, hi: int | None = None) -> None:
            if not lo <= len(args) <= (hi if hi is not None else lo):
                raise WrongArguments(f"Wrong number of arguments to {name.upper()}.")

        if name in AGGREGATES:
            if node.star:
                return "count(*)"
            arity(1)
            return f"{name}({args[0]})"
        if name in ("int", "integer"):
            arity(1)
            return self._cast_to(args[0], "BIGINT")
        if name in ("float", "double"):
            arity(1)
            return self._cast_to(args[0], "DOUBLE")
        if name == "string":
            arity(1)
            return self._cast_to(args[0], "VARCHAR")
        if name in ("lower", "upper"):
            arity(1)
            return f"{name}(CAST({args[0]} AS VARCHAR))"
        if name in ("char_length", "character_length"):
            arity(1)
            return f"length(CAST({args[0]} AS VARCHAR))"
        if name == "substring":
            arity(2, 3)
            return f"substring(CAST({args[0]} AS VARCHAR), {', '.join(args[1:])})"
        if name == "trim":
            arity(1, 2)
            fn = {"leading": "ltrim", "trailing": "rtrim"}.get(node.keyword or "both", "trim")
            chars = f", {args[1]}" if len(args) == 2 else ""
            return f"{fn}(CAST({args[0]} AS VARCHAR){chars})"
        if name in ("nullif",):
            arity(2)
            return f"nullif({args[0]}, {args[1]})"
        if name == "coalesce":
            arity(1, 64)
            return f"coalesce({', '.join(args)})"
        if name == "utcnow":
            arity(0)
            return f"TIMESTAMP {sql_string(self.now.isoformat(sep=' '))}"
        if name == "to_timestamp":
            arity(1)
            return self._to_timestamp(args[0])
        if name == "to_string":
            arity(2)
            fmt = node.args[1]
            if not isinstance(fmt, Literal) or not isinstance(fmt.value, str):
                raise IllegalArgument("TO_STRING needs a format pattern literal.")
            return f"strftime({args[0]}, {sql_string(strftime_pattern(fmt.value))})"
        if name == "extract":
            part = node.keyword or ""
            if part in ("timezone_hour", "timezone_minute"):
                return f"(CASE WHEN {args[0]} IS NULL THEN NULL ELSE 0 END)"   # timestamps are UTC
            if part not in DATE_PARTS:
                raise UnknownDatePart(f"Unknown date part {part!r}.")
            return f"CAST(extract({part} FROM {args[0]}) AS BIGINT)"
        if name == "date_add":
            part = node.keyword or ""
            if part not in DATE_PARTS:
                raise UnknownDatePart(f"Unknown date part {part!r}.")
            return f"({args[1]} + to_{part}s(CAST({args[0]} AS BIGINT)))"
        if name == "date_diff":
            part = node.keyword or ""
            if part not in DATE_PARTS:
                raise UnknownDatePart(f"Unknown date part {part!r}.")
            return f"date_sub({sql_string(part)}, {args[0]}, {args[1]})"
        raise UnsupportedFunction(f"Function {name.upper()} is not supported.")


def like_to_regex(pattern: str, escape: str | None) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                out.append("[" + (("^" + body[1:]) if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def strftime_pattern(pattern: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _PATTERN.finditer(pattern):
        out.append(pattern[pos:m.start()].replace("%", "%%"))
        tok = m.group()
        if tok.startswith("'"):
            out.append(tok[1:-1].replace("%", "%%") if len(tok) > 2 else "'")
        elif tok[0] in "Xx":
            out.append("Z" if tok[0] == "X" else "+00" + (":00" if len(tok) >= 3 else "00" if len(tok) == 2 else ""))
        elif tok in _PATTERN_MAP:
            out.append(_PATTERN_MAP[tok])
        else:
            raise BadTimestampPattern(f"Invalid timestamp format pattern {tok!r}.")
        pos = m.end()
    out.append(pattern[pos:].replace("%", "%%"))
    return "".join(out)
