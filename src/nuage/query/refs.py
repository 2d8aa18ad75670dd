"""The stored objects a SQL job names: ``'s3://bucket/prefix/*.parquet'`` literals found with DuckDB's
own tokenizer, expanded against the bucket listing, and rewritten to the local files DuckDB reads.

``*`` and ``?`` match within one path segment, ``**`` across segments; a reference ending in ``/`` means
every object under that prefix. In a FROM clause the literal becomes ``read_parquet([...])`` (or
``read_csv``/``read_json`` by the pattern's extension); as a function argument (``read_csv('s3://...',
header=true)``) it becomes the list of files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import duckdb

from nuage.core.select.errors import UnknownPath, UnsupportedFunction, UnsupportedSyntax
from nuage.core.select.translate import sql_string
from nuage.query.errors import NotASelect
from nuage.types import BucketName, ObjectKey

WILDCARDS = re.compile(r"[*?\[]")


@dataclass
class Reference:
    start: int                   # offsets of the literal (quotes included) in the SQL text
    end: int
    bucket: BucketName
    pattern: str                 # the key pattern
    in_call: bool                # the literal is a function argument
    keys: list[ObjectKey] = field(default_factory=list)

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


#: functions that show the server's settings, folders or files, or run SQL text of their own
HIDDEN_FUNCTIONS = frozenset({
    "current_setting", "getenv", "glob", "read_text", "read_blob", "sniff_csv", "query", "query_table",
    "json_execute_serialized_sql", "which_secret", "parquet_metadata", "parquet_file_metadata",
    "parquet_kv_metadata", "parquet_schema", "parquet_bloom_probe", "iceberg_metadata",
})
HIDDEN_PREFIXES = ("duckdb_", "pragma_")
#: reader options whose values are server paths
HIDDEN_OPTIONS = frozenset({"filename"})


def single_select(sql: str) -> str:
    """The text of the one SELECT statement ``sql`` holds (a trailing ``;`` allowed)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise UnsupportedSyntax(str(exc).strip().splitlines()[0]) from exc
    if len(statements) != 1:
        raise UnsupportedSyntax("A SQL job runs exactly one SELECT statement.")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise NotASelect("A SQL job runs a SELECT statement only.")
    text = _without_final_semicolon(sql.strip())
    _check_tree(_syntax_tree(text))
    return text


def _without_final_semicolon(sql: str) -> str:
    """``sql`` without the ``;`` that ends it (comments after it stay: they are comments)."""
    tokens = duckdb.tokenize(sql)
    if tokens and tokens[-1][1] == duckdb.token_type.operator and sql.startswith(";", tokens[-1][0]):
        pos = tokens[-1][0]
        return (sql[:pos] + sql[pos + 1:]).strip()
    return sql


def _syntax_tree(sql: str) -> object:
    conn = duckdb.connect(":memory:", config={"enable_external_access": False})
    try:
        row = conn.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
    except duckdb.Error as exc:
        raise UnsupportedSyntax(str(exc).strip().splitlines()[0]) from exc
    finally:
        conn.close()
    tree = json.loads(row[0]) if row else {}
    if not isinstance(tree, dict) or tree.get("error"):
        raise NotASelect("A SQL job runs a SELECT statement only.")
    return tree


def _check_tree(tree: object) -> None:
    """Refuse DESCRIBE/SHOW/SUMMARIZE and what would show the server's own paths and settings."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        todo.extend(node.values())
        if node.get("type") == "SHOW_REF":
            raise NotASelect("DESCRIBE, SHOW and SUMMARIZE are not supported in a SQL "
                             "job: run a SELECT.")
        if node.get("class") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in HIDDEN_FUNCTIONS or name.startswith(HIDDEN_PREFIXES):
                raise UnsupportedFunction(f"The function {name} is not available in SQL jobs.")
        if node.get("type") == "TABLE_FUNCTION" and isinstance(node.get("function"), dict):
            for arg in node["function"].get("children") or []:
                option = _option_name(arg)
                if option in HIDDEN_OPTIONS:
                    raise NotASelect(f"The {option} option is not available in SQL "
                                     f"jobs (it would show server paths).")


def _option_name(arg: object) -> str | None:
    """The name of a named argument (``name = value`` or ``name := value``)."""
    if not isinstance(arg, dict):
        return None
    if arg.get("alias"):
        return str(arg["alias"]).lower()
    left = arg.get("left")
    if arg.get("type") == "COMPARE_EQUAL" and isinstance(left, dict) and left.get("class") == "COLUMN_REF":
        names = left.get("column_names") or []
        return str(names[-1]).lower() if names else None
    return None


def find_references(sql: str) -> list[Reference]:
    refs: list[Reference] = []
    try:
        tokens = duckdb.tokenize(sql)
    except duckdb.Error as exc:
        raise UnsupportedSyntax(str(exc).strip().splitlines()[0]) from exc
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
            raise UnknownPath(f"No bucket in {text!r}.")
        refs.append(Reference(pos, end, BucketName(bucket), pattern, bool(calls) and calls[-1]))
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
    raise UnsupportedSyntax("Unterminated string literal.")


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
