"""Values the invoicing records share: exact amounts, currencies, RUC and DV, document numbers,
free text, and the business day (Panama keeps UTC-5 all year).

Amounts are ``Decimal``: money has 2 decimals, quantities and unit prices up to 4. Every rounding
is explicit, to the cent, half-up (``ROUND_HALF_UP``: amounts here are never negative, so "half
away from zero" is "half up").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domain.invoicing.errors import InvalidAmount, InvalidDv, InvalidRuc
from domain.shared.errors import InvalidInput

CENT = Decimal("0.01")
MONEY_PLACES = 2
QUANTITY_PLACES = 4
MAX_AMOUNT = Decimal("9999999999999.99")  # 13 integer digits: what a line, a total or a payment may reach
MAX_QUANTITY = Decimal("9999999999.9999")  # quantities and unit prices

PANAMA = timezone(timedelta(hours=-5), "America/Panama")

_RUC = re.compile(r"^[0-9A-Z]+(?:-[0-9A-Z]+)*$")
_DV = re.compile(r"^[0-9]{1,2}$")
_NUMBER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9./_-]{0,38}[A-Za-z0-9])?$")
MAX_RUC_LENGTH = 30


def business_date(moment: datetime) -> date:
    """The calendar day in Panama at ``moment``: what "today" means for due dates and validity."""
    return moment.astimezone(PANAMA).date()


def round_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class Currency(StrEnum):
    USD = "USD"
    PAB = "PAB"

    @classmethod
    def parse(cls, value: object, *, field: str = "currency") -> Currency:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"{field} must be USD or PAB, not {str(value)[:16]!r}", field=field
            ) from None


def _decimal(value: object, *, field: str) -> Decimal:
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int) and not isinstance(value, bool):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidAmount(f"{field} is not a number: {value[:40]!r}", field=field) from None
    else:
        raise InvalidAmount(f"{field} must be a decimal number", field=field)
    if not number.is_finite():
        raise InvalidAmount(f"{field} must be a finite number", field=field)
    return number


def _exact(value: object, *, field: str, places: int, maximum: Decimal, positive: bool) -> Decimal:
    number = _decimal(value, field=field)
    if positive and number <= 0:
        raise InvalidAmount(f"{field} must be greater than 0, not {number}", field=field)
    if number < 0:
        raise InvalidAmount(f"{field} must not be negative, not {number}", field=field)
    if number > maximum:
        raise InvalidAmount(f"{field} must be at most {maximum}, not {number}", field=field)
    scale = Decimal(1).scaleb(-places)
    if number != number.quantize(scale, rounding=ROUND_HALF_UP):
        raise InvalidAmount(f"{field} has more than {places} decimals: {number}", field=field)
    return abs(number.quantize(scale))  # abs: "-0" is kept as 0


def parse_quantity(value: object, *, field: str) -> Decimal:
    """Greater than 0, at most 4 decimals."""
    return _exact(value, field=field, places=QUANTITY_PLACES, maximum=MAX_QUANTITY, positive=True)


def parse_unit_price(value: object, *, field: str) -> Decimal:
    """0 or more, at most 4 decimals."""
    return _exact(value, field=field, places=QUANTITY_PLACES, maximum=MAX_QUANTITY, positive=False)


def parse_money(value: object, *, field: str, positive: bool = False) -> Decimal:
    """0 or more (greater than 0 if ``positive``), to the cent."""
    return _exact(value, field=field, places=MONEY_PLACES, maximum=MAX_AMOUNT, positive=positive)


def parse_ruc(value: object, *, field: str = "ruc") -> str:
    """A RUC (or cédula, passport, NT number) as the DGI writes it: letters, digits, inner hyphens."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if not text or len(text) > MAX_RUC_LENGTH or not _RUC.match(text):
        raise InvalidRuc(
            f"{field} must be 1-{MAX_RUC_LENGTH} letters, digits and inner hyphens "
            f"(like 155596713-2-2015 or 8-123-456), not {str(value)[:40]!r}",
            field=field,
        )
    return text


def parse_dv(value: object, *, field: str = "dv") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _DV.match(text):
        raise InvalidDv(f"{field} (the RUC check digit) must be 1 or 2 digits, not {str(value)[:16]!r}", field=field)
    return text


def parse_document_number(value: object, *, field: str = "number") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _NUMBER.match(text):
        raise InvalidInput(
            f"{field} must be 1-40 letters, digits or . / _ - starting and ending with a letter or digit, "
            f"not {str(value)[:48]!r}",
            field=field,
        )
    return text


def parse_text(
    value: object, *, field: str, max_length: int, required: bool = False, multiline: bool = False
) -> str | None:
    """Trimmed text without control characters (newlines kept if ``multiline``); ``None`` if blank."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        kept = "\n" if multiline else ""
        text = "".join(
            ch if ch in kept or unicodedata.category(ch) not in ("Cc", "Cs") else " "
            for ch in unicodedata.normalize("NFC", value)
        ).strip()
    else:
        raise InvalidInput(f"{field} must be text", field=field)
    if not text:
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return text
