"""`nuage scrub`: check every stored blob against its CRC32C, on demand, on a data folder (the server
may be running), and quarantine the damaged ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from nuage.cli.helpformat import Command
from nuage.cli.i18n import _
from nuage.config import settings_from_env

EXIT_DAMAGED = 2   # damage is known (found now or quarantined before): for cron jobs and scripts


@click.command(cls=Command,
               help=_("Read every blob, compare it with the checksum taken when it was written, and quarantine the "
                      "damaged ones (reads of them then fail at once; nothing is deleted: file bytes are kept in "
                      "DATA/quarantine/). Exits with 2 when damaged blobs are known."))
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help=_("Data folder (default ./nuage-data, or $NUAGE_DATA)."))
@click.option("--rate", type=click.FloatRange(min=0), default=100.0, show_default=True,
              help=_("Read at most this many MB/s (0: no limit), to leave the disk to the server."))
@click.option("--json", "as_json", is_flag=True, help=_("Print the report as JSON."))
def scrub(data_dir: Path | None, rate: float, as_json: bool) -> None:
    """`nuage scrub` (the help text above)."""
    from nuage.server import StartupError, open_stores
    from nuage.storage.meta.postgres import DatabaseUnavailable
    from nuage.storage.scrub import scrub as run_scrub

    settings = settings_from_env(data_dir=data_dir)
    if settings.db is None and not (settings.data_dir / "meta.sqlite3").exists():   # ($NUAGE_DB: PostgreSQL)
        raise click.ClickException(_("no Nuage data in {folder}").format(folder=settings.data_dir))
    try:
        meta, blobs = open_stores(settings)
    except (StartupError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    err = Console(stderr=True)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      transient=True, disable=as_json or not err.is_terminal) as progress:
            task = progress.add_task(_("scrubbing"))
            done = {"blobs": 0, "bytes": 0}

            def on_blob(_item: object, size: int) -> None:
                done["blobs"] += 1
                done["bytes"] += size
                progress.update(task, description=_("scrubbing: {blobs} blobs, {mb:,.1f} MB").format(
                    blobs=done["blobs"], mb=done["bytes"] / 1e6))

            report = run_scrub(meta, blobs, rate=rate * 1e6 or None, on_blob=on_blob)
    finally:
        meta.close()
        blobs.close()
    rows = [{"bucket": f.item.bucket, "key": f.item.key, "version": f.item.version_id,
             "kind": "object" if f.item.seq is not None else "upload part", "detail": f.detail,
             "new": not f.earlier} for f in report.damaged]
    if as_json:
        click.echo(json.dumps({"blobs": report.blobs, "bytes": report.bytes, "unverifiable": report.unverifiable,
                               "damaged": rows}, indent=2))
    else:
        out = Console()
        out.print(_("checked {blobs} blobs ({mb:,.1f} MB); {unverifiable} unverifiable (written before blobs had "
                    "a checksum); {found} newly damaged, {earlier} quarantined earlier").format(
                        blobs=report.blobs, mb=report.bytes / 1e6, unverifiable=report.unverifiable,
                        found=len(report.found), earlier=len(report.damaged) - len(report.found)))
        if rows:
            table = Table("bucket", "key", "version", "kind", "detail", "new")
            for r in rows:
                table.add_row(str(r["bucket"]), str(r["key"]), str(r["version"]), str(r["kind"]),
                              str(r["detail"]), "yes" if r["new"] else "")
            out.print(table)
    if report.damaged:
        sys.exit(EXIT_DAMAGED)
