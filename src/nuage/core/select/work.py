"""What the server asks of a SQL worker process (pickled onto its stdin), and how a job's or a
select's messages name things: local file paths become ``s3://bucket/key`` names, and any other path
inside the server's folders is hidden."""

from __future__ import annotations

import os
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


_CHARS = r"[^\s'\"()\[\],]"                # a character of a path in a message
_START = r"(?<![^\s'\"(\[,=])"              # a path starts at the start of the text or after these
_END = r"(?![^\s'\"()\[\],])"               # ... and ends before these or at the end
_OBJECT = re.compile(r"s3://" + _CHARS + "*")


def scrub(text: str, names: Mapping[str, str], hidden: Sequence[str]) -> str:
    """``text`` with the local files it names shown as their objects (``names``: path -> s3://bucket/key)
    and any other path inside the server's folders (``hidden``) shown as ``<internal>``.

    A file is recognised by its own name (a blob id, a random scratch name: unique), whatever folders
    DuckDB wrote before it (relative, absolute, resolved); a folder in any of its forms (as given, absolute,
    resolved), with whatever comes before it on the path. Object names are never taken for paths."""
    kept: list[str] = []

    def keep(name: str) -> str:
        kept.append(name)
        return f"\0{len(kept) - 1}\0"

    text = _OBJECT.sub(lambda m: keep(m.group(0)), text)
    for path, name in names.items():
        base = os.path.basename(path.rstrip("/"))
        if base:
            named = keep(name)
            text = re.sub(_START + "(?:" + _CHARS + "*/)?" + re.escape(base) + _END, named, text)
    folders = {form for h in hidden if h.strip("/") for form in _forms(h.rstrip("/"))}
    for folder in sorted(folders, key=len, reverse=True):
        text = re.sub(_START + "(?:" + _CHARS + "*/)?" + re.escape(folder.lstrip("/")) + "(?:/" + _CHARS + "*)?"
                      + _END, HIDDEN, text)
    return re.sub("\0(\\d+)\0", lambda m: kept[int(m.group(1))], text)


def _forms(folder: str) -> set[str]:
    """A folder as given, absolute and resolved (symbolic links followed)."""
    return {folder, os.path.abspath(folder), os.path.realpath(folder)}


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
