"""What every resolver module shares: the request's actor and bus, and business errors as data."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, TypeVar

from ariadne import ScalarType
from graphql import GraphQLResolveInfo

from application.shared.bus import MessageBus
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor

F = TypeVar("F", bound=Callable[..., Any])


def actor(info: GraphQLResolveInfo) -> Actor:
    return info.context["actor"]


def bus(info: GraphQLResolveInfo) -> MessageBus:
    return info.context["bus"]


def error_payload(error: DomainError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "field": error.field}


def business_result(**empty: Any) -> Callable[[F], F]:
    """Turn a refused business operation into ``{**empty, "error": {...}}`` for result types."""

    def refused(error: DomainError) -> dict[str, Any]:
        return {**empty, "error": error_payload(error)}

    def decorate(resolver: F) -> F:
        @wraps(resolver)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                result = resolver(*args, **kwargs)
            except DomainError as error:
                return refused(error)
            if inspect.isawaitable(result):
                return then(result, lambda value: value, on_error=refused)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate


async def then(
    awaitable: Awaitable[Any],
    transform: Callable[[Any], Any],
    *,
    on_error: Callable[[DomainError], Any] | None = None,
) -> Any:
    """``transform`` of what ``awaitable`` gives; domain errors map through ``on_error``."""
    try:
        value = await awaitable
    except DomainError as error:
        if on_error is None:
            raise
        return on_error(error)
    return transform(value)


datetime_scalar = ScalarType("DateTime")


@datetime_scalar.serializer
def serialize_datetime(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@datetime_scalar.value_parser
def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry a timezone (e.g. 2026-01-31T12:00:00Z)")
    return parsed


decimal_scalar = ScalarType("Decimal")
date_scalar = ScalarType("Date")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@decimal_scalar.serializer
def serialize_decimal(value: Decimal) -> str:
    return format(value, "f")


@decimal_scalar.value_parser
def parse_decimal(value: Any) -> Decimal:
    """A string like "1234.50" (JSON numbers are taken as written). Range and places are the domain's."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Decimal must be a string like "1234.50"')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'Decimal must be a number like "1234.50", not {str(value)[:40]!r}') from None
    if not number.is_finite():
        raise ValueError("Decimal must be a finite number")
    return number


@date_scalar.serializer
def serialize_date(value: date) -> str:
    return value.isoformat()


@date_scalar.value_parser
def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("Date must be YYYY-MM-DD")
    return date.fromisoformat(value)
