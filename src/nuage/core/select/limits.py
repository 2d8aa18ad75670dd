"""The limits of one S3 Select request: the memory of its worker process and the time it may take
(from the request to the last record, a slow reader included)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from nuage.core.select.work import Budget, parse_size


@dataclass(frozen=True)
class SelectLimits:
    memory_limit: str = "1GB"
    max_seconds: float = 900.0
    threads: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SelectLimits:
        """$NUAGE_SELECT_MEMORY (DuckDB syntax: 1GB), $NUAGE_SELECT_MAX_SECONDS, $NUAGE_SELECT_THREADS."""
        d = cls()
        threads = env.get("NUAGE_SELECT_THREADS")
        limits = cls(memory_limit=env.get("NUAGE_SELECT_MEMORY", d.memory_limit),
                     max_seconds=float(env.get("NUAGE_SELECT_MAX_SECONDS", d.max_seconds)),
                     threads=int(threads) if threads else d.threads)
        parse_size(limits.memory_limit)
        return limits

    @property
    def budget(self) -> Budget:
        return Budget(parse_size(self.memory_limit), self.threads)
