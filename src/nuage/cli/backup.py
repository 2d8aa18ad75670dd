"""`nuage backup DEST` and `nuage restore SRC`: an online backup of a data folder, and its restore into a
new one (see docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nuage.config import settings_from_env
from nuage.storage.backup import take_backup
from nuage.storage.backupfiles import BackupError
from nuage.storage.restore import restore as run_restore

DATA_OPTION = click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
                           help="Data folder (default ./nuage-data, or $NUAGE_DATA).")


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


class _Meter:
    """Blobs and bytes so far, on a transient spinner line on a terminal's stderr (nothing otherwise)."""

    def __init__(self, progress: Progress, verb: str) -> None:
        self.progress, self.verb = progress, verb
        self.task = progress.add_task(verb)
        self.blobs = self.bytes = 0

    def __call__(self, size: int) -> None:
        self.blobs += 1
        self.bytes += size
        self.progress.update(self.task, description=f"{self.verb}: {self.blobs} blobs, {_size(self.bytes)}")


def _progress() -> Progress:
    err = Console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                    transient=True, disable=not err.is_terminal)


@click.command()
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@DATA_OPTION
@click.option("--db", default=None, metavar="postgresql://...",
              help="The PostgreSQL database holding the metadata (or $NUAGE_DB): back it up with pg_dump; "
                   "this command then saves the blobs, keys and credentials.")
@click.option("--no-blobs", is_flag=True,
              help="Leave the blob files out (you copy or snapshot DATA/blobs yourself, after this command).")
def backup(dest: Path, data_dir: Path | None, db: str | None, no_blobs: bool) -> None:
    """Back the data folder up into DEST (a new or empty folder) while the server runs: a consistent
    snapshot of the metadata, then the blob files it references, the keys (secrets/, keys/) and the root
    credentials."""
    settings = settings_from_env(data_dir=data_dir, db=db)
    postgres = settings.db is not None
    if postgres:
        from nuage.cli.db import check_url
        check_url(str(settings.db))
    started = time.monotonic()
    try:
        with _progress() as progress:
            manifest = take_backup(settings.data_dir, dest, postgres=postgres, with_blobs=not no_blobs,
                                   on_blob=_Meter(progress, "copying blobs"))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"backup failed: {exc.strerror or exc}: {exc.filename or dest}") from None
    what = "metadata (PostgreSQL: not included), " if postgres else f"metadata (schema {manifest.schema_version}), "
    blobs = "no blobs (--no-blobs)" if no_blobs else f"{manifest.blobs} blobs ({_size(manifest.bytes)})"
    click.echo(f"backed up {what}{blobs}, keys and credentials to {dest} in {time.monotonic() - started:.1f} s")
    if manifest.missing:
        click.echo(f"warning: {len(manifest.missing)} blobs the metadata references were deleted before they "
                   f"could be copied (their objects changed during the backup): run the backup again", err=True)
    if postgres:
        click.echo("the metadata is in PostgreSQL: back it up with pg_dump (run it before this command, so that "
                   "the blobs copied here cover it), e.g. pg_dump -Fc -f nuage.dump \"$NUAGE_DB\"", err=True)
    if no_blobs:
        click.echo(f"now copy the blob files (DATA/blobs) into {dest / 'blobs'}, after this command: see "
                   f"docs/operations.md", err=True)


@click.command()
@click.argument("src", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
              help="The new data folder (it must not exist, or be empty).")
def restore(src: Path, data_dir: Path) -> None:
    """Restore the backup in SRC into a new data folder, after checking its metadata (SQLite integrity
    check, schema version); then start `nuage serve --data` on it."""
    started = time.monotonic()
    try:
        with _progress() as progress:
            done = run_restore(src, data_dir, on_blob=_Meter(progress, "copying blobs"))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"restore failed: {exc.strerror or exc}: {exc.filename or data_dir}") from None
    what = ("metadata (PostgreSQL: restore it with pg_restore), " if done.manifest.metadata == "postgresql"
            else f"metadata (schema {done.schema_version}, integrity ok), ")
    click.echo(f"restored {what}{done.blobs} blobs ({_size(done.bytes)}), keys and credentials into {data_dir} "
               f"in {time.monotonic() - started:.1f} s")
    if done.missing:
        click.echo(f"warning: {len(done.missing)} blobs the metadata references are not in the backup: their "
                   f"objects would fail to read: copy them into {data_dir / 'blobs'} from your blob snapshot "
                   f"before you start the server", err=True)
