"""The console's pages and its small JSON API, each module with its routes (a table)."""

from nuage.console.context import Route
from nuage.console.views import auth, billing, buckets, lang, objects, preview, sql, uploads, usage, users

ROUTES: list[Route] = [*auth.ROUTES, *buckets.ROUTES, *objects.ROUTES, *uploads.ROUTES, *usage.ROUTES,
                       *users.ROUTES, *sql.ROUTES, *preview.ROUTES, *billing.ROUTES,
                       *lang.ROUTES]
