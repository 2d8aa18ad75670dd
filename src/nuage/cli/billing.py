"""`nuage admin invoice`: issue, fetch and preview a tenant's invoices through the admin API (docs/billing.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from nuage.cli.helpformat import Command
from nuage.cli.i18n import _


def _client(ctx: click.Context) -> Any:
    from nuage.cli import admin  # (admin.py registers this command: imported when it runs)

    return admin._client(ctx)


@click.command("invoice", cls=Command,
               help=_("Issue the invoice of TENANT for a closed --month (once: issuing it again returns the same "
                      "invoice), or show a --preview of a month so far, as JSON, CSV or PDF."))
@click.argument("tenant")
@click.option("--month", default=None, metavar="YYYY-MM",
              help=_("The month (UTC). Required to issue; with --preview, default the current month."))
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "pdf"]), default="json", show_default=True,
              help=_("Output format."))
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=_("Write to FILE instead of standard output."))
@click.option("--preview", is_flag=True, help=_("The month so far, as an invoice would show it (never stored)."))
@click.option("--list", "list_them", is_flag=True, help=_("List the tenant's issued invoices instead."))
@click.pass_context
def invoice(ctx: click.Context, tenant: str, month: str | None, fmt: str, output: Path | None, preview: bool,
            list_them: bool) -> None:
    """`nuage admin invoice TENANT` (the help text above)."""
    client = _client(ctx)
    base = f"/admin/tenants/{quote(tenant, safe='')}/invoices"
    if list_them:
        data = client.call("GET", base)
        _write(json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n", output)
        return
    if preview:
        query = f"?format={fmt}" + (f"&month={quote(month)}" if month else "")
        with client.open("GET", f"{base}/preview{query}") as resp:
            body = resp.read()
    else:
        if month is None:
            raise click.UsageError(_("give --month YYYY-MM (a month that is over), or --preview"))
        path = f"{base}/{quote(month, safe='')}"
        document = client.call("POST", path)
        if fmt == "json":
            body = json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"
        else:
            with client.open("GET", f"{path}?format={fmt}") as resp:
                body = resp.read()
    if fmt == "json" and preview:
        body = json.dumps(json.loads(body), indent=2, ensure_ascii=False).encode() + b"\n"
    _write(body, output)


def _write(body: bytes, output: Path | None) -> None:
    if output is not None:
        output.write_bytes(body)
        click.echo(_("written to {file}").format(file=output), err=True)
    else:
        click.echo(body, nl=False)   # bytes go to the binary stream as they are
