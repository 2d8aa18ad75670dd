"""What a SelectObjectContent request asks for, as plain values (the S3 layer parses the XML)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CSVInput:
    file_header_info: str = "NONE"          # NONE | USE | IGNORE
    comments: str = ""
    quote_escape: str = '"'
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote: str = '"'
    allow_quoted_record_delimiter: bool = False


@dataclass(frozen=True)
class JSONInput:
    type: str = "DOCUMENT"                  # DOCUMENT | LINES


@dataclass(frozen=True)
class ParquetInput:
    pass


@dataclass(frozen=True)
class CSVOutput:
    quote_fields: str = "ASNEEDED"          # ASNEEDED | ALWAYS
    quote_escape: str = '"'
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote: str = '"'


@dataclass(frozen=True)
class JSONOutput:
    record_delimiter: str = "\n"


InputFormat = CSVInput | JSONInput | ParquetInput
OutputFormat = CSVOutput | JSONOutput


@dataclass(frozen=True)
class SelectSpec:
    expression: str
    input: InputFormat
    output: OutputFormat
    compression: str = "NONE"               # NONE | GZIP | BZIP2
    scan_range: tuple[int | None, int | None] | None = None   # (start, end) inclusive, either may be None
    progress: bool = False


@dataclass
class SelectStats:
    bytes_scanned: int = 0
    bytes_processed: int = 0
    bytes_returned: int = 0
    records: int = field(default=0)
