"""nuage.cli.helpformat: Chinese help text wrapped by display columns, English left to click."""

# ruff: noqa: RUF001  (Chinese text: its full-width punctuation is meant)

from __future__ import annotations

import click
from click.formatting import wrap_text

from nuage.cli.helpformat import Command, columns, pad, short_help, wrap

ENGLISH = ("Read every blob, compare it with the checksum taken when it was written, and quarantine the damaged "
           "ones (reads of them then fail at once; nothing is deleted).\n\nExits with 2 when damaged blobs are known.")
CHINESE = ("读取每个数据文件，与写入时记录的校验和比对，并隔离损坏的数据文件（之后读取它们会立即失败；不删除任何内容："
           "文件保留在 DATA/quarantine/ 中）。存在已知损坏的数据文件时以状态码 2 退出。\n\n第二段：租户（账号）。")


def test_columns() -> None:
    assert columns("abc") == 3 and columns("租户") == 4 and columns("（S3）") == 6 and columns("") == 0
    assert pad("区域", 6) == "区域  " and pad("REGION", 8) == "REGION  " and pad("too long", 3) == "too long"


def test_english_is_wrapped_by_click() -> None:
    for width in (30, 50, 78):
        assert wrap(ENGLISH, width, "  ", "  ", preserve_paragraphs=True) == \
            wrap_text(ENGLISH, width, "  ", "  ", preserve_paragraphs=True)


def test_chinese_lines_fit_the_columns() -> None:
    for width in (20, 31, 40, 78):
        text = wrap(CHINESE, width, "  ", "  ", preserve_paragraphs=True)
        paragraphs = text.split("\n\n")
        assert len(paragraphs) == 2
        for line in text.splitlines():
            assert columns(line) <= width, (width, line)
            if line.strip():
                assert line.startswith("  ")
                assert line.strip()[0] not in "，。、；：）", line        # no line starts with a closing mark
                assert line.rstrip()[-1] != "（", line                   # nor ends with an opening one
        # nothing lost or added but the line breaks
        assert "".join(text.split()) == "".join(CHINESE.split())


def test_words_of_latin_letters_are_not_cut() -> None:
    text = wrap("写入 DATA/quarantine/ 目录中的文件保留在 DATA/quarantine/ 中", 16)
    assert all("DATA/quarantine/" in line or "DATA" not in line for line in text.splitlines())


def test_short_help_of_chinese_text() -> None:
    command = Command("scrub", help=CHINESE)
    summary = short_help(command, 45)
    assert summary is not None and summary.endswith("...") and columns(summary) <= 45
    assert CHINESE.startswith(summary[:-3])
    assert short_help(Command("x", help="创建租户。其余的不显示。"), 45) == "创建租户。"
    assert short_help(Command("x", help=ENGLISH), 45) is None          # click's summary, unchanged
    assert Command("x", help=ENGLISH).get_short_help_str(45) == click.Command("x", help=ENGLISH).get_short_help_str(45)
