"""The `nuage` command line."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import click

from nuage.cli.admin import admin as admin_group
from nuage.cli.backup import backup as backup_command
from nuage.cli.backup import restore as restore_command
from nuage.cli.db import db as db_group
from nuage.cli.demo import demo as demo_command
from nuage.cli.logs import log_options
from nuage.cli.query import query as query_command
from nuage.cli.scrub import scrub as scrub_command
from nuage.config import (
    ACCESS_KEY_RULE,
    REGION_RULE,
    SECRET_KEY_RULE,
    Settings,
    settings_from_env,
    valid_access_key,
    valid_region,
    valid_secret_key,
)
from nuage.core.iam import SecretsError


@click.group()
@click.version_option(package_name="nuage")
def main() -> None:
    """Nuage: a self-hostable S3-compatible cloud platform."""


@main.command()
@log_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9000, show_default=True, type=int,
              help="Port to listen on, 0 to 65535 (0: a free port).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data folder (default ./nuage-data, or $NUAGE_DATA).")
@click.option("--region", default=None,
              help="Region name, as AWS names them: lowercase letters, digits and hyphens, e.g. us-west-1 or "
                   "cn-hangzhou (default us-east-1, or $NUAGE_REGION).")
@click.option("--domain", default=None, help="Domain for virtual-hosted-style requests (bucket.DOMAIN).")
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), default=None, help="TLS certificate.")
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), default=None, help="TLS private key.")
@click.option("--regions", "regions_file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="Region registry (JSON) for redirects and replication (or $NUAGE_REGIONS).")
@click.option("--console-port", type=click.IntRange(0, 65535), default=None, envvar="NUAGE_CONSOLE_PORT",
              help="Port of the web console, an origin of its own (default: the S3 port + 1, or "
                   "$NUAGE_CONSOLE_PORT; 0: a free port).")
@click.option("--console-address", default=None, metavar="[HOST]:PORT",
              help="Address of the web console, as MinIO's (default: --host, and --console-port).")
@click.option("--max-connections", type=int, default=None,
              help="Open connections at most; beyond, new ones get 503 SlowDown (default 4096, or "
                   "$NUAGE_HTTP_MAX_CONNECTIONS; 0: no cap).")
@click.option("--max-connections-per-client", type=int, default=None,
              help="Open connections per client address at most (default 1024, or "
                   "$NUAGE_HTTP_MAX_CONNECTIONS_PER_CLIENT; 0: no cap, e.g. behind a proxy).")
@click.option("--header-timeout", type=float, default=None,
              help="Seconds a client has to send a request's headers (default 30, or $NUAGE_HTTP_HEADER_TIMEOUT).")
@click.option("--db", default=None, metavar="postgresql://USER:PASS@HOST:PORT/DB",
              help="Keep metadata in this PostgreSQL database, which several gateways can share (or $NUAGE_DB; "
                   "default: SQLite in the data folder).")
@click.option("--workers", type=click.IntRange(1, 1024), default=None,
              help="Worker processes serving the ports, so that one machine uses all its cores (default: one "
                   "per core, or $NUAGE_WORKERS).")
def serve(host: str, port: int, data_dir: Path | None, region: str | None, domain: str | None,
          tls_cert: Path | None, tls_key: Path | None, regions_file: Path | None, max_connections: int | None,
          max_connections_per_client: int | None, header_timeout: float | None, console_port: int | None,
          console_address: str | None, db: str | None = None, workers: int | None = None) -> None:
    """Start the S3 endpoint with embedded defaults (SQLite metadata, local files), and the web console
    on a port of its own."""
    from nuage.httpserver.workers import worker_count
    from nuage.server import StartupError
    from nuage.server import serve as run

    try:
        count = worker_count(workers)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} ($NUAGE_WORKERS)", param_hint="--workers") from None
    from nuage.storage.meta.postgres import DatabaseUnavailable

    settings = settings_from_env(host=host, port=port, data_dir=data_dir, region=region, domain=domain,
                                 tls_cert=tls_cert, tls_key=tls_key, regions_file=regions_file,
                                 http_max_connections=max_connections,
                                 http_max_connections_per_client=max_connections_per_client,
                                 http_header_timeout_seconds=header_timeout, db=db)
    check_settings(settings, region_option=region is not None)
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
    console = console_listen(host, port, console_port, console_address)
    # (SIGINT and SIGTERM end a running server with SystemExit(0); a Ctrl-C before it runs ends it quietly)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            run(settings, console_address=console, workers=count)
        except (StartupError, SecretsError, DatabaseUnavailable) as exc:
            raise click.ClickException(str(exc)) from None


def check_settings(settings: Settings, *, region_option: bool = True) -> None:
    """What the start-up would trip on later, refused at once (before any port or file is touched)."""
    if not 0 <= settings.port <= 65535:
        raise click.ClickException(f"--port {settings.port}: a port is a number from 0 to 65535")
    if not valid_region(settings.region):
        where = "--region" if region_option else "$NUAGE_REGION"
        raise click.ClickException(f"{where} {settings.region!r} is not a region name: {REGION_RULE}")
    check_data_folder(settings.data_dir)
    if settings.root_access_key is not None and not valid_access_key(settings.root_access_key):
        raise click.ClickException(f"$NUAGE_ROOT_ACCESS_KEY: {ACCESS_KEY_RULE}")
    if settings.root_secret_key is not None and not valid_secret_key(settings.root_secret_key):
        raise click.ClickException(f"$NUAGE_ROOT_SECRET_KEY: {SECRET_KEY_RULE}")


def check_data_folder(path: Path) -> None:
    """The data folder is a folder, or can be made one (nothing is created here)."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise click.ClickException(f"--data {path} is not a folder" if part == path else
                                           f"--data {path} cannot be a folder: {part} is a file")
            return


