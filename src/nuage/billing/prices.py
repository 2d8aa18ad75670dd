"""The price sheet: what a tenant pays per unit of each metered quantity, loaded from a TOML file.

Money is :class:`decimal.Decimal`, never a float. The file's numbers are read as decimals from their text
(``tomllib`` with ``parse_float=Decimal``), so ``price = 0.023`` and ``price = "0.023"`` are the same exact
value; a string is the documented form (it reads the same in every TOML tool). Every problem is one line
naming the file and the key (:class:`PriceSheetError`), never a traceback.

Units (docs/billing.md): a GB is 2^30 bytes (as AWS bills); storage is billed per GB-month (byte-hours /
2^30 / the hours of that month); class A requests per 1,000, class B per 10,000; data out, replicated
and scanned per GB. A metric's ``free`` quantity and its tiers' ``upto`` bounds are in its unit (GB-month,
requests, GB) and count the tenant's whole month: the first ``free`` units cost nothing, and a tier's
price applies to the units of the month's total that fall between the bound before it and its own.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

DEFAULT_SHEET = "default_prices.toml"
GB = 2 ** 30


@dataclass(frozen=True)
class Metric:
    """A priced quantity: its section in the sheet, the meter's name for it, its unit and how many units
    a price is for."""

    section: str
    meter: str          # the metric name of nuage's meter (MeterTotal.metric)
    label: str          # how an invoice names it
    unit: str           # the unit of quantities (GB-month, requests, GB)
    per: int            # a price is for this many units


METRICS: tuple[Metric, ...] = (
    Metric("storage", "storage_byte_hours", "Storage", "GB-month", 1),
    Metric("requests_a", "requests_a", "Class A requests (PUT, COPY, POST, LIST)", "requests", 1000),
    Metric("requests_b", "requests_b", "Class B requests (GET, HEAD and others)", "requests", 10000),
    Metric("data_out", "bytes_out", "Data transfer out", "GB", 1),
    Metric("replication", "bytes_replicated", "Cross-region replication", "GB", 1),
    Metric("scanned", "bytes_scanned", "Data scanned (S3 Select, SQL)", "GB", 1),
)
METRIC_BY_SECTION = {m.section: m for m in METRICS}


class PriceSheetError(ValueError):
    """A price sheet that cannot be used; the message is one line: where, which key, why."""


@dataclass(frozen=True)
class Tier:
    upto: Decimal | None    # the month's total up to which this price applies (None: no bound, the last tier)
    price: Decimal          # per Metric.per units


@dataclass(frozen=True)
class MetricPrice:
    metric: Metric
    tiers: tuple[Tier, ...]     # at least one; bounds increasing; the last without a bound
    free: Decimal = Decimal(0)


@dataclass(frozen=True)
class PriceSheet:
    currency: str
    tax_rate: Decimal                  # 0.0825 for 8.25%
    invoice_prefix: str
    issuer: str                        # the operator's name on invoices
    prices: tuple[MetricPrice, ...]    # one per METRICS entry, in that order
    source: str = DEFAULT_SHEET        # the file it came from (for messages)

    def price(self, section: str) -> MetricPrice:
        for p in self.prices:
            if p.metric.section == section:
                return p
        raise KeyError(section)


_TOP_KEYS = {"currency", "tax_rate", "invoice_prefix", "issuer", *METRIC_BY_SECTION}
_SECTION_KEYS = {"price", "tiers", "free"}


def _decimal(where: str, value: object, *, fraction: bool = False) -> Decimal:
    """A non-negative decimal from a string, an integer or a TOML float (read as a Decimal)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        got = "a table" if isinstance(value, dict) else type(value).__name__
        raise PriceSheetError(f"{where}: expected a decimal number such as \"0.023\", got {got}")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise PriceSheetError(f"{where}: expected a decimal number such as \"0.023\", got {value!r}") from None
    if not number.is_finite():
        raise PriceSheetError(f"{where}: expected a finite number, got {value!r}")
    if number < 0:
        raise PriceSheetError(f"{where}: must not be negative, got {value}")
    if fraction and number >= 1:
        raise PriceSheetError(f"{where}: a rate is a fraction below 1 (0.0825 for 8.25%), got {value}")
    return number


