"""`nuage admin budget TENANT [--set AMOUNT | --clear | --events]`: a tenant's monthly budget and its events,
through the admin API (admin/budgets.py; docs/billing.md, "Budgets")."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import click

from nuage.cli.helpformat import Command
from nuage.cli.i18n import _


def _client(ctx: click.Context) -> Any:
    from nuage.cli import admin  # (admin.py registers this command: imported when it runs)

    return admin._client(ctx)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in [headers, *rows])


@click.command("budget", cls=Command,
               help=_("Show the monthly budget of TENANT and its month so far, set it (--set), remove it (--clear) "
                      "or list its budget events (--events): an event fires once a month when the month so far "
                      "reaches 80 and then 100 percent of the budget."))
@click.argument("tenant")
@click.option("--set", "amount", default=None, metavar="AMOUNT",
              help=_("Set the budget to AMOUNT, in the price sheet's currency (e.g. 100.00)."))
@click.option("--clear", is_flag=True, help=_("Remove the budget (its events stay)."))
@click.option("--events", is_flag=True, help=_("List the tenant's budget events instead, latest first."))
@click.option("--json", "as_json", is_flag=True, help=_("Print JSON instead of a table."))
@click.pass_context
def budget(ctx: click.Context, tenant: str, amount: str | None, clear: bool, events: bool, as_json: bool) -> None:
    """`nuage admin budget TENANT` (the help text above)."""
    if sum((amount is not None, clear, events)) > 1:
        raise click.UsageError(_("give at most one of --set, --clear and --events"))
    as_json = as_json or bool(ctx.obj.get("json"))
    client = _client(ctx)
    path = f"/admin/tenants/{quote(tenant, safe='')}/budget"
    if events:
        data = client.call("GET", f"{path}/events")
        if as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        rows = [[e["month"], f"{e['threshold']}%", f"{e['spent']} {e['currency']}", f"{e['budget']} {e['currency']}",
                 _when(e["at"])] for e in data["events"]]
        click.echo(_table(rows, ["MONTH", "THRESHOLD", "SPENT", "BUDGET", "AT"]))
        return
    if clear:
        data = client.call("DELETE", path)
    elif amount is not None:
        data = client.call("PUT", path, {"amount": amount})
    else:
        data = client.call("GET", path)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif clear:
        click.echo(_("budget of {tenant} removed").format(tenant=data["tenant"]))
    else:
        click.echo(_table([[data["tenant"], f"{data['amount']} {data['currency']}", data["month"],
                            f"{data['spent']} {data['currency']}", f"{data['percent']}%"]],
                          ["TENANT", "BUDGET", "MONTH", "SPENT", "USED"]))


def _when(ts: object) -> str:
    from datetime import UTC, datetime

    if not isinstance(ts, int | float):
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
