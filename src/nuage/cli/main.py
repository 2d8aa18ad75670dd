"""The `nuage` command line."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import click

from nuage.cli.admin import admin as admin_group
from nuage.cli.backup import backup as backup_command
from nuage.cli.backup import restore as restore_command
from nuage.cli.config_cmd import config as config_group
from nuage.cli.config_cmd import resolve_or_exit, serve_options
from nuage.cli.db import db as db_group
from nuage.cli.demo import demo as demo_command
from nuage.cli.helpformat import Group
from nuage.cli.i18n import _
from nuage.cli.query import query as query_command
from nuage.cli.scrub import scrub as scrub_command
from nuage.config import (
    ACCESS_KEY_RULE,
    KNOBS,
    REGION_RULE,
    SECRET_KEY_RULE,
    ConfigError,
    Settings,
    settings_from_env,
    valid_access_key,
    valid_region,
    valid_secret_key,
)
from nuage.core.iam import SecretsError

KNOB_BY_FIELD = {knob.name: knob for knob in KNOBS}


class _Commands(Group):
    """The `nuage` group: a $NUAGE_* variable that cannot be used (read by any command) is a one-line error."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands, help=_("Nuage: a self-hostable S3-compatible cloud platform."))
@click.version_option(package_name="nuage")
def main() -> None:
    """The `nuage` command (its help text is the group's)."""


@main.command(help=_("Start the S3 endpoint with embedded defaults (SQLite metadata, local files), and the web "
                     "console on a port of its own. Each setting comes from its flag, else its $NUAGE_* "
                     "variable, else the --config file, else its default (docs/settings.md)."))
@serve_options
def serve(config_file: Path | None, **flags: object) -> None:
    """Start the S3 endpoint and the web console (the help text above)."""
    from nuage.httpserver.workers import worker_count
    from nuage.server import StartupError
    from nuage.server import serve as run

    resolved = resolve_or_exit(flags, config_file)
    settings = resolved.settings
    try:
        count = worker_count(settings.workers)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--workers") from None
    from nuage.storage.meta.postgres import DatabaseUnavailable

    check_settings(settings, sources=resolved.sources)
    if settings.db is not None:
        from nuage.cli.db import check_url
        check_url(settings.db)
    if settings.regions_file is not None:
        from nuage.replication.registry import RegistryError, load_registry
        try:
            load_registry(settings.regions_file, settings.region)
        except (RegistryError, OSError) as exc:
            raise click.ClickException(f"{settings.regions_file}: {exc}") from None
    if settings.tls_cert is not None or settings.tls_key is not None:
        check_tls(settings.tls_cert, settings.tls_key)
    console = console_listen(settings.host, settings.port, settings.console_port, settings.console_address)
    # (SIGINT and SIGTERM end a running server with SystemExit(0); a Ctrl-C before it runs ends it quietly)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            run(settings, console_address=console, workers=count)
        except (StartupError, SecretsError, DatabaseUnavailable) as exc:
            raise click.ClickException(str(exc)) from None


def _where(sources: dict[str, str] | None, name: str, flag: str) -> str:
    """How an error names a setting: as it was given (its flag, its variable, or the configuration file)."""
    source = (sources or {}).get(name, "default")
    if source.startswith("flag") or source == "default":
        return flag
    if source.startswith("$"):
        return source
    return f"{source}: {KNOB_BY_FIELD[name].key}"


def check_settings(settings: Settings, *, sources: dict[str, str] | None = None) -> None:
    """What the start-up would trip on later, refused at once (before any port or file is touched).
    ``sources`` (nuage.config.Resolved.sources) says where each value came from, for the messages."""
    if not 0 <= settings.port <= 65535:
        raise click.ClickException(_("{where} {port}: a port is a number from 0 to 65535").format(
            where=_where(sources, "port", "--port"), port=settings.port))
    if not valid_region(settings.region):
        where = _where(sources, "region", "--region")
        raise click.ClickException(_("{where} {region!r} is not a region name: {rule}").format(
            where=where, region=settings.region, rule=_(REGION_RULE)))
    check_data_folder(settings.data_dir)
    if settings.root_access_key is not None and not valid_access_key(settings.root_access_key):
        where = _where(sources, "root_access_key", "$NUAGE_ROOT_ACCESS_KEY")
        raise click.ClickException(f"{where}: {_(ACCESS_KEY_RULE)}")
    if settings.root_secret_key is not None and not valid_secret_key(settings.root_secret_key):
        where = _where(sources, "root_secret_key", "$NUAGE_ROOT_SECRET_KEY")
        raise click.ClickException(f"{where}: {_(SECRET_KEY_RULE)}")


