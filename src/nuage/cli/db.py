"""`nuage db migrate` and `nuage db check`: the metadata schema, for operators.

With ``--db postgresql://...`` (or $NUAGE_DB) the PostgreSQL database; without, the SQLite database of the
data folder. Gateways apply missing migrations themselves when they start (one at a time, under a lock);
these commands let an operator do it beforehand, or check that nothing is left to apply."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from nuage.cli.helpformat import Group
from nuage.cli.i18n import _
from nuage.config import settings_from_env

DB_OPTION = click.option("--db", "url", default=None, envvar="NUAGE_DB", metavar="postgresql://...",
                         help=_("The PostgreSQL database (or $NUAGE_DB); default: SQLite in the data folder."))
DATA_OPTION = click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
                           help=_("Data folder (default ./nuage-data, or $NUAGE_DATA), for SQLite."))
SQLITE_FILE = "meta.sqlite3"


def check_url(url: str) -> None:
    from nuage.storage.meta.postgres.db import is_postgres_url

    if not is_postgres_url(url):
        raise click.BadParameter(_("expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"), param_hint="--db")


def _unusable(path: Path, exc: sqlite3.Error) -> click.ClickException:
    """A SQLite database that cannot be opened or read (locked, not allowed, damaged), as the server says it."""
    if isinstance(exc, sqlite3.OperationalError):
        return click.ClickException(_("cannot open {path}: {reason}").format(path=path, reason=exc))
    return click.ClickException(_("{path} is not a usable SQLite database ({reason}): restore it from a "
                                  "backup").format(path=path, reason=exc))


def _connect_error(exc: Exception) -> click.ClickException:
    # psycopg's message names the host and port, never the password
    return click.ClickException(_("cannot reach the database: {reason}").format(
        reason=str(exc).strip().splitlines()[0]))


@click.group(cls=Group, help=_("The metadata database: apply or check its migrations."))
def db() -> None:
    """`nuage db`."""


@db.command("migrate", help=_("Apply the migrations the database lacks (safe while gateways run: one migrates "
                               "at a time)."))
@DB_OPTION
@DATA_OPTION
def migrate_command(url: str | None, data_dir: Path | None) -> None:
    """`nuage db migrate` (the help text above)."""
    if url:
        import psycopg

        from nuage.storage.meta.postgres.db import migrate
        check_url(url)
        try:
            version, applied = migrate(url)
        except psycopg.OperationalError as exc:
            raise _connect_error(exc) from None
    else:
        from nuage.storage.meta.sqlite.db import connect
        from nuage.storage.meta.sqlite.db import migrate as migrate_sqlite

        path = settings_from_env(data_dir=data_dir).data_dir / SQLITE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = connect(path, fsync=True)
            try:
                before = _sqlite_versions(conn)
                version = migrate_sqlite(conn)
                applied = [str(n) for n in sorted(_sqlite_versions(conn) - before)]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _unusable(path, exc) from None
    for name in applied:
        click.echo(_("applied {name}").format(name=name))
    click.echo(_("schema version {version}").format(version=version))


@db.command("check", help=_("Report the schema version; exit 1 when migrations are missing (changes nothing)."))
@DB_OPTION
@DATA_OPTION
def check_command(url: str | None, data_dir: Path | None) -> None:
    """`nuage db check` (the help text above)."""
    if url:
        import psycopg

        from nuage.storage.meta.postgres.db import check
        check_url(url)
        try:
            version, missing = check(url)
        except psycopg.OperationalError as exc:
            raise _connect_error(exc) from None
    else:
        from nuage.storage.meta.postgres.db import sqlite_numbers

        path = settings_from_env(data_dir=data_dir).data_dir / SQLITE_FILE
        if not path.exists():
            raise click.ClickException(_("no database in {folder}").format(folder=path.parent))
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                applied = _sqlite_versions(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise _unusable(path, exc) from None
        version = max(applied, default=0)
        missing = [str(n) for n in sqlite_numbers() if n not in applied]
    click.echo(_("schema version {version}").format(version=version))
    if missing:
        click.echo(_("missing migrations: {names}").format(names=", ".join(missing)))
        raise SystemExit(1)
    click.echo(_("up to date"))


def _sqlite_versions(conn: sqlite3.Connection) -> set[int]:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name='schema_version'").fetchone() is None:
        return set()
    return {int(r[0]) for r in conn.execute("SELECT version FROM schema_version")}


@db.command("copy", help=_("Copy a data folder's SQLite metadata into a new PostgreSQL database, in one "
                            "transaction. Stop the gateway first; then start gateways with --data on the same "
                            "folder (the object files stay there) and --db URL."))
@click.option("--from", "source", required=True, metavar="sqlite:PATH",
              help=_("The SQLite database: sqlite:DATA_FOLDER (its meta.sqlite3) or sqlite:FILE."))
@click.option("--to", "url", required=True, metavar="postgresql://...",
              help=_("A new, empty PostgreSQL database."))
def copy_command(source: str, url: str) -> None:
    """`nuage db copy` (the help text above)."""
    import psycopg

    from nuage.storage.meta.postgres.copy import CopyError, copy_sqlite
    check_url(url)
    path = Path(source.removeprefix("sqlite://") if source.startswith("sqlite://") else source.removeprefix("sqlite:"))
    path = path.expanduser()
    if path.is_dir():
        path = path / SQLITE_FILE
    try:
        counts = copy_sqlite(path, url, lambda table, count: click.echo(
            _("{table}: {count} rows").format(table=table, count=count)))
    except CopyError as exc:
        raise click.ClickException(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise _connect_error(exc) from None
    click.echo(_("copied {rows} rows of {tables} tables").format(rows=sum(counts.values()), tables=len(counts)))
