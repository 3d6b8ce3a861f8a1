"""Lines of invoices, quotes and credit notes, and the totals computed from them.

The rule is the DGI electronic invoice's: ITBMS is computed and rounded *per item*, and every
total is the sum of the items' rounded values, so every printed column adds up to its total.

Per line: ``amount = round(quantity × unit price)``, ``base = round(quantity × unit price −
discount)``, ``tax = round(base × rate)`` and ``line total = base + tax``. Per ITBMS rate:
``base = Σ line bases`` and ``tax = Σ line taxes`` at that rate. Then ``subtotal = Σ amount``,
``discount total = Σ discount``, ``tax total = Σ line taxes`` and ``total = subtotal − discount
total + tax total``, which is exactly ``Σ line totals``. Every rounding is to the cent, half-up.
Discounts are whole cents, so ``subtotal − discount total`` is exactly ``Σ base``.

(Until issue 18 the tax was rounded once per rate on the sum of the bases: an invoice printed
per-line ITBMS 2.63 + 5.78 + 3.50 = 11.91 beside a total ITBMS of 11.90.)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Protocol

from domain.invoicing.errors import InvalidAmount, InvalidTaxRate, NoLines
from domain.invoicing.values import (
    MAX_AMOUNT,
    parse_money,
    parse_quantity,
    parse_text,
    parse_unit_price,
    round_cents,
)
from domain.shared.errors import InvalidInput

ITBMS_RATES = (0, 7, 10, 15)
MAX_LINES = 1000
ZERO = Decimal("0.00")


def parse_tax_rate(value: object, *, field: str) -> int:
    """An ITBMS rate in percent: 0, 7, 10 or 15."""
    rate: object = value
    if isinstance(value, str | Decimal):
        try:
            number = Decimal(str(value).strip())
            rate = int(number) if number.is_finite() and number == int(number) else value
        except ArithmeticError:
            rate = value
    if isinstance(rate, bool) or not isinstance(rate, int) or rate not in ITBMS_RATES:
        raise InvalidTaxRate(
            f"{field} must be an ITBMS rate of 0, 7, 10 or 15 (percent), not {str(value)[:16]}", field=field
        )
    return rate


class Priced(Protocol):
    """What totals need from a line: lines of the domain and views of lines alike."""

    @property
    def quantity(self) -> Decimal: ...

    @property
    def unit_price(self) -> Decimal: ...

    @property
    def discount(self) -> Decimal: ...

    @property
    def tax_rate(self) -> int: ...


def line_gross(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """Quantity × unit price, exact (up to 8 decimals)."""
    with localcontext() as context:
        context.prec = 60
        return quantity * unit_price


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return round_cents(line_gross(quantity, unit_price))


def line_base(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    """What the line's tax is computed on: round(quantity × unit price − discount)."""
    with localcontext() as context:
        context.prec = 60
        return round_cents(line_gross(quantity, unit_price) - discount)


def line_tax(base: Decimal, tax_rate: int) -> Decimal:
    """The line's ITBMS: round(base × rate), to the cent, half-up."""
    return round_cents(base * tax_rate / 100)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineInput:
    """A line as the caller gives it, before validation."""

    description: str
    quantity: object
    unit_price: object
    tax_rate: object
    discount: object = ZERO


@dataclass(frozen=True, slots=True)
class TaxLine:
    """ITBMS at one rate: the sum of the bases at that rate, and the sum of their lines' taxes."""

    rate: int
    base: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    taxes: tuple[TaxLine, ...]
    tax_total: Decimal
    total: Decimal


def compute_totals(lines: Iterable[Priced]) -> Totals:
    subtotal = discount_total = ZERO
    bases: dict[int, Decimal] = defaultdict(lambda: ZERO)
    line_taxes: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        subtotal += line_amount(line.quantity, line.unit_price)
        discount_total += line.discount
        base = line_base(line.quantity, line.unit_price, line.discount)
        bases[line.tax_rate] += base
        line_taxes[line.tax_rate] += line_tax(base, line.tax_rate)
    taxes = tuple(
        TaxLine(rate=rate, base=base, tax=line_taxes[rate]) for rate, base in sorted(bases.items())
    )
    tax_total = sum((tax.tax for tax in taxes), ZERO)
    return Totals(
        subtotal=subtotal,
        discount_total=discount_total,
        taxes=taxes,
        tax_total=tax_total,
        total=subtotal - discount_total + tax_total,
    )


class DocumentLine:
    """One line of an invoice or a quote: what was sold, how many, at what price and rate."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        position: int,
        description: str,
        quantity: Decimal,
        unit_price: Decimal,
        discount: Decimal,
        tax_rate: int,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.position = position
        self.description = description
        self.quantity = quantity
        self.unit_price = unit_price
        self.discount = discount
        self.tax_rate = tax_rate

    @property
    def amount(self) -> Decimal:
        return line_amount(self.quantity, self.unit_price)

    @property
    def base(self) -> Decimal:
        return line_base(self.quantity, self.unit_price, self.discount)

    @property
    def tax(self) -> Decimal:
        return line_tax(self.base, self.tax_rate)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidLine:
    """A line whose values passed validation; invoices and quotes make their lines from these."""

    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: int


def parse_lines(lines: Sequence[LineInput]) -> list[ValidLine]:
    """Validated lines (``lines[i].field`` named on refusal) whose total stays within bounds."""
    if not lines:
        raise NoLines("lines must list at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"lines must list at most {MAX_LINES} lines", field="lines")
    parsed: list[ValidLine] = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        description = parse_text(
            line.description, field=f"{where}.description", max_length=1000, required=True, multiline=True
        )
        quantity = parse_quantity(line.quantity, field=f"{where}.quantity")
        unit_price = parse_unit_price(line.unit_price, field=f"{where}.unitPrice")
        discount = parse_money(ZERO if line.discount is None else line.discount, field=f"{where}.discount")
        tax_rate = parse_tax_rate(line.tax_rate, field=f"{where}.taxRate")
        gross = line_gross(quantity, unit_price)
        if gross > MAX_AMOUNT:
            raise InvalidAmount(
                f"{where}: quantity × unit price must be at most {MAX_AMOUNT}, not {gross}",
                field=f"{where}.quantity",
            )
        if discount > gross:
            raise InvalidAmount(
                f"{where}.discount ({discount}) must not exceed quantity × unit price ({gross})",
                field=f"{where}.discount",
            )
        parsed.append(
            ValidLine(
                position=index,
                description=description or "",
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
                tax_rate=tax_rate,
            )
        )
    if compute_totals(parsed).total > MAX_AMOUNT:
        raise InvalidAmount(f"the total of the lines must be at most {MAX_AMOUNT}", field="lines")
    return parsed
