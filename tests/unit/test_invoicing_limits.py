"""Invoice lines at their limits: exactly there passes, one step past is refused naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.invoicing.lines import MAX_LINES, LineInput, parse_lines
from domain.invoicing.values import MAX_AMOUNT, MAX_QUANTITY, parse_money, parse_quantity
from domain.shared.errors import InvalidInput


def line(quantity: object = "1", unit_price: object = "1.00", **kw: object) -> LineInput:
    return LineInput(description=str(kw.pop("description", "Tornillo")), quantity=quantity, unit_price=unit_price,
                     tax_rate=kw.pop("tax_rate", 0), **kw)  # type: ignore[arg-type]


def test_exactly_1000_lines_pass_and_1001_are_refused() -> None:
    assert len(parse_lines([line()] * MAX_LINES)) == MAX_LINES
    with pytest.raises(InvalidInput, match="at most 1000 lines") as refused:
        parse_lines([line()] * (MAX_LINES + 1))
    assert refused.value.field == "lines"


def test_an_amount_exactly_at_the_maximum_passes_and_a_cent_more_is_refused() -> None:
    assert parse_money(str(MAX_AMOUNT), field="amount") == MAX_AMOUNT
    with pytest.raises(InvalidInput, match="amount must be at most 9999999999999.99"):
        parse_money(str(MAX_AMOUNT + Decimal("0.01")), field="amount")


def test_a_quantity_exactly_at_the_maximum_passes_and_ten_times_it_is_refused() -> None:
    assert parse_quantity(str(MAX_QUANTITY), field="quantity") == MAX_QUANTITY
    with pytest.raises(InvalidInput, match="quantity must be at most"):
        parse_quantity(str(MAX_QUANTITY + Decimal("0.0001")), field="quantity")
    with pytest.raises(InvalidInput, match="quantity must be at most"):
        parse_quantity(str(MAX_QUANTITY * 10), field="quantity")


def test_a_line_near_the_maximum_passes_and_a_ten_thousandth_more_of_quantity_is_refused() -> None:
    [ok] = parse_lines([line(quantity="1000", unit_price="9999999999.9999")])  # 9,999,999,999,999.90
    assert ok.quantity * ok.unit_price <= MAX_AMOUNT
    with pytest.raises(InvalidInput, match=r"lines\[0\]: quantity × unit price must be at most") as refused:
        parse_lines([line(quantity="1000.0001", unit_price="9999999999.9999")])
    assert refused.value.field == "lines[0].quantity"


def test_lines_totalling_exactly_the_maximum_pass_and_a_cent_more_is_refused() -> None:
    big = line(quantity="1000", unit_price="9999999999.9999")  # 9,999,999,999,999.90
    assert len(parse_lines([big, line(quantity="9", unit_price="0.01")])) == 2  # .99: exactly the maximum
    with pytest.raises(InvalidInput, match="the total of the lines must be at most") as refused:
        parse_lines([big, line(quantity="10", unit_price="0.01")])
    assert refused.value.field == "lines"


@pytest.mark.parametrize(
    "raw, single, multi",
    [
        ("Ferretería\nEl Sol", "Ferretería El Sol", "Ferretería\nEl Sol"),
        ("Ferretería\r\nEl Sol", "Ferretería  El Sol", "Ferretería \nEl Sol"),  # \r is a control character
        ("Ace\x00ro\x1b[31m", "Ace ro [31m", "Ace ro [31m"),
        ("\tCalle 50\x7f", "Calle 50", "Calle 50"),
    ],
)
def test_control_characters_never_reach_a_name_address_or_description(raw: str, single: str, multi: str) -> None:
    from domain.invoicing.values import parse_text

    assert parse_text(raw, field="name", max_length=200) == single  # names and addresses: one line
    assert parse_text(raw, field="description", max_length=200, multiline=True) == multi  # descriptions keep \n
    [parsed] = parse_lines([line(description=raw)])
    assert parsed.description == multi


def test_a_description_exactly_at_its_length_passes_and_one_more_character_is_refused() -> None:
    assert len(parse_lines([line(description="d" * 1000)])[0].description) == 1000
    with pytest.raises(InvalidInput, match=r"lines\[0\].description must be at most 1000 characters"):
        parse_lines([line(description="d" * 1001)])