def check_tls(cert: Path | None, key: Path | None) -> None:
    """The certificate and key load (as the server will load them), or a one-line error that names the file."""
    import ssl

    if cert is None:
        raise click.UsageError("--tls-key needs --tls-cert")
    try:
        ssl.create_default_context(cafile=str(cert))   # reads the certificates of the file, and only them
    except (ssl.SSLError, ValueError, OSError) as exc:
        raise click.ClickException(f"--tls-cert {cert}: not a PEM certificate ({_ssl_reason(exc)})") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(str(cert), str(key) if key else None,
                                                                password=_no_password)
    except (ssl.SSLError, OSError) as exc:
        what = f"--tls-key {key}" if key else f"--tls-cert {cert} (no --tls-key)"
        raise click.ClickException(f"{what}: not the private key of the certificate ({_ssl_reason(exc)})") from None


def _no_password() -> bytes:
    return b""   # an encrypted key fails to load, as it would in the server (which cannot ask for its password)


def _ssl_reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(reason).replace("_", " ").lower()


def console_listen(host: str, port: int, console_port: int | None, address: str | None) -> tuple[str, int]:
    """Where the console listens: ``--console-address [HOST]:PORT``, else --host and ``--console-port``
    (default: the S3 port + 1). Never the S3 port itself (0, a free port, excepted)."""
    if address is not None and console_port is not None:
        raise click.UsageError("give --console-address or --console-port, not both")
    console_host = host
    if address is not None:
        name, sep, number = address.rpartition(":")
        if not sep or not number.isdigit() or int(number) > 65535:
            raise click.BadParameter("expected [HOST]:PORT, e.g. :9001", param_hint="--console-address")
        console_host, console_port = name.strip("[]") or host, int(number)
    if console_port is None:
        console_port = port + 1 if port else 0
        if console_port > 65535:
            raise click.ClickException(f"--port {port}: the console's port would be {console_port}; give "
                                       f"--console-port or --console-address")
    if console_port and console_port == port:
        raise click.BadParameter("the console needs a port of its own, not the S3 port",
                                 param_hint="--console-address" if address else "--console-port")
    return console_host, console_port


@main.group()
def keys() -> None:
    """Manage access keys in a data folder (offline; the server may be running)."""


@keys.command("add")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None)
@click.option("--access-key", required=True,
              help="Access key id: 16 to 128 letters, digits or underscores (AWS IAM's AccessKeyId).")
@click.option("--secret-key", required=True,
              help="Secret key: 8 to 128 printable ASCII characters without spaces (MinIO's minimum of 8).")
@click.option("--name", "display_name", required=True, help="Display name of the key's owner.")
@click.option("--owner-id", default=None, help="Canonical user id (default: derived from the name).")
@click.option("--account-id", default=None,
              help="Account id (ARNs) when the account is created (default: a new 12-digit id).")
@click.option("--user", "user_name", default=None,
              help="Make the key an IAM user's key (the user is created when missing), not the root's.")
def keys_add(data_dir: Path | None, access_key: str, secret_key: str, display_name: str,
             owner_id: str | None, account_id: str | None, user_name: str | None) -> None:
    """Add (or replace) an access key of an account (created when missing): its root's, or --user's."""
    from nuage.server import StartupError, open_iam, open_stores

    if not valid_access_key(access_key):
        raise click.ClickException(f"--access-key: {ACCESS_KEY_RULE}")
    if not valid_secret_key(secret_key):
        raise click.ClickException(f"--secret-key: {SECRET_KEY_RULE}")
    settings = settings_from_env(data_dir=data_dir)
    check_data_folder(settings.data_dir)
    try:
        meta, _ = open_stores(settings)
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
    who = f"user {user_name} of " if user_name else ""
    click.echo(f"{access_key} -> {who}{display_name} ({owner}, account {account.account_id})")


main.add_command(admin_group)
main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(db_group)
main.add_command(demo_command)
main.add_command(query_command)
main.add_command(scrub_command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="nuage")
