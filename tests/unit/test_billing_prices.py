"""Price sheets (nuage.billing.prices): the default sheet, exact decimals, and one-line errors naming the key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from nuage.billing.prices import METRICS, PriceSheetError, load, loads

MINIMAL = """
tax_rate = "0.0825"
[storage]
price = "0.023"
[requests_a]
price = "0.005"
[requests_b]
price = "0.004"
[data_out]
price = "0.09"
[replication]
price = "0.02"
[scanned]
price = "0.002"
"""


def test_default_sheet_is_aws_s3_standard_us_east_1() -> None:
    sheet = load()
    assert sheet.currency == "USD" and sheet.tax_rate == 0 and sheet.invoice_prefix == "NUA"
    storage = sheet.price("storage")
    assert [(t.upto, t.price) for t in storage.tiers] == [
        (Decimal(51200), Decimal("0.023")), (Decimal(512000), Decimal("0.022")), (None, Decimal("0.021"))]
    assert storage.free == 5
    class_a, class_b = sheet.price("requests_a"), sheet.price("requests_b")
    assert class_a.tiers[0].price == Decimal("0.005") and class_a.metric.per == 1000 and class_a.free == 2000
    assert class_b.tiers[0].price == Decimal("0.004") and class_b.metric.per == 10000 and class_b.free == 20000
    assert sheet.price("data_out").free == 100 and len(sheet.price("data_out").tiers) == 4
    assert [p.metric for p in sheet.prices] == list(METRICS)


def test_money_is_exact_whether_written_as_string_or_number() -> None:
    as_string = loads(MINIMAL)
    as_number = loads(MINIMAL.replace('"0.023"', "0.023").replace('"0.0825"', "0.0825"))
    assert as_string == as_number
    price = as_number.price("storage").tiers[0].price
    assert isinstance(price, Decimal) and price == Decimal("0.023") and str(price) == "0.023"
    assert as_number.tax_rate == Decimal("0.0825")
    assert loads(MINIMAL.replace('"0.023"', "1")).price("storage").tiers[0].price == 1


@pytest.mark.parametrize(("change", "message"), [
    (('tax_rate = "0.0825"', 'tax_rate = "8.25"'), "<prices>: tax_rate: a rate is a fraction below 1"),
    (('tax_rate = "0.0825"\n', ""), "<prices>: missing tax_rate"),
    (('price = "0.023"', 'price = "cheap"'), "<prices>: storage.price: expected a decimal number"),
    (('price = "0.023"', 'price = "-1"'), "<prices>: storage.price: must not be negative"),
    (('price = "0.023"', 'price = "NaN"'), "<prices>: storage.price: expected a finite number"),
    (('price = "0.023"', "price = true"), "<prices>: storage.price: expected a decimal number such as \"0.023\", "
                                          "got bool"),
    (('price = "0.023"', 'prise = "0.023"'), "<prices>: storage.prise: unknown key"),
    (("[scanned]\nprice = \"0.002\"", ""), "<prices>: scanned: missing section [scanned]"),
    (('tax_rate = "0.0825"', 'tax_rate = "0"\ncolour = "red"'), "<prices>: unknown key 'colour'"),
    (('tax_rate = "0.0825"', 'tax_rate = "0"\ncurrency = "dollars"'), "<prices>: currency: a three-letter"),
    (('tax_rate = "0.0825"', 'tax_rate = "0"\ninvoice_prefix = "A B"'), "<prices>: invoice_prefix: 1 to 16"),
    (('price = "0.023"', 'price = "0.023"\ntiers = [{price = "1"}]'), "<prices>: storage: give either price or"),
    (('price = "0.023"', 'tiers = [{upto = "10", price = "1"}]'), "<prices>: storage.tiers[0].upto: the last tier"),
    (('price = "0.023"', 'tiers = [{price = "1"}, {price = "2"}]'), "<prices>: storage.tiers[0]: missing upto"),
    (('price = "0.023"', 'tiers = [{upto = "10", price = "1"}, {upto = "5", price = "1"}, {price = "1"}]'),
     "<prices>: storage.tiers[1].upto: bounds must be positive and increase"),
    (('price = "0.023"', 'tiers = [{upto = "10", cost = "1"}, {price = "1"}]'),
     "<prices>: storage.tiers[0]: unknown key 'cost'"),
    (('price = "0.023"', 'tiers = []'), "<prices>: storage.tiers: expected a list of tables"),
    (('price = "0.023"', 'free = "5"'), "<prices>: storage: missing price (or tiers)"),
    (('price = "0.023"', 'price = "0.023'), "<prices>: not valid TOML"),
])
def test_errors_are_one_line_naming_the_key(change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change, 1)
    with pytest.raises(PriceSheetError) as exc:
        loads(text)
    assert str(exc.value).startswith(message), str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_file_names_itself_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    with pytest.raises(PriceSheetError, match=r"prices.toml: cannot read it"):
        load(path)
    path.write_text(MINIMAL.replace('"0.002"', '"x"'))
    with pytest.raises(PriceSheetError) as exc:
        load(path)
    assert str(exc.value).startswith(f"{path}: scanned.price: expected a decimal number")


def test_docs_billing_shows_the_shipped_default_sheet() -> None:
    from nuage.billing.prices import default_text

    page = (Path(__file__).resolve().parents[2] / "docs" / "billing.md").read_text()
    assert f"```toml\n{default_text()}```" in page