def _text(where: str, value: object, default: str, pattern: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise PriceSheetError(f"{where}: expected a non-empty string, got {value!r}")
    if len(value) > 200:
        raise PriceSheetError(f"{where}: at most 200 characters")
    if pattern == "prefix" and not (value.isascii() and value.replace("-", "").replace("_", "").isalnum()
                                    and len(value) <= 16):
        raise PriceSheetError(f"{where}: 1 to 16 ASCII letters, digits, '-' or '_', got {value!r}")
    if pattern == "currency" and not (len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()):
        raise PriceSheetError(f"{where}: a three-letter ISO 4217 code such as \"USD\", got {value!r}")
    return value


def _tiers(where: str, section: dict[str, object]) -> tuple[Tier, ...]:
    if "price" in section and "tiers" in section:
        raise PriceSheetError(f"{where}: give either price or tiers, not both")
    if "price" in section:
        return (Tier(None, _decimal(f"{where}.price", section["price"])),)
    raw = section.get("tiers")
    if raw is None:
        raise PriceSheetError(f"{where}: missing price (or tiers)")
    if not isinstance(raw, list) or not raw:
        raise PriceSheetError(f"{where}.tiers: expected a list of tables such as {{ upto = \"51200\", "
                              f"price = \"0.023\" }}")
    tiers: list[Tier] = []
    for index, item in enumerate(raw):
        at = f"{where}.tiers[{index}]"
        if not isinstance(item, dict):
            raise PriceSheetError(f"{at}: expected a table such as {{ upto = \"51200\", price = \"0.023\" }}")
        unknown = sorted(set(item) - {"upto", "price"})
        if unknown:
            raise PriceSheetError(f"{at}: unknown key {unknown[0]!r} (a tier has upto and price)")
        if "price" not in item:
            raise PriceSheetError(f"{at}: missing price")
        last = index == len(raw) - 1
        upto = None if item.get("upto") is None else _decimal(f"{at}.upto", item["upto"])
        if last and upto is not None:
            raise PriceSheetError(f"{at}.upto: the last tier has no upto (it prices everything beyond)")
        if not last and upto is None:
            raise PriceSheetError(f"{at}: missing upto (only the last tier has none)")
        if upto is not None and (upto <= 0 or (tiers and tiers[-1].upto is not None and upto <= tiers[-1].upto)):
            raise PriceSheetError(f"{at}.upto: bounds must be positive and increase from tier to tier, got {upto}")
        tiers.append(Tier(upto, _decimal(f"{at}.price", item["price"])))
    return tuple(tiers)


def parse(doc: dict[str, object], source: str) -> PriceSheet:
    """A sheet from a parsed TOML document (numbers as Decimal); :class:`PriceSheetError` when unusable."""
    for key in doc:
        if key not in _TOP_KEYS:
            raise PriceSheetError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
    prices = []
    for metric in METRICS:
        section = doc.get(metric.section)
        where = f"{source}: {metric.section}"
        if section is None:
            raise PriceSheetError(f"{where}: missing section [{metric.section}]")
        if not isinstance(section, dict):
            raise PriceSheetError(f"{where}: expected a table [{metric.section}]")
        unknown = sorted(set(section) - _SECTION_KEYS)
        if unknown:
            raise PriceSheetError(f"{where}.{unknown[0]}: unknown key (known: free, price, tiers)")
        free = _decimal(f"{where}.free", section["free"]) if "free" in section else Decimal(0)
        prices.append(MetricPrice(metric, _tiers(where, section), free))
    if "tax_rate" not in doc:
        raise PriceSheetError(f"{source}: missing tax_rate (\"0\" for none)")
    return PriceSheet(
        currency=_text(f"{source}: currency", doc.get("currency"), "USD", "currency"),
        tax_rate=_decimal(f"{source}: tax_rate", doc["tax_rate"], fraction=True),
        invoice_prefix=_text(f"{source}: invoice_prefix", doc.get("invoice_prefix"), "NUA", "prefix"),
        issuer=_text(f"{source}: issuer", doc.get("issuer"), "Nuage"),
        prices=tuple(prices), source=source)


def loads(text: str, source: str = "<prices>") -> PriceSheet:
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise PriceSheetError(f"{source}: not valid TOML ({exc})") from None
    return parse(doc, source)


def load(path: Path | None = None) -> PriceSheet:
    """The sheet in ``path``, or the default sheet shipped with nuage (None)."""
    if path is None:
        return loads(default_text(), DEFAULT_SHEET)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceSheetError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    return loads(text, str(path))


def default_text() -> str:
    """The default sheet's TOML text (src/nuage/billing/default_prices.toml)."""
    return resources.files("nuage.billing").joinpath(DEFAULT_SHEET).read_text(encoding="utf-8")
