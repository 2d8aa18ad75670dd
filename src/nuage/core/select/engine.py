"""DuckDB connections for S3 Select and SQL jobs: in memory, no extension ever downloaded, bounded
memory and threads, and the mapping of DuckDB's errors to S3 Select error codes."""

from __future__ import annotations

import duckdb

from nuage.core.select.errors import SelectError


def connect(*, memory_limit: str = "1GB", threads: int | None = None,
            allowed_paths: list[str] | None = None, temp_directory: str = "",
            max_temp_bytes: int = 0) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database. With ``allowed_paths`` the connection may read those files and no
    other (external access off, configuration locked): user SQL can then name nothing else. It spills
    to ``temp_directory`` up to ``max_temp_bytes`` (never, by default: DuckDB's own default is a
    folder in the working directory and most of the disk)."""
    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit,
        "temp_directory": temp_directory if max_temp_bytes > 0 else "",
        "max_temp_directory_size": f"{max(max_temp_bytes, 0)}B",
    }
    if threads is not None:
        config["threads"] = threads
    conn = duckdb.connect(":memory:", config=config)
    # progress of a running query, read by conn.query_progress() from another thread (never printed)
    conn.execute("SET enable_progress_bar = true")
    conn.execute("SET enable_progress_bar_print = false")
    conn.execute("SET progress_bar_time = 0")
    if allowed_paths is not None:
        conn.execute("SET allowed_paths = ?", [allowed_paths])
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    return conn


def progress(conn: duckdb.DuckDBPyConnection | None) -> float | None:
    """The running query's progress in percent (0-100), or None when DuckDB does not know it."""
    if conn is None:
        return None
    try:
        value = float(conn.query_progress())
    except duckdb.Error:
        return None
    return min(value, 100.0) if value >= 0 else None


def map_error(exc: Exception) -> SelectError:
    """The S3 Select error for a DuckDB error."""
    text = str(exc)
    low = text.lower()
    if isinstance(exc, duckdb.InterruptException):
        return SelectError("QueryCancelled", "The query was cancelled.", 400)
    if isinstance(exc, duckdb.OutOfMemoryException):
        return SelectError("OverMaxMemory", f"The query needs more memory than allowed: {_first_line(text)}")
    if isinstance(exc, duckdb.ConversionException):
        return SelectError("CastFailed", f"Attempt to convert from one data type to another failed: "
                                         f"{_first_line(text)}")
    if isinstance(exc, duckdb.OutOfRangeException):
        return SelectError("IntegerOverflow", f"Value out of range: {_first_line(text)}")
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException):
        if "gzip" in low or "zlib" in low or "compress" in low:
            return SelectError("InvalidCompressionFormat", f"The file is not in a supported compression format: "
                                                           f"{_first_line(text)}")
        if "json" in low:
            return SelectError("JSONParsingError", f"Error parsing JSON input: {_first_line(text)}")
        if "parquet" in low or "magic" in low:
            return SelectError("InvalidDataSource", f"The object is not a valid Parquet file: {_first_line(text)}")
        if "csv" in low:
            return SelectError("CSVParsingError", f"Error parsing the CSV input: {_first_line(text)}")
        return SelectError("InvalidDataSource", f"The input could not be read: {_first_line(text)}")
    if isinstance(exc, duckdb.BinderException):
        if "referenced column" in low or "not found" in low:
            return SelectError("EvaluatorBindingDoesNotExist", _first_line(text))
        return SelectError("IncorrectSqlFunctionArgumentType", _first_line(text))
    if isinstance(exc, duckdb.ParserException):
        return SelectError("UnsupportedSyntax", _first_line(text))
    if isinstance(exc, duckdb.PermissionException):
        return SelectError("AccessDenied", _first_line(text), 403)
    if isinstance(exc, duckdb.Error):
        return SelectError("InvalidQuery", _first_line(text))
    return SelectError("InternalError", "We encountered an internal error. Please try again.", 500)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
