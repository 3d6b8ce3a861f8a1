"""Bank statements: what a parser reads out of a bank's file, and the rules that make it records.

A parsed statement is plain data (no ids). Importing it finds or opens the ``BankAccount``, keeps
only the transactions not seen before (their key: the bank's own id where it gives one, else a
hash of account, date, amount, reference and the occurrence number within that key), and checks
that the opening balance plus the transactions equals the closing balance.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from domain.shared.errors import InvalidInput, NotFound

MAX_TEXT = 500
MAX_REFERENCE = 140
MAX_AMOUNT = Decimal("999999999999999.99")
CENT = Decimal("0.01")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class BankAccountNotFound(NotFound):
    code = "BANK_ACCOUNT_NOT_FOUND"


def clean_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Text as a statement line may show it: control characters become spaces, runs of blanks one."""
    if value is None:
        return None
    text = str(value)
    if not text.isprintable():  # control or format characters (and line breaks): each becomes a space
        text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def account_key(bank: str, number: str) -> str:
    """What identifies an account across files: its bank and its number (digits and letters only)."""
    plain = re.sub(r"[^0-9A-Za-z]", "", number).upper()
    return hashlib.sha256(f"{bank.strip().lower()}|{plain}".encode()).hexdigest()


def mask_number(number: str) -> str:
    """The last four characters of an account number, the rest hidden: ``****6789``."""
    plain = re.sub(r"[^0-9A-Za-z]", "", number)
    return "****" + plain[-4:] if plain else "****"


def parse_currency(value: object, *, field: str = "currency") -> str:
    text = str(value or "").strip().upper()
    if not _CURRENCY.match(text):
        raise InvalidInput(f"{field} must be a three-letter ISO 4217 code, not {str(value)[:8]!r}", field=field)
    return text


def money(value: Decimal, *, field: str = "amount") -> Decimal:
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        raise InvalidInput(f"{field} {value} is not an amount a statement can carry", field=field)
    exact = value.quantize(CENT)
    if exact != value:
        raise InvalidInput(f"{field} {value} has more than two decimal places", field=field)
    return exact


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One row (or entry) of a file that could not be taken, and why; ``row`` counts from 1."""

    row: int
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTransaction:
    booked_on: date
    amount: Decimal
    """Signed: money in is positive, money out negative."""
    value_on: date | None = None
    description: str | None = None
    reference: str | None = None
    counterparty: str | None = None
    bank_id: str | None = None
    """The bank's own id of the line (OFX FITID, CAMT AcctSvcrRef), the dedupe key when given."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedStatement:
    format: str
    bank: str
    account_number: str
    currency: str
    transactions: tuple[ParsedTransaction, ...]
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    period_start: date | None = None
    period_end: date | None = None
    problems: tuple[RowProblem, ...] = ()
    """Rows that could not be read (each named): the rest is imported, the intake is reviewed."""

    @property
    def first_day(self) -> date | None:
        days = [t.booked_on for t in self.transactions]
        return self.period_start or (min(days) if days else None)

    @property
    def last_day(self) -> date | None:
        days = [t.booked_on for t in self.transactions]
        return self.period_end or (max(days) if days else None)


def balance_difference(statement: ParsedStatement) -> Decimal | None:
    """Closing minus (opening plus the transactions); ``None`` when the file gives no balances."""
    if statement.opening_balance is None or statement.closing_balance is None:
        return None
    moved = sum((t.amount for t in statement.transactions), Decimal("0.00"))
    return statement.closing_balance - (statement.opening_balance + moved)


def dedupe_keys(account: str, transactions: tuple[ParsedTransaction, ...]) -> list[str]:
    """One stable key per transaction of ``account`` (its id): the bank's id where given, else
    a hash of date, amount, reference and the occurrence of that same key within the file, so two
    equal lines on one day stay two, and the same file read again yields the same keys."""
    seen: Counter[str] = Counter()
    keys = []
    for t in transactions:
        if t.bank_id:
            keys.append("id:" + hashlib.sha256(f"{account}|{t.bank_id}".encode()).hexdigest())
            continue
        base = f"{account}|{t.booked_on.isoformat()}|{t.amount}|{t.reference or t.description or ''}"
        seen[base] += 1
        keys.append("h:" + hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest())
    return keys


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccount:
    id: str
    tenant_id: str
    bank: str
    number_masked: str
    key: str
    currency: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BankStatement:
    id: str
    tenant_id: str
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
class BankTransaction:
    id: str
    tenant_id: str
    account_id: str
    statement_id: str
    dedupe_key: str
    booked_on: date
    value_on: date | None
    amount: Decimal
    description: str | None
    reference: str | None
    counterparty: str | None
    bank_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What importing one statement did."""

    statement_id: str | None
    account_id: str
    added: int
    known: int
    difference: Decimal | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
