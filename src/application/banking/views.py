"""Read models of banking (its lists page with ``application.shared.cursors.Cursor``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


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
