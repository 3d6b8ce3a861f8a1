"""Read models of banking, and the cursor its lists page with."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the sort key (ISO date or time) and the row's id."""

    key: str
    id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.key}|{self.id}".encode()).decode()

    @classmethod
    def decode(cls, value: str | None, *, field: str = "after") -> Cursor | None:
        if not value:
            return None
        try:
            key, _, row_id = base64.urlsafe_b64decode(value.encode("ascii")).decode().partition("|")
            if not key or len(key) > 40:
                raise ValueError("no key")
            return cls(key, parse_id(row_id, field=field))
        except (ValueError, UnicodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this list gave", field=field) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccountView:
    id: str
    bank: str
    number_masked: str
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BankStatementView:
    id: str
    account_id: str
    file_id: str
    intake_id: str
    format: str
    period_start: date | None
    period_end: date | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    transactions_added: int
    transactions_known: int
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransactionView:
    id: str
    account_id: str
    statement_id: str
    booked_on: date
    value_on: date | None
    amount: Decimal
    description: str | None
    reference: str | None
    counterparty: str | None
    bank_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BankImportProfileView:
    id: str
    name: str
    bank: str
    account_masked: str
    currency: str
    columns: tuple[str, ...]
    date_format: str
    decimal_separator: str
    signed_amount: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFilter:
    account_id: str
    booked_from: date | None = None
    booked_to: date | None = None
    search: str | None = None
