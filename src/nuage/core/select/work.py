"""What the server asks of a SQL worker process (pickled onto its stdin), and how a job's or a
select's messages name things: local file paths become ``s3://bucket/key`` names, and any other path
inside the server's folders is hidden."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nuage.core.select.errors import MemoryExceeded, SelectError
from nuage.core.select.spec import SelectSpec

MIB = 1024 * 1024
HIDDEN = "<internal>"


@dataclass(frozen=True)
class Budget:
    """The hard limits of one worker process."""
    memory_bytes: int                 # DuckDB's memory limit; the address space allows a margin over it
    threads: int | None = None
    temp_bytes: int = 0               # DuckDB may spill this much to its temporary folder (0: no spilling)

    @property
    def memory_mib(self) -> int:
        return max(1, self.memory_bytes // MIB)


def memory_exceeded(budget: Budget) -> SelectError:
    return MemoryExceeded(f"The query was stopped: memory limit of {budget.memory_mib} MiB exceeded.")


@dataclass(frozen=True)
class JobWork:
    query: str                        # the job's SELECT, its references rewritten to local files
    files: list[str]
    result: str                       # the Parquet file to write
    temp_dir: str
    budget: Budget
    max_result_bytes: int
    names: dict[str, str] = field(default_factory=dict)     # local file -> s3://bucket/key
    hidden: list[str] = field(default_factory=list)         # folders whose paths are never shown
    quota_bound: bool = False         # max_result_bytes is what the account's quota leaves


@dataclass(frozen=True)
class SelectWork:
    spec: SelectSpec
    path: str
    size: int
    scratch: str
    budget: Budget
    name: str                         # s3://bucket/key of the object
    hidden: list[str] = field(default_factory=list)


def scrub(text: str, names: Mapping[str, str], hidden: Sequence[str]) -> str:
    """``text`` with the local files it names shown as their objects and other server paths hidden."""
    for path in sorted(names, key=len, reverse=True):
        text = text.replace(path, names[path])
    for folder in sorted({h.rstrip("/") for h in hidden if h.strip("/")}, key=len, reverse=True):
        text = re.sub(re.escape(folder) + r"(?:/[^\s'\"),\]]*)?", HIDDEN, text)
    return text


def parse_size(text: str) -> int:
    """Bytes of a size written as DuckDB writes memory limits: ``2GB``, ``512MiB``, ``100000`` (bytes)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*", text.lower())
    if m is None:
        raise ValueError(f"not a size: {text!r}")
    unit = (m.group(2) or "b").rstrip("b") or "b"
    scale = {"b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
             "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}.get(unit)
    if scale is None:
        raise ValueError(f"not a size: {text!r}")
    return int(float(m.group(1)) * scale)
