"""Run one S3 Select request over one local file with DuckDB, producing serialized output.

The caller hands over the object's plaintext as a file (the blob itself, or a copy for inline,
multipart and encrypted objects). Preparing (input shaping, view, translation, execution start)
raises :class:`SelectError` before any output; reading batches may raise it later (an error event).
All methods block: call them from a worker thread.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from nuage.core.select.engine import connect, map_error, progress
from nuage.core.select.errors import (
    BadCompression,
    BadRequestParameter,
    BadScanRange,
    ScanRangeNotApplicable,
    UnknownPath,
)
from nuage.core.select.spec import CSVInput, CSVOutput, JSONInput, JSONOutput, SelectSpec, SelectStats
from nuage.core.select.sql import parse, too_complex
from nuage.core.select.translate import Schema, Translator, quote_ident, sql_string

BATCH_ROWS = 4096
COPY_CHUNK = 1024 * 1024
STANDARD_NEWLINES = ("\n", "\r\n", "\r")
MAX_JSON_OBJECT = 64 * 1024 * 1024


class SelectRun:
    def __init__(self, spec: SelectSpec, path: Path, size: int, scratch: Path, *,
                 memory_limit: str = "1GB", threads: int | None = None) -> None:
        self.spec = spec
        self.path = path
        self.size = size
        self.scratch = scratch
        self.memory_limit = memory_limit
        self.threads = threads
        self.stats = SelectStats()
        self.names: list[str] = []
        self._temps: list[Path] = []
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._cursor: duckdb.DuckDBPyConnection | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def prepare(self) -> None:
        query = parse(self.spec.expression)       # syntax errors first, before touching the data
        source = self._shaped_input()
        # DuckDB may read the one input file and nothing else
        self._conn = connect(memory_limit=self.memory_limit, threads=self.threads, allowed_paths=[str(source)])
        try:
            schema = self._create_view(self._conn, source)
            try:
                translation = Translator(query, schema).translate()
            except RecursionError:
                raise too_complex() from None
            self.names = translation.names
            self._cursor = self._conn.execute(translation.sql)
        except duckdb.Error as exc:
            raise map_error(exc) from exc

    def batches(self) -> Iterator[bytes]:
        """Serialized output, a batch of records at a time."""
        assert self._cursor is not None
        write = self._csv_writer() if isinstance(self.spec.output, CSVOutput) else self._json_writer()
        while True:
            try:
                rows = self._cursor.fetchmany(BATCH_ROWS)
            except duckdb.Error as exc:
                raise map_error(exc) from exc
            if not rows:
                return
            self.stats.records += len(rows)
            data = write(rows)
            self.stats.bytes_returned += len(data)
            yield data

    def scanned_so_far(self) -> int:
        """An estimate of the input bytes read so far (DuckDB's progress of the query)."""
        done = progress(self._conn)
        return int(self.stats.bytes_scanned * done / 100) if done is not None else 0

    @property
    def copies(self) -> list[Path]:
        """The files made from the object's (decompressed, cut to the scan range, with other newlines),
        which DuckDB reads in its place."""
        return list(self._temps)

    def interrupt(self) -> None:
        if self._conn is not None:
            self._conn.interrupt()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        for p in self._temps:
            p.unlink(missing_ok=True)
        self._temps.clear()

    # -- input ----------------------------------------------------------------------------------
    def _temp(self) -> Path:
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix="select-")
        os.close(fd)
        p = Path(name)
        self._temps.append(p)
        return p

    def _shaped_input(self) -> Path:
        """The file DuckDB reads: decompressed (BZIP2), cut to the scan range, and with CSV records
        ending in a newline; the plain object file when none of that is needed."""
        spec, path = self.spec, self.path
        self.stats.bytes_scanned = self.size
        self.stats.bytes_processed = self.size
        if spec.scan_range is not None:
            if spec.compression != "NONE":
                raise ScanRangeNotApplicable("Scan range queries are not supported on "
                                             "compressed objects.")
            path = self._cut_range(path)
        if spec.compression == "BZIP2":
            out = self._temp()
            try:
                with bz2.open(path, "rb") as src, out.open("wb") as dst:
                    while chunk := src.read(COPY_CHUNK):
                        dst.write(chunk)
            except (OSError, EOFError, ValueError) as exc:
                raise BadCompression("The object is not valid BZIP2 data.") from exc
            path = out
            self.stats.bytes_processed = out.stat().st_size
        inp = spec.input
        if isinstance(inp, CSVInput) and inp.record_delimiter not in STANDARD_NEWLINES:
            if spec.compression == "GZIP":
                raise BadRequestParameter("A custom RecordDelimiter cannot be used with GZIP "
                                          "input.")
            path = self._renewline(path, inp.record_delimiter.encode())
        return path

    def _cut_range(self, path: Path) -> Path:
        """Records (lines) that start within the scan range, as S3 Select defines it."""
        assert self.spec.scan_range is not None
        start, end = self.spec.scan_range
        size = self.size
        if start is None:              # the last ``end`` bytes
            start, end = max(0, size - (end or 0)), size - 1
        if end is None or end >= size:
            end = size - 1
        if start < 0 or start > end + 1:
            raise BadScanRange("The scan range is not valid.")
        delim = b"\n"
        if isinstance(self.spec.input, CSVInput) and self.spec.input.record_delimiter not in STANDARD_NEWLINES:
            delim = self.spec.input.record_delimiter.encode()
        out = self._temp()
        with path.open("rb") as f, out.open("wb") as dst:
            if start > 0:              # a record starts at 0 or right after a delimiter
                f.seek(start - 1)
                carry = b""
                while True:
                    chunk = f.read(COPY_CHUNK)
                    if not chunk:
                        return out
                    buf = carry + chunk
                    i = buf.find(delim)
                    if i >= 0:
                        pos = f.tell() - len(buf) + i + len(delim)
                        break
                    carry = buf[-(len(delim) - 1):] if len(delim) > 1 else b""
                if pos > end:
                    return out
                f.seek(pos)
            else:
                pos = 0
            # copy up to ``end``, then to the end of the record that holds it
            left = end + 1 - pos
            while left > 0:
                chunk = f.read(min(COPY_CHUNK, left))
                if not chunk:
                    break
                dst.write(chunk)
                left -= len(chunk)
            tail = b""
            while True:
                chunk = f.read(64 * 1024)
                if not chunk:
                    dst.write(tail)
                    break
                tail += chunk
                i = tail.find(delim)
                if i >= 0:
                    dst.write(tail[: i + len(delim)])
                    break
        self.stats.bytes_scanned = out.stat().st_size
        self.stats.bytes_processed = self.stats.bytes_scanned
        return out

    def _renewline(self, path: Path, delim: bytes) -> Path:
        out = self._temp()
        with path.open("rb") as src, out.open("wb") as dst:
            carry = b""
            while chunk := src.read(COPY_CHUNK):
                parts = (carry + chunk).split(delim)
                carry = parts.pop()
                if parts:
                    dst.write(b"\n".join(parts) + b"\n")
            dst.write(carry)
        return out

    # -- the s3object view ----------------------------------------------------------------------
    def _create_view(self, conn: duckdb.DuckDBPyConnection, path: Path) -> Schema:
        inp = self.spec.input
        compression = {"GZIP": "gzip"}.get(self.spec.compression, "none")
        if isinstance(inp, CSVInput):
            return self._csv_view(conn, path, inp, compression)
        if isinstance(inp, JSONInput):
            fmt = "newline_delimited" if inp.type == "LINES" else "auto"
            base = (f"read_json({sql_string(str(path))}, format={sql_string(fmt)}, records='auto', "
                    f"compression={sql_string('uncompressed' if compression == 'none' else compression)}, "
                    f"sample_size=-1, maximum_object_size={min(max(self.size + 1024, 1 << 20), MAX_JSON_OBJECT)})")
            return self._nested_view(conn, base, self._json_path())
        base = f"read_parquet({sql_string(str(path))})"
        return self._nested_view(conn, base, self._json_path())

    def _json_path(self) -> list[str]:
        return parse(self.spec.expression).path

    def _csv_view(self, conn: duckdb.DuckDBPyConnection, path: Path, inp: CSVInput, compression: str) -> Schema:
        use = inp.file_header_info.upper() == "USE"
        opts = [f"header={'true' if use else 'false'}", "all_varchar=true", "null_padding=true",
                "strict_mode=false", "auto_detect=true", f"compression={sql_string(compression)}",
                f"delim={sql_string(inp.field_delimiter or ',')}"]
        if inp.quote:
            opts.append(f"quote={sql_string(inp.quote)}")
            if inp.quote_escape:
                opts.append(f"escape={sql_string(inp.quote_escape)}")
        if inp.comments:
            opts.append(f"comment={sql_string(inp.comments[0])}")
        if inp.file_header_info.upper() == "IGNORE":
            opts.append("skip=1")
        reader = f"read_csv({sql_string(str(path))}, {', '.join(opts)})"
        cols = [r[0] for r in conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
        if os.path.getsize(path) == 0:
            cols = []
        exprs: list[str] = []
        names: list[str] = []
        positional = [f"_{i}" for i in range(1, len(cols) + 1)]
        if use:
            for c in cols:
                exprs.append(f"{quote_ident(c)} AS {quote_ident(c)}")
                names.append(c)
        for c, p in zip(cols, positional, strict=True):
            if p not in names:
                exprs.append(f"{quote_ident(c)} AS {quote_ident(p)}")
                names.append(p)
        if not exprs:
            conn.execute("CREATE VIEW s3object AS SELECT NULL::VARCHAR AS \"_1\" WHERE false")
            return Schema("csv", ["_1"], ["_1"])
        conn.execute(f"CREATE VIEW s3object AS SELECT {', '.join(exprs)} FROM {reader}")
        return Schema("csv", names, cols if use else positional)

    def _nested_view(self, conn: duckdb.DuckDBPyConnection, base: str, path: list[str]) -> Schema:
        """Follow FROM S3Object[*].a.b into the records: lists are unnested, structs opened."""
        rel = f"(SELECT * FROM {base})"
        for step in path:
            described = conn.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()
            match = next((r for r in described if r[0] == step), None) or next(
                (r for r in described if str(r[0]).lower() == step.lower()), None)
            if match is None:
                raise UnknownPath(f"The path {step!r} is not in the input.")
            col, kind = quote_ident(str(match[0])), str(match[1])
            if kind.endswith("[]"):
                rel = f"(SELECT unnest({col}) AS __v FROM {rel})"
            else:
                rel = f"(SELECT {col} AS __v FROM {rel})"
            inner = conn.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()[0][1]
            rel = f"(SELECT unnest(__v) FROM {rel})" if str(inner).startswith("STRUCT") else \
                f"(SELECT __v AS \"_1\" FROM {rel})"
        conn.execute(f"CREATE VIEW s3object AS SELECT * FROM {rel}")
        cols = [str(r[0]) for r in conn.execute("DESCRIBE SELECT * FROM s3object").fetchall()]
        kind = "parquet" if base.startswith("read_parquet") else "json"
        return Schema(kind, cols, cols)

    # -- output ---------------------------------------------------------------------------------
    def _csv_writer(self) -> Any:
        out = self.spec.output
        assert isinstance(out, CSVOutput)
        always = out.quote_fields.upper() == "ALWAYS"
        q, esc, fd, rd = out.quote, out.quote_escape or out.quote, out.field_delimiter, out.record_delimiter
        specials = tuple(s for s in (q, fd, rd, "\n", "\r") if s)

        def field(v: object) -> str:
            text = _text(v)
            if q and (always or any(s in text for s in specials)):
                return q + text.replace(q, esc + q) + q
            return text

        def write(rows: list[tuple[Any, ...]]) -> bytes:
            return "".join(fd.join(field(v) for v in row) + rd for row in rows).encode()
        return write

    def _json_writer(self) -> Any:
        out = self.spec.output
        assert isinstance(out, JSONOutput)
        names = self.names
        rd = out.record_delimiter

        def write(rows: list[tuple[Any, ...]]) -> bytes:
            return "".join(json.dumps({n: _jsonable(v) for n, v in zip(names, row, strict=True)},
                                      separators=(",", ":"), ensure_ascii=False) + rd for row in rows).encode()
        return write


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and not math.isfinite(v):
        return str(_jsonable(v))
    if isinstance(v, datetime | date | time):
        return _iso(v)
    if isinstance(v, dict | list):
        return json.dumps(_jsonable(v), separators=(",", ":"), ensure_ascii=False)
    return str(v)


def _iso(v: datetime | date | time) -> str:
    text = v.isoformat()
    return text + "Z" if isinstance(v, datetime) and v.tzinfo is None else text


def _jsonable(v: object) -> object:
    """A value JSON holds exactly; NaN and the infinities, which JSON has no numbers for, become the
    strings "NaN", "Infinity" and "-Infinity"."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, Decimal):
        return _jsonable(float(v))
    if isinstance(v, datetime | date | time):
        return _iso(v)
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def csv_rows_text(rows: list[tuple[Any, ...]]) -> str:
    """Rows as RFC 4180 CSV text (used by SQL jobs for their CSV results)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([_text(v) for v in row])
    return buf.getvalue()
