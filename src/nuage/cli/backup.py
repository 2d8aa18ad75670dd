"""`nuage backup DEST` and `nuage restore SRC`: an online backup of a data folder, and its restore into a
new one (see docs/operations.md)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from nuage.cli.helpformat import Command
from nuage.cli.i18n import _
from nuage.config import settings_from_env
from nuage.storage.backup import take_backup
from nuage.storage.backupfiles import BackupError
from nuage.storage.restore import restore as run_restore

DATA_OPTION = click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
                           help=_("Data folder (default ./nuage-data, or $NUAGE_DATA)."))


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
        self.progress.update(self.task, description=_("{verb}: {blobs} blobs, {size}").format(
            verb=self.verb, blobs=self.blobs, size=_size(self.bytes)))


def _progress() -> Progress:
    err = Console(stderr=True)
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                    transient=True, disable=not err.is_terminal)


@click.command(cls=Command,
               help=_("Back the data folder up into DEST (a new or empty folder) while the server runs: a consistent "
                      "snapshot of the metadata, then the blob files it references, the keys (secrets/, keys/) and "
                      "the root credentials."))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@DATA_OPTION
@click.option("--db", default=None, metavar="postgresql://...",
              help=_("The PostgreSQL database holding the metadata (or $NUAGE_DB): back it up with pg_dump; "
                     "this command then saves the blobs, keys and credentials."))
@click.option("--no-blobs", is_flag=True,
              help=_("Leave the blob files out (you copy or snapshot DATA/blobs yourself, after this command)."))
def backup(dest: Path, data_dir: Path | None, db: str | None, no_blobs: bool) -> None:
    """`nuage backup DEST` (the help text above)."""
    settings = settings_from_env(data_dir=data_dir, db=db)
    postgres = settings.db is not None
    if postgres:
        from nuage.cli.db import check_url
        check_url(str(settings.db))
    started = time.monotonic()
    try:
        with _progress() as progress:
            manifest = take_backup(settings.data_dir, dest, postgres=postgres, with_blobs=not no_blobs,
                                   on_blob=_Meter(progress, _("copying blobs")))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_("backup failed: {reason}: {path}").format(
            reason=exc.strerror or exc, path=exc.filename or dest)) from None
    what = (_("metadata (PostgreSQL: not included), ") if postgres
            else _("metadata (schema {version}), ").format(version=manifest.schema_version))
    blobs = (_("no blobs (--no-blobs)") if no_blobs
             else _("{blobs} blobs ({size})").format(blobs=manifest.blobs, size=_size(manifest.bytes)))
    click.echo(_("backed up {what}{blobs}, keys and credentials to {dest} in {seconds:.1f} s").format(
        what=what, blobs=blobs, dest=dest, seconds=time.monotonic() - started))
    if manifest.missing:
        click.echo(_("warning: {count} blobs the metadata references were deleted before they could be copied "
                     "(their objects changed during the backup): run the backup again").format(
                         count=len(manifest.missing)), err=True)
    if postgres:
        click.echo(_("the metadata is in PostgreSQL: back it up with pg_dump (run it before this command, so "
                     "that the blobs copied here cover it), e.g. pg_dump -Fc -f nuage.dump \"$NUAGE_DB\""),
                   err=True)
    if no_blobs:
        click.echo(_("now copy the blob files (DATA/blobs) into {folder}, after this command: see "
                     "docs/operations.md").format(folder=dest / "blobs"), err=True)


@click.command(cls=Command,
               help=_("Restore the backup in SRC into a new data folder, after checking its metadata (SQLite "
                      "integrity check, schema version); then start `nuage serve --data` on it."))
@click.argument("src", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
              help=_("The new data folder (it must not exist, or be empty)."))
def restore(src: Path, data_dir: Path) -> None:
    """`nuage restore SRC` (the help text above)."""
    started = time.monotonic()
    try:
        with _progress() as progress:
            done = run_restore(src, data_dir, on_blob=_Meter(progress, _("copying blobs")))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(_("restore failed: {reason}: {path}").format(
            reason=exc.strerror or exc, path=exc.filename or data_dir)) from None
    what = (_("metadata (PostgreSQL: restore it with pg_restore), ") if done.manifest.metadata == "postgresql"
            else _("metadata (schema {version}, integrity ok), ").format(version=done.schema_version))
    click.echo(_("restored {what}{blobs} blobs ({size}), keys and credentials into {folder} in {seconds:.1f} s")
               .format(what=what, blobs=done.blobs, size=_size(done.bytes), folder=data_dir,
                       seconds=time.monotonic() - started))
    if done.missing:
        click.echo(_("warning: {count} blobs the metadata references are not in the backup: their objects would "
                     "fail to read: copy them into {folder} from your blob snapshot before you start the "
                     "server").format(count=len(done.missing), folder=data_dir / "blobs"), err=True)
