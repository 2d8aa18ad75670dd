"""Sizes written the way operators write them: ``10G``, ``10GiB``, ``500MB``, ``1.5T``, ``1048576``.

One rule for every command that takes a size, the rule of MinIO's ``mc quota``:

- a plain number is bytes (``B`` may follow it);
- ``KB``, ``MB``, ``GB``, ``TB``, ``PB`` are powers of 1000 (``10GB`` = 10,000,000,000 bytes);
- ``KiB``, ``MiB``, ``GiB``, ``TiB``, ``PiB`` are powers of 1024 (``10GiB`` = 10,737,418,240 bytes);
- a bare ``K``, ``M``, ``G``, ``T``, ``P`` means the power of 1024, as MinIO reads it (``10G`` = ``10GiB``).

Units are read regardless of case, a space may separate them from the number, and a fraction is allowed
before a unit (``1.5T``; the bytes are rounded down).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import click

from nuage.cli.i18n import _

_UNITS: dict[str, int] = {"": 1, "b": 1}
for _power, _letter in enumerate("kmgtp", start=1):
    _UNITS[_letter] = 1024 ** _power
    _UNITS[_letter + "ib"] = 1024 ** _power
    _UNITS[_letter + "b"] = 1000 ** _power
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)

#: the rule in one sentence, for --help texts
SIZE_HELP = _("bytes, or a number with a unit: KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB or "
              "K/M/G/T (powers of 1024, as MinIO reads them): 10G, 500MB, 1.5TiB")


def parse_size(text: str) -> int:
    """The bytes ``text`` names; ValueError (with a one-line reason) when it names none."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(_("{text!r} is not a size").format(text=text))
    number, unit = match.group(1), match.group(2).lower()
    if unit not in _UNITS:
        raise ValueError(_("{text!r}: unknown unit {unit!r}").format(text=text, unit=match.group(2)))
    try:
        value = Decimal(number) * _UNITS[unit]
    except InvalidOperation:   # pragma: no cover - the pattern only lets decimal numbers through
        raise ValueError(_("{text!r} is not a size").format(text=text)) from None
    if _UNITS[unit] == 1 and value != value.to_integral_value():
        raise ValueError(_("{text!r}: a number of bytes is a whole number").format(text=text))
    return int(value)


class ByteSize(click.ParamType[int]):
    """A click parameter holding a size (see :func:`parse_size`); a bad one is a usage error."""

    name = "size"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(_("{reason} (give {rule})").format(reason=exc, rule=SIZE_HELP), param, ctx)
