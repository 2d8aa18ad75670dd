"""The log options of `nuage serve`: the access log (where, in which format) and the server log's level."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

__all__ = ["log_options"]


def log_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--access-log``, ``--access-log-format`` and ``--log-level`` to a command that serves: they are
    handed to :func:`nuage.server.use_logs` before it runs, not to it."""

    @functools.wraps(command)
    def run(*args: Any, access_log: str | None, access_log_format: str, log_level: str, **kwargs: Any) -> Any:
        from nuage.server import LogSettings, use_logs
        use_logs(LogSettings(access_log or None, access_log_format, log_level))
        return command(*args, **kwargs)

    options = [
        click.option("--access-log", default=None, envvar="NUAGE_ACCESS_LOG", metavar="PATH|-",
                     help="Write one line per request to this file (appended to; a file moved away, as logrotate "
                          "does, is created again) or to stdout (-) (default: none, or $NUAGE_ACCESS_LOG)."),
        click.option("--access-log-format", type=click.Choice(["json", "common"]), default="json",
                     envvar="NUAGE_ACCESS_LOG_FORMAT", show_default=True,
                     help="JSON lines, or the common log format with request id, operation and duration added "
                          "(or $NUAGE_ACCESS_LOG_FORMAT)."),
        click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info",
                     envvar="NUAGE_LOG_LEVEL", show_default=True,
                     help="Least severe server message written to stderr (or $NUAGE_LOG_LEVEL)."),
    ]
    decorated: Callable[..., Any] = run
    for option in reversed(options):
        decorated = option(decorated)
    return decorated
