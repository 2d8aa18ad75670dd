"""The stored objects a SQL job names: ``'s3://bucket/prefix/*.parquet'`` literals found with DuckDB's
own tokenizer, expanded against the bucket listing, and rewritten to the local files DuckDB reads.

``*`` and ``?`` match within one path segment, ``**`` across segments; a reference ending in ``/`` means
every object under that prefix. In a FROM clause the literal becomes ``read_parquet([...])`` (or
``read_csv``/``read_json`` by the pattern's extension); as a function argument (``read_csv('s3://...',
header=true)``) it becomes the list of files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb

from nuage.core.select.errors import SelectError
from nuage.core.select.translate import sql_string

WILDCARDS = re.compile(r"[*?\[]")


@dataclass
class Reference:
    start: int                   # offsets of the literal (quotes included) in the SQL text
    end: int
    bucket: str
    pattern: str                 # the key pattern
    in_call: bool                # the literal is a function argument
    keys: list[str] = field(default_factory=list)

    @property
    def has_wildcard(self) -> bool:
        return bool(WILDCARDS.search(self.pattern)) or self.pattern.endswith("/") or self.pattern == ""

    @property
    def prefix(self) -> str:
        m = WILDCARDS.search(self.pattern)
        return self.pattern[: m.start()] if m else self.pattern

    def matches(self, key: str) -> bool:
        return pattern_regex(self.pattern).fullmatch(key) is not None

    @property
    def reader(self) -> str:
        low = self.pattern.lower()
        if low.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
            return "read_csv"
        if low.endswith((".json", ".jsonl", ".ndjson", ".json.gz")):
            return "read_json"
        return "read_parquet"


def pattern_regex(pattern: str) -> re.Pattern[str]:
    if pattern == "" or pattern.endswith("/"):
        return re.compile(re.escape(pattern) + ".*", re.S)
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        ch = pattern[i]
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                out.append("[" + pattern[i + 1:end].replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


def single_select(sql: str) -> str:
    """The text of the one SELECT statement ``sql`` holds (a trailing ``;`` allowed)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SelectError("UnsupportedSyntax", str(exc).strip().splitlines()[0]) from exc
    if len(statements) != 1:
        raise SelectError("UnsupportedSyntax", "A SQL job runs exactly one SELECT statement.")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise SelectError("UnsupportedSqlOperation", "A SQL job runs a SELECT statement only.")
    return sql.strip().rstrip(";").strip()


def find_references(sql: str) -> list[Reference]:
    refs: list[Reference] = []
    try:
        tokens = duckdb.tokenize(sql)
    except duckdb.Error as exc:
        raise SelectError("UnsupportedSyntax", str(exc).strip().splitlines()[0]) from exc
    calls: list[bool] = []        # open parentheses: whether each opens a function's arguments
    for n, (pos, kind) in enumerate(tokens):
        if kind == duckdb.token_type.operator:
            if sql.startswith("(", pos):
                calls.append(n > 0 and tokens[n - 1][1] == duckdb.token_type.identifier)
            elif sql.startswith(")", pos) and calls:
                calls.pop()
            continue
        if kind != duckdb.token_type.string_const or not sql.startswith("'", pos):
            continue
        end = _literal_end(sql, pos)
        text = sql[pos + 1:end - 1].replace("''", "'")
        if not text.lower().startswith("s3://"):
            continue
        bucket, _, pattern = text[5:].partition("/")
        if not bucket:
            raise SelectError("InvalidKeyPath", f"No bucket in {text!r}.")
        refs.append(Reference(pos, end, bucket, pattern, bool(calls) and calls[-1]))
    return refs


def _literal_end(sql: str, start: int) -> int:
    i = start + 1
    while i < len(sql):
        if sql[i] == "'":
            if sql.startswith("''", i):
                i += 2
                continue
            return i + 1
        i += 1
    raise SelectError("UnsupportedSyntax", "Unterminated string literal.")


def rewrite(sql: str, refs: list[Reference], files: dict[tuple[str, str], str]) -> str:
    """``sql`` with each reference replaced by the files of its keys (``files``: (bucket, key) -> path)."""
    out: list[str] = []
    pos = 0
    for ref in sorted(refs, key=lambda r: r.start):
        paths = "[" + ", ".join(sql_string(files[(ref.bucket, k)]) for k in ref.keys) + "]"
        out.append(sql[pos:ref.start])
        out.append(paths if ref.in_call else f"{ref.reader}({paths})")
        pos = ref.end
    out.append(sql[pos:])
    return "".join(out)
