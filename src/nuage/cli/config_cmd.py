"""The settings table (nuage.config.KNOBS) on the command line: the flags of ``nuage serve``, made from it,
and ``nuage config check FILE``, which prints the effective settings of a configuration file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nuage.cli.helpformat import Group
from nuage.cli.i18n import _
from nuage.config import KNOBS, ConfigError, Knob, Resolved, masked, resolve

F = TypeVar("F", bound=Callable[..., Any])

#: flags whose file must exist when given on the command line (the file and the environment are checked
#: when the server loads them)
_MUST_EXIST = {"tls_cert": {"dir_okay": True}, "tls_key": {"dir_okay": True}, "regions_file": {"dir_okay": False}}


def _click_type(knob: Knob) -> click.ParamType[Any]:
    # (numbers out of range are refused by nuage.config.resolve, in one line naming the flag)
    if knob.kind == "int":
        return click.INT
    if knob.kind == "float":
        return click.FLOAT
    if knob.kind == "path":
        exists = _MUST_EXIST.get(knob.name)
        return click.Path(path_type=Path, exists=exists is not None, **(exists or {}))
    if knob.kind == "bool":
        return click.BOOL
    return click.Choice(knob.choices) if knob.choices else click.STRING


def _help(knob: Knob) -> str:
    """The flag's help: the setting's (translated: the catalogue carries nuage.config.KNOBS' help texts too),
    and its default, variable, range and configuration key."""
    notes = []
    if "default" not in knob.help and knob.default is not None:
        notes.append(_("default {value}").format(value=knob.default))
    if knob.env:
        notes.append(f"${knob.env}")
    if knob.low is not None:
        notes.append(_("{low:g} to {high:g}").format(low=knob.low, high=knob.high) if knob.high is not None
                     else _("at least {low:g}").format(low=knob.low))
    notes.append(_("config key {key}").format(key=knob.key))
    return f"{_(knob.help)} [{'; '.join(notes)}]"


def serve_options(f: F) -> F:
    """The flags of every knob that has one, each defaulting to None: the value then comes from its
    environment variable, the configuration file or the default (nuage.config.resolve)."""
    for knob in reversed([k for k in KNOBS if k.flag]):
        assert knob.flag is not None
        f = click.option(knob.flag, knob.name, type=_click_type(knob), default=None, metavar=knob.metavar,
                         help=_help(knob))(f)
    return click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        metavar="FILE", help=_("Configuration file (TOML, see deploy/nuage.toml): flags and "
                                               "$NUAGE_* variables override its values."))(f)


def resolve_or_exit(flags: dict[str, object], config_file: Path | None) -> Resolved:
    """The effective settings, or a click error of one line per problem."""
    try:
        return resolve(flags, config_file, os.environ)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("config", cls=Group, help=_("Configuration files of `nuage serve`."))
def config() -> None:
    """`nuage config`."""


@config.command("check", help=_("Validate FILE and print the effective settings ($NUAGE_* variables override "
                                 "the file), each with where its value comes from; secrets are masked. Exits 1, "
                                 "with one line per problem, when FILE is invalid."))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check(file: Path) -> None:
    """`nuage config check FILE` (the help text above)."""
    from nuage.cli.main import check_settings

    resolved = resolve_or_exit({}, file)
    check_settings(resolved.settings, sources=resolved.sources)
    width = max(len(knob.key) for knob in KNOBS)
    for knob in KNOBS:
        value = masked(knob, getattr(resolved.settings, knob.name))
        click.echo(f"{knob.key:<{width}}  {value}  ({resolved.sources[knob.name]})")
