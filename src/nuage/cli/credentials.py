"""The key `nuage admin` and `nuage query` sign with: ``--access-key``/``--secret-key``, else the environment.

Both commands read the same variables, as pairs:

1. ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``: the ones to use (every S3 tool reads them too);
2. ``NUAGE_ROOT_ACCESS_KEY`` / ``NUAGE_ROOT_SECRET_KEY``: the server's own root key variables, read when
   ``AWS_ACCESS_KEY_ID`` is not set (a shell that started ``nuage serve`` with them can run the commands).

A secret is taken from the same pair as its access key, never one pair's key with another pair's secret.
The key is resolved when a command is about to call the server, so that ``--help`` needs none.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TypeVar

import click

from nuage.cli.i18n import _

ENV_PAIRS = (("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), ("NUAGE_ROOT_ACCESS_KEY", "NUAGE_ROOT_SECRET_KEY"))
F = TypeVar("F", bound=Callable[..., object])


def key_options(*, operator: bool = False) -> Callable[[F], F]:
    """The ``--access-key`` and ``--secret-key`` options (no default: see :func:`resolve`); ``operator``:
    their help says that the key is the operator's root key."""
    if operator:
        secret_help = _("The operator's root secret key (default: $AWS_SECRET_ACCESS_KEY, else "
                        "$NUAGE_ROOT_SECRET_KEY).")
        access_help = _("The operator's root access key (default: $AWS_ACCESS_KEY_ID, else "
                        "$NUAGE_ROOT_ACCESS_KEY).")
    else:
        secret_help = _("The secret key (default: $AWS_SECRET_ACCESS_KEY, else $NUAGE_ROOT_SECRET_KEY).")
        access_help = _("The access key (default: $AWS_ACCESS_KEY_ID, else $NUAGE_ROOT_ACCESS_KEY).")

    def decorate(fn: F) -> F:
        fn = click.option("--secret-key", default=None, metavar="SECRET", help=secret_help)(fn)
        return click.option("--access-key", default=None, metavar="KEY", help=access_help)(fn)
    return decorate


def resolve(access_key: str | None, secret_key: str | None,
            environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(access key, secret key): the options given, the rest from the first pair of variables whose access
    key is set; a usage error naming what to set when a part is still missing."""
    env = os.environ if environ is None else environ
    for access_var, secret_var in ENV_PAIRS:
        if access_key is not None and secret_key is not None:
            break
        if env.get(access_var):
            if access_key is None:
                access_key = env[access_var]
            if secret_key is None:
                secret_key = env.get(secret_var) or None
            break
    if access_key is None:
        raise click.UsageError(_("no access key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                 "(or give --access-key and --secret-key)"))
    if secret_key is None:
        raise click.UsageError(_("no secret key: set AWS_SECRET_ACCESS_KEY with AWS_ACCESS_KEY_ID "
                                 "(or give --secret-key)"))
    return access_key, secret_key
