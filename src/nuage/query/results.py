"""A job's Parquet result read back as JSON-ready rows.

Every DuckDB type comes out as a plain JSON value, without Python time-zone libraries: timestamps with
a time zone as ISO 8601 text in UTC (``2026-12-07T15:42:41.123456Z``), intervals as DuckDB writes them
(``1 month 03:00:00``), UUIDs as text, decimals as numbers, blobs as text; NaN and the infinities,
which JSON has no numbers for, as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from nuage.core.select.engine import connect
from nuage.core.select.translate import quote_ident, sql_string

NESTED = ("[", "STRUCT(", "MAP(", "UNION(")


def _projection(name: str, kind: str) -> tuple[str, bool]:
    """The SQL that reads one column, and whether it comes back as JSON text to decode."""
    col = quote_ident(name)
    if kind == "TIMESTAMP WITH TIME ZONE":
        return f"strftime(timezone('UTC', {col}), '%Y-%m-%dT%H:%M:%S.%fZ')", False
    if kind in ("TIME WITH TIME ZONE", "INTERVAL"):
        return f"CAST({col} AS VARCHAR)", False
    if any(n in kind for n in NESTED) and ("TIME ZONE" in kind or "INTERVAL" in kind):
        return f"CAST(to_json({col}) AS VARCHAR)", True
    return col, False


def read_rows(path: Path, max_rows: int) -> tuple[list[str], list[list[Any]]]:
    conn = connect(memory_limit="512MB")
    try:
        conn.execute("SET TimeZone = 'UTC'")
        source = f"read_parquet({sql_string(str(path))})"
        described = conn.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        columns = [str(r[0]) for r in described]
        projections = [_projection(str(r[0]), str(r[1])) for r in described]
        if not projections:
            return columns, []
        cur = conn.execute(f"SELECT {', '.join(p for p, _ in projections)} FROM {source} LIMIT {int(max_rows)}")
        decode = [d for _, d in projections]
        return columns, [[plain(json.loads(v) if d and isinstance(v, str) else v)
                          for v, d in zip(r, decode, strict=True)] for r in cur.fetchall()]
    finally:
        conn.close()


def plain(v: object) -> object:
    """A value JSON can hold exactly."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, Decimal):
        return plain(float(v))
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    return v
