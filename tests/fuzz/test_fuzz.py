"""A small fuzz campaign (bench/fuzz.py) on every run: a fixed seed, 3,000 random and malformed requests
over every route from 4 connections, against a server of its own. No 500, no traceback in the server's
log, and the server still answers at the end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUZZ = Path(__file__).resolve().parents[2] / "bench" / "fuzz.py"


def _fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nuage_bench_fuzz", FUZZ)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_a_small_fuzz_campaign_finds_no_server_error() -> None:
    fuzz = _fuzz()
    summary = fuzz.run(count=3000, seconds=60, threads=4, seed=14, quiet=True)
    if not summary["ok"]:
        fuzz.print_summary(summary)
    assert summary["requests"] > 1000, summary["statuses"]
    assert summary["server_errors"] == 0, summary["failures"][:3]
    assert summary["tracebacks"] == 0, summary["traceback_samples"][:1]
    assert summary["alive"]
