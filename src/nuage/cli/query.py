"""`nuage query "SQL"`: run a SQL job on a running server (signed query API) and print its result.

    nuage query "SELECT region, sum(amount) FROM 's3://sales/2015/*.parquet' GROUP BY 1"
    nuage query --save s3://reports/by-region.parquet "SELECT ..."
    nuage query --format csv "SELECT ..." > out.csv
    nuage query --jobs                 list recent jobs
    nuage query --cancel JOB_ID        cancel one

``--format csv`` and ``--format json`` print every row of the result (CSV streamed from the server as it
comes, whatever its size); the table shows the first ``TABLE_ROWS``. With ``--max-rows`` each prints at
most that many. Whenever rows are left out, a line on stderr says how many.

Keys come from options or from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, else $NUAGE_ROOT_ACCESS_KEY /
$NUAGE_ROOT_SECRET_KEY, as for `nuage admin` (any user's key: the job reads what that user may read), the
endpoint from --endpoint or $NUAGE_ENDPOINT.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import time
from typing import IO, Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from nuage.cli.admin import AdminClient
from nuage.cli.credentials import key_options, resolve
from nuage.cli.helpformat import Command
from nuage.cli.i18n import _

SERVICE = "nuage-query"
POLL_SECONDS = 0.3
TABLE_ROWS = 1000          # rows a table shows unless --max-rows says otherwise
JSON_MAX_ROWS = 1_000_000  # rows one JSON answer of the query API holds at most
COPY_CHUNK = 1024 * 1024


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _job_line(job: dict[str, Any]) -> str:
    duration = job.get("duration_seconds")
    took = f"{duration:.2f}s" if isinstance(duration, int | float) else "-"
    return _("job {id} {status}: {objects} objects, {scanned} scanned, {rows} rows, {took}").format(
        id=job["id"], status=job["status"], objects=job.get("objects", 0),
        scanned=_size(int(job.get("bytes_scanned") or 0)), rows=job.get("rows") or 0, took=took)


def _wait(client: AdminClient, job: dict[str, Any], console: Console, quiet: bool) -> dict[str, Any]:
    if job["status"] in ("succeeded", "failed", "cancelled"):
        return job
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console, transient=True,
                  disable=quiet) as bar:
        task = bar.add_task(_("job {id} {status}").format(id=job["id"], status=job["status"]), total=100)
        try:
            while job["status"] not in ("succeeded", "failed", "cancelled"):
                time.sleep(POLL_SECONDS)
                job = client.call("GET", f"/query/jobs/{job['id']}")
                bar.update(task, description=_("job {id} {status}").format(id=job["id"], status=job["status"]),
                           completed=float(job.get("progress") or 0.0))
        except KeyboardInterrupt:
            job = client.call("POST", f"/query/jobs/{job['id']}/cancel")
    return job


def _write_csv(client: AdminClient, job_id: str, max_rows: int | None, out: IO[bytes]) -> int:
    """The job's result as CSV (a header line, then the rows) on ``out``: every row as the server streams
    it, or the first ``max_rows``. Returns the rows written (-1 for all of them: not counted)."""
    with client.open("GET", f"/query/jobs/{job_id}/result?format=csv") as resp:
        if max_rows is None:
            shutil.copyfileobj(resp, out, COPY_CHUNK)
            out.flush()
            return -1
        text = io.TextIOWrapper(resp, encoding="utf-8", newline="")
        sink = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(sink, lineterminator="\n")
        written = -1                 # the header line first
        for row in csv.reader(text):
            if written >= max_rows:
                break
            writer.writerow(row)
            written += 1
        sink.flush()
        sink.detach()                # ``out`` stays open for the caller
        return max(written, 0)


def _left_out(errors: Console, total: int, shown: int, hint: str) -> None:
    if total > shown:
        errors.print(_("{left:,} of {total:,} rows left out ({hint}).").format(left=total - shown, total=total,
                                                                                hint=hint), style="yellow")


def _print_table(console: Console, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@click.command("query", cls=Command,
               help=_("Run SQL over stored objects: FROM 's3://bucket/prefix/*.parquet' (CSV and JSON too)."))
@click.argument("sql", required=False)
@click.option("--endpoint", envvar="NUAGE_ENDPOINT", default="http://127.0.0.1:9000", show_default=True,
              help=_("Server URL ($NUAGE_ENDPOINT)."))
@key_options()
@click.option("--region", envvar="NUAGE_REGION", default="us-east-1", show_default=True)
@click.option("--no-verify-tls", is_flag=True, help=_("Do not verify the server's TLS certificate."))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help=_("How to print the result."))
@click.option("--save", metavar="s3://BUCKET/KEY", help=_("Write the result as an object (.csv or .parquet)."))
@click.option("--max-rows", type=click.IntRange(min=0), default=None,
              help=_("Rows to print at most [default: all for csv and json, {rows} for the table].").format(
                  rows=TABLE_ROWS))
@click.option("--jobs", "list_jobs", is_flag=True, help=_("List recent jobs instead of running one."))
@click.option("--cancel", "cancel_id", metavar="JOB_ID", help=_("Cancel a job."))
def query(sql: str | None, endpoint: str, access_key: str | None, secret_key: str | None, region: str,
          no_verify_tls: bool, fmt: str, save: str | None, max_rows: int | None, list_jobs: bool,
          cancel_id: str | None) -> None:
    """`nuage query` (the help text above)."""
    access_key, secret_key = resolve(access_key, secret_key)
    client = AdminClient(endpoint, access_key, secret_key, region, not no_verify_tls, service=SERVICE)
    console = Console(stderr=False)
    errors = Console(stderr=True)
    if list_jobs:
        jobs = client.call("GET", "/query/jobs")["jobs"]
        rows = [[j["id"], j["status"], str(j.get("objects", 0)), _size(int(j.get("bytes_scanned") or 0)),
                 "" if j.get("duration_seconds") is None else f"{j['duration_seconds']:.2f}s",
                 j["sql"][:60]] for j in jobs]
        _print_table(console, ["ID", "STATUS", "OBJECTS", "SCANNED", "DURATION", "SQL"], rows)
        return
    if cancel_id:
        errors.print(_job_line(client.call("POST", f"/query/jobs/{cancel_id}/cancel")))
        return
    if not sql:
        raise click.UsageError(_("Give the SQL to run (or --jobs, --cancel)."))
    output: dict[str, str] = {"format": "json"}
    if save:
        if not save.startswith("s3://") or "/" not in save[5:]:
            raise click.UsageError(_("--save takes s3://BUCKET/KEY"))
        bucket, key = save[5:].split("/", 1)
        output = {"bucket": bucket, "key": key, "format": "parquet" if key.endswith(".parquet") else "csv"}
    job = client.call("POST", "/query/jobs", {"sql": sql, "output": output, "wait": 1})
    job = _wait(client, job, errors, quiet=not sys.stderr.isatty())
    if job["status"] != "succeeded":
        err = job.get("error") or {}
        raise click.ClickException(f"{_job_line(job)}: {err.get('code', '')}: {err.get('message', '')}")
    errors.print(_job_line(job), style="dim")
    if save:
        errors.print(_("result written to {url}").format(url=save))
        return
    total = int(job.get("rows") or 0)
    if fmt == "csv":
        sys.stdout.flush()
        written = _write_csv(client, job["id"], max_rows, sys.stdout.buffer)
        if written >= 0:
            _left_out(errors, total, written, "--max-rows")
        return
    limit = max_rows if max_rows is not None else (TABLE_ROWS if fmt == "table" else total)
    if limit > JSON_MAX_ROWS:
        raise click.ClickException(_("The result has {rows:,} rows, more than the {most:,} a JSON answer holds: "
                                     "use --format csv (every row) or --save.").format(rows=total,
                                                                                      most=JSON_MAX_ROWS))
    result = client.call("GET", f"/query/jobs/{job['id']}/result?max_rows={max(limit, 1)}")
    columns, rows = result["columns"], result["rows"][:limit]
    if fmt == "json":
        click.echo(json.dumps([dict(zip(columns, r, strict=True)) for r in rows], indent=2))
    else:
        _print_table(console, columns, rows)
    _left_out(errors, total, len(rows), "--max-rows" if max_rows is not None or fmt != "table"
              else _("--max-rows, or --format csv for every row"))
