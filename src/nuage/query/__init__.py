"""SQL over stored objects: SQL jobs run by DuckDB on the stored blob files."""
