"""`nuage admin usage TENANT --from DAY --to DAY [--json]`: the raw metered quantities (docs/metering.md),
from the admin API's ``GET /admin/usage/metered``: per tenant, bucket, region and metric, summed over the UTC
days from ``--from`` (included) to ``--to`` (excluded, as AWS Cost Explorer's End).

Without TENANT, --from or --to, ``nuage admin usage`` shows what it always did (current sizes and quotas,
cli/admin.py); with any of them, the metered mode: --from defaults to the first day of the current UTC month,
--to to tomorrow (so today is included), TENANT to every tenant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

import click

from nuage.cli.i18n import _

F = TypeVar("F", bound=Callable[..., Any])


class Client(Protocol):
    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any: ...


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise click.BadParameter(_("a day as YYYY-MM-DD, got {value!r}").format(value=value)) from None
    return value


def metered_options(fn: F) -> F:
    """The arguments of the metered mode, added to ``nuage admin usage``."""
    fn = click.option("--json", "usage_json", is_flag=True, help=_("Print JSON instead of a table."))(fn)
    fn = click.option("--to", "to_day", metavar="YYYY-MM-DD", callback=_day,
                      help=_("Metered mode: the first UTC day not counted (default: tomorrow)."))(fn)
    fn = click.option("--from", "from_day", metavar="YYYY-MM-DD", callback=_day,
                      help=_("Metered mode: the first UTC day counted (default: the 1st of this month)."))(fn)
    return click.argument("tenant", required=False)(fn)


def wanted(tenant: str | None, from_day: str | None, to_day: str | None) -> bool:
    """Whether the metered mode was asked for."""
    return tenant is not None or from_day is not None or to_day is not None


def show(client: Client, as_json: bool, tenant: str | None, from_day: str | None, to_day: str | None) -> None:
    today = datetime.now(UTC).date()
    start = from_day or today.replace(day=1).isoformat()
    end = to_day or (today + timedelta(days=1)).isoformat()
    query = {"from": start, "to": end, **({"tenant": tenant} if tenant else {})}
    data = client.call("GET", "/admin/usage/metered?" + urlencode(query))
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    rows = [[r["tenant"] or r["account_id"], r["bucket"] or "-", r["region"], r["metric"], str(r["value"])]
            for r in data["rows"]]
    rows += [["TOTAL", "", "", metric, str(value)] for metric, value in data["totals"].items()]
    headers = ["TENANT", "BUCKET", "REGION", "METRIC", "VALUE"]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    click.echo(_("metered from {start} to {end} (excluded)").format(start=data["start"], end=data["end"]))
    for r in [headers, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
