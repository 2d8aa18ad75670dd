"""Help pages that wrap Chinese text as a terminal shows it.

click measures a line in characters and breaks it at spaces only: a translated help text, whose characters
each take two columns and which has few spaces, came out as lines twice the terminal's width, and the
command lists' one-line summaries as long as the whole text. Here a text holding wide characters is wrapped
by display columns, between any two wide characters (never before a closing mark such as ``，。）`` nor
after an opening one), and a summary ends at the first full stop ``。``. Text without wide characters goes
through click's own code, so the English pages stay as they were, byte for byte.

Every command of `nuage` is made with :class:`Command` or :class:`Group` (``cls=``; a group's subcommands
inherit them), whose contexts format with :class:`HelpFormatter`."""

# ruff: noqa: RUF001, RUF002  (Chinese punctuation, meant)

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import click
from click.formatting import iter_rows, measure_table, wrap_text

#: marks that never start a line, and marks that never end one
_NO_START = set("，。、；：？！）」』】》〉”’…%,.;:!?)]}")
_NO_END = set("（「『【《〈“‘([{")
_CHUNK = re.compile(r"\s+|\S")


def wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def has_wide(text: str) -> bool:
    return any(wide(c) for c in text)


def columns(text: str) -> int:
    """The columns ``text`` takes on a terminal (wide characters two, combining marks none)."""
    return sum(2 if wide(c) else 0 if unicodedata.combining(c) else 1 for c in click.unstyle(text))


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns (``str.ljust`` counts characters)."""
    return text + " " * max(0, width - columns(text))


def _chunks(text: str) -> list[str]:
    """The pieces a line may break between: runs of spaces, runs of narrow characters (words), and single
    wide characters, with the marks of _NO_START and _NO_END kept with their neighbour."""
    pieces: list[str] = []
    for match in _CHUNK.finditer(text):
        piece = match.group()
        if piece.isspace():
            pieces.append(" ")
        elif (pieces and not wide(piece) and not pieces[-1].isspace() and not wide(pieces[-1][-1])
              and pieces[-1][-1] not in _NO_END):
            pieces[-1] += piece                               # a narrow character continues its word
        elif pieces and not pieces[-1].isspace() and (piece in _NO_START or pieces[-1][-1] in _NO_END):
            pieces[-1] += piece
        else:
            pieces.append(piece)
    return pieces


def _fill(text: str, width: int, initial_indent: str, subsequent_indent: str) -> str:
    lines: list[str] = []
    line, used, space = initial_indent, columns(initial_indent), False
    fresh = True                                              # nothing on the line but its indent
    for piece in _chunks(" ".join(text.split())):
        if piece == " ":
            space = not fresh
            continue
        size = columns(piece) + (1 if space else 0)
        if not fresh and used + size > width:
            lines.append(line.rstrip())
            line, used, space, fresh = subsequent_indent, columns(subsequent_indent), False, True
            size = columns(piece)
        line += (" " if space else "") + piece
        used += size
        space, fresh = False, False
    lines.append(line.rstrip())
    return "\n".join(lines)


def wrap(text: str, width: int, initial_indent: str = "", subsequent_indent: str = "",
         preserve_paragraphs: bool = False) -> str:
    """click's ``wrap_text``, by display columns when ``text`` holds wide characters."""
    if not has_wide(text):
        return wrap_text(text, width, initial_indent, subsequent_indent, preserve_paragraphs)
    text = text.expandtabs()
    if not preserve_paragraphs:
        return _fill(text, width, initial_indent, subsequent_indent)
    out = []
    for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
        if paragraph.lstrip(" ").startswith("\b"):
            raw = paragraph.split("\n")[1:]
            out.append("\n".join(initial_indent + line for line in raw))
        else:
            out.append(_fill(paragraph, width, initial_indent, subsequent_indent))
    return "\n\n".join(out)


class HelpFormatter(click.HelpFormatter):
    """click's formatter, wrapping with :func:`wrap` (the same code as click's otherwise)."""

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write(wrap(text, self.width, initial_indent=indent, subsequent_indent=indent,
                        preserve_paragraphs=True))
        self.write("\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        widths = measure_table(rows)
        if len(widths) != 2:
            raise TypeError("Expected two columns for definition list")
        first_col = min(widths[0], col_max) + col_spacing
        for first, second in iter_rows(rows, len(widths)):
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if len(click.unstyle(first)) <= first_col - col_spacing:
                self.write(" " * (first_col - len(click.unstyle(first))))
            else:
                self.write("\n")
                self.write(" " * (first_col + self.current_indent))
            text_width = max(self.width - first_col - 2, 10)
            lines = wrap(second, text_width, preserve_paragraphs=True).splitlines()
            if lines:
                self.write(f"{lines[0]}\n")
                for line in lines[1:]:
                    self.write(f"{'':>{first_col + self.current_indent}}{line}\n")
            else:
                self.write("\n")


class Context(click.Context):
    formatter_class = HelpFormatter


def short_help(command: click.Command, limit: int) -> str | None:
    """The one-line summary of a command whose help is in a language of wide characters: its first
    sentence, cut to ``limit`` columns (None: a text of narrow characters, which click summarises)."""
    if command.short_help or not command.help or not has_wide(command.help):
        return None
    text = " ".join(command.help.partition("\n\n")[0].split())
    sentence = text.split("。")[0] + ("。" if "。" in text else "")
    if columns(sentence) <= limit:
        return sentence
    cut, used = "", columns("...")
    for piece in _chunks(sentence):
        if used + columns(piece) > limit:
            break
        cut, used = cut + piece, used + columns(piece)
    return cut.rstrip("，、；：（ ") + "..."


class Command(click.Command):
    context_class = Context

    def get_short_help_str(self, limit: int = 45) -> str:
        found = short_help(self, limit)
        return super().get_short_help_str(limit) if found is None else found


class Group(click.Group):
    context_class = Context
    command_class = Command
    group_class = type          # subgroups are of this class too

    def get_short_help_str(self, limit: int = 45) -> str:
        found = short_help(self, limit)
        return super().get_short_help_str(limit) if found is None else found
