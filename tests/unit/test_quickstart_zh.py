"""docs/quickstart.zh-CN.md is the README's quick start in Simplified Chinese: the same commands and code
(its ```sh and ```python blocks, and the banner it shows), only the prose translated; the README links it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.S | re.M)


def quick_start(readme: str) -> str:
    start = readme.index("## Quick start")
    return readme[start:readme.index("\n## ", start + 1)]


def blocks(text: str) -> list[tuple[str, str]]:
    return BLOCK.findall(text)


def test_the_chinese_quick_start_has_the_readmes_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    zh = (ROOT / "docs/quickstart.zh-CN.md").read_text()
    english = blocks(quick_start(readme))
    assert [lang for lang, _ in english].count("sh") >= 1
    assert blocks(zh) == english
    assert "docs/quickstart.zh-CN.md" in readme
