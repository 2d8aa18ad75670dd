"""docs/settings.md names every knob: each NUAGE_* environment variable that src/ reads and each flag of
`nuage serve`, with a default; and nothing that no longer exists."""

from __future__ import annotations

import re
from pathlib import Path

import click

from nuage.cli.main import serve

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "settings.md"
# a whole name: NUAGE_QUERY_MEMORY, not the NUAGE_QUERY_ of a sentence about them all
_VARIABLE = re.compile(r"\bNUAGE_[A-Z0-9_]*[A-Z0-9]\b(?!_)")
_FLAG = re.compile(r"`(--[a-z][a-z0-9-]*)")


def variables_in_source() -> set[str]:
    return {name for path in (ROOT / "src").rglob("*.py") for name in _VARIABLE.findall(path.read_text())}


def serve_flags() -> set[str]:
    return {opt for param in serve.params if isinstance(param, click.Option) for opt in param.opts} | {"--help"}


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:] if end < 0 else text[start:end]


def _rows(text: str) -> list[list[str]]:
    """The body rows of the Markdown tables in ``text``, as cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows if row[0] not in ("flag", "variable")]


def test_every_variable_the_code_reads_is_listed() -> None:
    missing = variables_in_source() - set(_VARIABLE.findall(DOC.read_text()))
    assert not missing, f"docs/settings.md does not name {sorted(missing)}"


def test_every_listed_variable_still_exists() -> None:
    gone = set(_VARIABLE.findall(DOC.read_text())) - variables_in_source()
    assert not gone, f"docs/settings.md names {sorted(gone)}, which nothing in src/ reads any more"


def test_every_serve_flag_is_listed_and_no_other() -> None:
    listed = {flag for row in _rows(_section("## `nuage serve` flags")) for flag in _FLAG.findall(row[0])}
    assert listed == serve_flags(), (f"missing: {sorted(serve_flags() - listed)}, "
                                     f"gone: {sorted(listed - serve_flags())}")


def test_every_setting_has_a_default_and_a_meaning() -> None:
    for row in _rows(DOC.read_text()):
        name = row[0]
        if name == "`--help`":
            continue
        default, meaning = (row[2], row[3]) if name.startswith("`--") else (row[1], row[2])
        assert default and meaning, f"docs/settings.md: {name} needs a default and a meaning"


def test_every_variable_row_names_real_variables() -> None:
    """Each environment table's first column holds variable names only (a typo there is not a knob)."""
    for row in _rows(DOC.read_text()):
        if not row[0].startswith("`--"):
            assert _VARIABLE.findall(row[0]), f"docs/settings.md: {row[0]} names no NUAGE_ variable"


def test_readme_links_the_page() -> None:
    assert "(docs/settings.md)" in (ROOT / "README.md").read_text()


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    """A row with a cell too many (``... || `key` |``) shows its config key under no column."""
    width = 0
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        if not line.startswith("|"):
            width = 0
            continue
        cells = len(line.strip().strip("|").split("|"))
        if width == 0:
            width = cells
        assert cells == width, f"docs/settings.md line {number} has {cells} cells, its table {width}: {line[:80]}"
