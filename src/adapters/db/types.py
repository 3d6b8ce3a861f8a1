"""Column types the domains' tables share: UTC datetimes, string enums, exact decimals, address lists, ids."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Numeric, String, Text, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


class _ScaledInteger(Numeric):  # type: ignore[type-arg]
    """NUMERIC(p, s) in DDL; values go to and from the driver untouched (whole numbers on SQLite)."""

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` with ``scale`` places, exact on both databases; more places are refused, never rounded.

    PostgreSQL keeps NUMERIC(p, s) natively. SQLite has no exact decimal type (SQLAlchemy's
    Numeric goes through ``float`` there), so on SQLite the column is still NUMERIC(p, s) but holds
    the value as a whole number of its smallest unit (cents for money): a 64-bit INTEGER, exact
    for every value NUMERIC(18, s) allows, and one that SQL still compares and sorts as a number.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale)
        self.precision = precision  # part of the statement cache key, with ``scale``
        self.scale = scale
        self.places = scale
        self.unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_ScaledInteger(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"a Decimal is expected, not {type(value).__name__}")
        number = Decimal(value)
        exact = number.quantize(self.unit)
        if exact != number:
            raise ValueError(f"{number} has more than {self.places} decimal places")
        return int(exact.scaleb(self.places)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if not isinstance(value, int):
                raise TypeError(f"{value!r} is not a scaled whole number")
            return Decimal(value).scaleb(-self.places)
        return Decimal(value).quantize(self.unit)


def Money() -> ExactDecimal:  # noqa: N802 - reads as a column type
    return ExactDecimal(18, 2)


def Quantity() -> ExactDecimal:  # noqa: N802
    return ExactDecimal(18, 4)


class EmailList(TypeDecorator[tuple[str, ...]]):
    """A tuple of email addresses, kept as one comma-separated text (addresses have no commas)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if any("," in address for address in value):
            raise ValueError("an email address with a comma cannot be stored")
        return ",".join(value)

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()


def id_column(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    """A UUID key (or a reference to one), as text."""
    return Column(name, String(36), *args, **kw)
