"""The sample data of `nuage demo`: a small shop's orders, the same every time (a fixed seed).

``orders.csv`` (order_id, date, customer, country, product, quantity, unit_price), the same rows as
``orders.parquet`` (written by DuckDB, with typed columns: DATE, INTEGER, DECIMAL(10,2)), and the
catalog as ``products.json``.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

SEED = 20261207
ORDERS = 3000
FIRST_ORDER_ID = 100001
FIRST_DAY = date(2026, 1, 1)
DAYS = 365
COLUMNS = ("order_id", "date", "customer", "country", "product", "quantity", "unit_price")

#: (product, unit price)
PRODUCTS: tuple[tuple[str, str], ...] = (
    ("Green tea, 100 g", "8.50"), ("Oolong tea, 100 g", "12.00"), ("Jasmine tea, 100 g", "9.75"),
    ("Porcelain teapot", "34.90"), ("Glass teapot", "27.50"), ("Tea cups, set of 4", "19.90"),
    ("Bamboo tray", "24.00"), ("Tea strainer", "4.95"), ("Gift box", "45.00"), ("Matcha whisk", "14.25"),
)
#: (country, weight): where the customers live
COUNTRIES: tuple[tuple[str, int], ...] = (
    ("China", 30), ("United States", 22), ("Germany", 12), ("Japan", 10), ("France", 8),
    ("United Kingdom", 7), ("Brazil", 6), ("Singapore", 5),
)
FIRST_NAMES = ("Li", "Wang", "Anna", "James", "Yuki", "Lucas", "Sofia", "Chen", "Maria", "Noah", "Emma", "Ravi")
LAST_NAMES = ("Zhang", "Smith", "Müller", "Tanaka", "Martin", "Brown", "Silva", "Tan", "Liu", "Dupont")


@dataclass(frozen=True)
class Order:
    order_id: int
    day: date
    customer: str
    country: str
    product: str
    quantity: int
    unit_price: Decimal

    def row(self) -> list[str]:
        return [str(self.order_id), self.day.isoformat(), self.customer, self.country, self.product,
                str(self.quantity), f"{self.unit_price:.2f}"]


def orders(count: int = ORDERS, seed: int = SEED) -> list[Order]:
    """The orders, in order_id order; the same list for the same seed."""
    rng = random.Random(seed)
    customers: dict[str, str] = {}        # each customer lives in one country
    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    countries, weights = [c for c, _ in COUNTRIES], [w for _, w in COUNTRIES]
    result = []
    for n in range(count):
        customer = rng.choice(names)
        country = customers.setdefault(customer, rng.choices(countries, weights)[0])
        product, price = rng.choice(PRODUCTS)
        result.append(Order(FIRST_ORDER_ID + n, FIRST_DAY + timedelta(days=rng.randrange(DAYS)), customer,
                            country, product, rng.choice((1, 1, 1, 2, 2, 3, 4, 6)), Decimal(price)))
    return result


def revenue_per_country(rows: list[Order]) -> dict[str, Decimal]:
    """sum(quantity * unit_price) per country: what the demo's SQL query answers."""
    totals: dict[str, Decimal] = {}
    for o in rows:
        totals[o.country] = totals.get(o.country, Decimal(0)) + o.quantity * o.unit_price
    return totals


def write_csv(rows: list[Order], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(o.row() for o in rows)


def write_parquet(csv_path: Path, path: Path) -> None:
    """The CSV file's rows as Parquet, with typed columns (DuckDB writes it)."""
    import duckdb

    types = {"order_id": "INTEGER", "date": "DATE", "customer": "VARCHAR", "country": "VARCHAR",
             "product": "VARCHAR", "quantity": "INTEGER", "unit_price": "DECIMAL(10,2)"}
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"COPY (SELECT * FROM read_csv(?, header=true, columns={types!r}) ORDER BY order_id) "
                    f"TO '{_quoted(path)}' (FORMAT parquet)", [str(csv_path)])
    finally:
        con.close()


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def write_products(path: Path) -> None:
    catalog = [{"product": name, "unit_price": price} for name, price in PRODUCTS]
    path.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_all(folder: Path, count: int = ORDERS) -> dict[str, Path]:
    """orders.csv, orders.parquet and products.json in ``folder``; their paths by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / name for name in ("orders.csv", "orders.parquet", "products.json")}
    write_csv(orders(count), files["orders.csv"])
    write_parquet(files["orders.csv"], files["orders.parquet"])
    write_products(files["products.json"])
    return files
