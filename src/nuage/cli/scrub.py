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

from nuage.config import settings_from_env

EXIT_DAMAGED = 2   # damage is known (found now or quarantined before): for cron jobs and scripts


@click.command()
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Data folder (default ./nuage-data, or $NUAGE_DATA).")
@click.option("--rate", type=click.FloatRange(min=0), default=100.0, show_default=True,
              help="Read at most this many MB/s (0: no limit), to leave the disk to the server.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def scrub(data_dir: Path | None, rate: float, as_json: bool) -> None:
    """Read every blob, compare it with the checksum taken when it was written, and quarantine the damaged
    ones (reads of them then fail at once; nothing is deleted: file bytes are kept in DATA/quarantine/).
    Exits with 2 when damaged blobs are known."""
    from nuage.server import StartupError, open_stores
    from nuage.storage.meta.postgres import DatabaseUnavailable
    from nuage.storage.scrub import scrub as run_scrub

    settings = settings_from_env(data_dir=data_dir)
    if settings.db is None and not (settings.data_dir / "meta.sqlite3").exists():   # ($NUAGE_DB: PostgreSQL)
        raise click.ClickException(f"no Nuage data in {settings.data_dir}")
    try:
        meta, blobs = open_stores(settings)
    except (StartupError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    err = Console(stderr=True)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      transient=True, disable=as_json or not err.is_terminal) as progress:
            task = progress.add_task("scrubbing")
            done = {"blobs": 0, "bytes": 0}

            def on_blob(_item: object, size: int) -> None:
                done["blobs"] += 1
                done["bytes"] += size
                progress.update(task, description=f"scrubbing: {done['blobs']} blobs, "
                                                  f"{done['bytes'] / 1e6:,.1f} MB")

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
        out.print(f"checked {report.blobs} blobs ({report.bytes / 1e6:,.1f} MB); {report.unverifiable} "
                  f"unverifiable (written before blobs had a checksum); {len(report.found)} newly damaged, "
                  f"{len(report.damaged) - len(report.found)} quarantined earlier")
        if rows:
            table = Table("bucket", "key", "version", "kind", "detail", "new")
            for r in rows:
                table.add_row(str(r["bucket"]), str(r["key"]), str(r["version"]), str(r["kind"]),
                              str(r["detail"]), "yes" if r["new"] else "")
            out.print(table)
    if report.damaged:
        sys.exit(EXIT_DAMAGED)