def check_data_folder(path: Path) -> None:
    """The data folder is a folder, or can be made one (nothing is created here)."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise click.ClickException(
                    _("--data {path} is not a folder").format(path=path) if part == path else
                    _("--data {path} cannot be a folder: {part} is a file").format(path=path, part=part))
            return


def check_tls(cert: Path | None, key: Path | None) -> None:
    """The certificate and key load (as the server will load them), or a one-line error that names the file."""
    import ssl

    if cert is None:
        raise click.UsageError(_("--tls-key needs --tls-cert"))
    try:
        ssl.create_default_context(cafile=str(cert))   # reads the certificates of the file, and only them
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise click.ClickException(_("--tls-cert {cert}: not a PEM certificate ({reason})").format(
            cert=cert, reason=_ssl_reason(exc))) from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key) if key else None,
                                                                password=_no_password)
    except (ssl.SSLError, OSError) as exc:
        what = f"--tls-key {key}" if key else _("--tls-cert {cert} (no --tls-key)").format(cert=cert)
        raise click.ClickException(_("{what}: not the private key of the certificate ({reason})").format(
            what=what, reason=_ssl_reason(exc))) from None


def _no_password() -> bytes:
    return b""   # an encrypted key fails to load, as it would in the server (which cannot ask for its password)


def _ssl_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(reason).replace("_", " ").lower()


def console_listen(host: str, port: int, console_port: int | None, address: str | None) -> tuple[str, int]:
    """Where the console listens: ``--console-address [HOST]:PORT``, else --host and ``--console-port``
    (default: the S3 port + 1). Never the S3 port itself (0, a free port, excepted)."""
    if address is not None and console_port is not None:
        raise click.UsageError(_("give --console-address or --console-port, not both"))
    console_host = host
    if address is not None:
        name, sep, number = address.rpartition(":")
        if not sep or not number.isdigit() or int(number) > 65535:
            raise click.BadParameter(_("expected [HOST]:PORT, e.g. :9001"), param_hint="--console-address")
        console_host, console_port = name.strip("[]") or host, int(number)
    if console_port is None:
        console_port = port + 1 if port else 0
        if console_port > 65535:
            raise click.ClickException(_("--port {port}: the console's port would be {console_port}; give "
                                         "--console-port or --console-address").format(
                                             port=port, console_port=console_port))
    if console_port and console_port == port:
        raise click.BadParameter(_("the console needs a port of its own, not the S3 port"),
                                 param_hint="--console-address" if address else "--console-port")
    return console_host, console_port


@main.group(help=_("Manage access keys in a data folder (offline; the server may be running)."))
def keys() -> None:
    """`nuage keys`."""


@keys.command("add", help=_("Add (or replace) an access key of an account (created when missing): its root's, "
                             "or --user's."))
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None)
@click.option("--access-key", required=True,
              help=_("Access key id: 16 to 128 letters, digits or underscores (AWS IAM's AccessKeyId)."))
@click.option("--secret-key", required=True,
              help=_("Secret key: 8 to 128 printable ASCII characters without spaces (MinIO's minimum of 8)."))
@click.option("--name", "display_name", required=True, help=_("Display name of the key's owner."))
@click.option("--owner-id", default=None, help=_("Canonical user id (default: derived from the name)."))
@click.option("--account-id", default=None,
              help=_("Account id (ARNs) when the account is created (default: a new 12-digit id)."))
@click.option("--user", "user_name", default=None,
              help=_("Make the key an IAM user's key (the user is created when missing), not the root's."))
def keys_add(data_dir: Path | None, access_key: str, secret_key: str, display_name: str,
             owner_id: str | None, account_id: str | None, user_name: str | None) -> None:
    """Add (or replace) an access key of an account (the help text above)."""
    from nuage.server import StartupError, open_iam, open_stores

    if not valid_access_key(access_key):
        raise click.ClickException(f"--access-key: {_(ACCESS_KEY_RULE)}")
    if not valid_secret_key(secret_key):
        raise click.ClickException(f"--secret-key: {_(SECRET_KEY_RULE)}")
    settings = settings_from_env(data_dir=data_dir)
    check_data_folder(settings.data_dir)
    try:
        meta, _blobs = open_stores(settings)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        owner = owner_id or hashlib.sha256(display_name.encode()).hexdigest()
        iam = open_iam(settings, meta)
        account = iam.ensure_account(owner, display_name, account_id)
        if user_name:
            iam.put_user_key(account, user_name, access_key, secret_key)
        else:
            iam.put_root_key(account, access_key, secret_key)
    except SecretsError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        meta.close()
    if user_name:
        click.echo(_("{key} -> user {user} of {name} ({owner}, account {account})").format(
            key=access_key, user=user_name, name=display_name, owner=owner, account=account.account_id))
    else:
        click.echo(_("{key} -> {name} ({owner}, account {account})").format(
            key=access_key, name=display_name, owner=owner, account=account.account_id))


main.add_command(admin_group)
main.add_command(backup_command)
main.add_command(config_group)
main.add_command(restore_command)
main.add_command(db_group)
main.add_command(demo_command)
main.add_command(query_command)
main.add_command(scrub_command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="nuage")
