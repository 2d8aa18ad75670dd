"""DuckDB connections for S3 Select and SQL jobs: in memory, no extension ever downloaded, bounded
memory and threads, and the mapping of DuckDB's errors to S3 Select error codes."""

from __future__ import annotations

import duckdb

from nuage.core.select.errors import (
    BadCompression,
    BadCSV,
    BadJSON,
    Cancelled,
    CastFailed,
    EngineFailure,
    MemoryExceeded,
    QueryFailed,
    ReadRefused,
    SelectError,
    UnknownColumn,
    UnreadableInput,
    UnsupportedSyntax,
    ValueOutOfRange,
    WrongArguments,
)


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
        return Cancelled("The query was cancelled.")
    if isinstance(exc, duckdb.OutOfMemoryException):
        return MemoryExceeded(f"The query needs more memory than allowed: {_first_line(text)}")
    if isinstance(exc, duckdb.ConversionException):
        return CastFailed(f"Attempt to convert from one data type to another failed: "
                          f"{_first_line(text)}")
    if isinstance(exc, duckdb.OutOfRangeException):
        return ValueOutOfRange(f"Value out of range: {_first_line(text)}")
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException):
        if "gzip" in low or "zlib" in low or "compress" in low:
            return BadCompression(f"The file is not in a supported compression format: "
                                  f"{_first_line(text)}")
        if "json" in low:
            return BadJSON(f"Error parsing JSON input: {_first_line(text)}")
        if "parquet" in low or "magic" in low:
            return UnreadableInput(f"The object is not a valid Parquet file: {_first_line(text)}")
        if "csv" in low:
            return BadCSV(f"Error parsing the CSV input: {_first_line(text)}")
        return UnreadableInput(f"The input could not be read: {_first_line(text)}")
    if isinstance(exc, duckdb.BinderException):
        if "referenced column" in low or "not found" in low:
            return UnknownColumn(_first_line(text))
        return WrongArguments(_first_line(text))
    if isinstance(exc, duckdb.ParserException):
        return UnsupportedSyntax(_first_line(text))
    if isinstance(exc, duckdb.PermissionException):
        return ReadRefused(_first_line(text))
    if isinstance(exc, duckdb.Error):
        return QueryFailed(_first_line(text))
    return EngineFailure("We encountered an internal error. Please try again.")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
