"""Column profiles: how a bank's CSV or XLSX export is read, confirmed once per tenant.

A profile names the columns (by their header text) that carry the date, the description, the
amount (one signed column, or a debit and a credit column) and, optionally, the reference, the
value date, the counterparty and the running balance; the date format and the decimal separator.
Banco General's export is a built-in profile. Reading a table with a profile keeps every good row
and lists each bad one with its number and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from domain.banking.statements import (
    MAX_REFERENCE,
    ParsedStatement,
    ParsedTransaction,
    RowProblem,
    clean_text,
    money,
    parse_currency,
)
from domain.shared.errors import InvalidInput, NotFound

DATE_FORMATS = {"DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y", "YYYY-MM-DD": "%Y-%m-%d", "DD-MM-YYYY": "%d-%m-%Y"}
MAX_NAME = 80
MAX_COLUMN = 80
_ASCII_NUMBER = re.compile(r"^[0-9.,\s]+$")


class BankImportProfileNotFound(NotFound):
    code = "BANK_IMPORT_PROFILE_NOT_FOUND"


def _norm(header: object) -> str:
    return " ".join(str(header or "").split()).casefold()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportProfile:
    name: str
    bank: str
    account_number: str
    currency: str
    date_column: str
    description_column: str
    amount_column: str | None = None
    debit_column: str | None = None
    credit_column: str | None = None
    reference_column: str | None = None
    value_date_column: str | None = None
    counterparty_column: str | None = None
    balance_column: str | None = None
    date_format: str = "DD/MM/YYYY"
    decimal_separator: str = "."

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(
            c for c in (
                self.date_column, self.description_column, self.amount_column, self.debit_column,
                self.credit_column, self.reference_column, self.value_date_column, self.counterparty_column,
                self.balance_column,
            ) if c
        )

    def matches(self, header: Sequence[object]) -> bool:
        """Every column the profile names is in ``header`` (case and spacing aside)."""
        present = {_norm(cell) for cell in header}
        return all(_norm(column) in present for column in self.columns)


def _required_text(value: object, field: str, limit: int) -> str:
    text = clean_text(value, limit + 1)
    if not text or len(text) > limit:
        raise InvalidInput(f"{field} must be 1-{limit} characters", field=field)
    return text


def _column(value: object, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _required_text(value, field, MAX_COLUMN)


def parse_profile(
    *, name: object, bank: object, account_number: object, currency: object, date_column: object,
    description_column: object, amount_column: object = None, debit_column: object = None,
    credit_column: object = None, reference_column: object = None, value_date_column: object = None,
    counterparty_column: object = None, balance_column: object = None, date_format: object = "DD/MM/YYYY",
    decimal_separator: object = ".",
) -> ImportProfile:
    """A profile from what the user confirmed; each refusal names its field."""
    fmt = str(date_format or "").strip().upper()
    if fmt not in DATE_FORMATS:
        raise InvalidInput(f"dateFormat must be one of {', '.join(DATE_FORMATS)}", field="dateFormat")
    if decimal_separator not in (".", ","):
        raise InvalidInput("decimalSeparator must be '.' or ','", field="decimalSeparator")
    amount, debit, credit = (
        _column(amount_column, "amountColumn"), _column(debit_column, "debitColumn"), _column(credit_column, "creditColumn")
    )
    if amount and (debit or credit):
        raise InvalidInput("give either amountColumn (signed) or debitColumn and creditColumn, not both", field="amountColumn")
    if not amount and not (debit and credit):
        raise InvalidInput("amountColumn, or both debitColumn and creditColumn, are required", field="amountColumn")
    number = _required_text(account_number, "accountNumber", 40)
    if not re.search(r"[0-9A-Za-z]", number):
        raise InvalidInput("accountNumber must hold digits or letters", field="accountNumber")
    profile = ImportProfile(
        name=_required_text(name, "name", MAX_NAME),
        bank=_required_text(bank, "bank", MAX_NAME),
        account_number=number,
        currency=parse_currency(currency),
        date_column=_required_text(date_column, "dateColumn", MAX_COLUMN),
        description_column=_required_text(description_column, "descriptionColumn", MAX_COLUMN),
        amount_column=amount,
        debit_column=debit,
        credit_column=credit,
        reference_column=_column(reference_column, "referenceColumn"),
        value_date_column=_column(value_date_column, "valueDateColumn"),
        counterparty_column=_column(counterparty_column, "counterpartyColumn"),
        balance_column=_column(balance_column, "balanceColumn"),
        date_format=fmt,
        decimal_separator=str(decimal_separator),
    )
    names = [_norm(c) for c in profile.columns]
    if len(set(names)) != len(names):
        raise InvalidInput("a column is named twice in the profile", field="columns")
    return profile


def parse_amount(value: object, decimal_separator: str) -> Decimal | None:
    """An amount as banks print it: ``1.234,56`` or ``1,234.56``, ``-12.00``, ``(12.00)``, ``B/. 5``,
    ``12.00-``; empty is ``None``. Digits other than ASCII 0-9 are refused (``ValueError``)."""
    if value is None:
        return None
    if isinstance(value, float) and not isinstance(value, bool):
        # A spreadsheet's number is a binary float: 0.1 + 0.2 is still 0.30, but 12.345 is not a cent amount.
        exact = Decimal(repr(value))
        cents = exact.quantize(Decimal("0.01"))
        if abs(exact - cents) > Decimal("0.000001"):
            raise ValueError(f"{value!r} has more than two decimal places")
        return money(cents)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return money(Decimal(value))
    text = str(value).strip()
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    for symbol in ("B/.", "USD", "PAB", "$"):
        text = text.replace(symbol, "")
    text = text.strip()
    if text.endswith("-"):
        negative, text = not negative, text[:-1].strip()
    if text.startswith("-"):
        negative, text = not negative, text[1:].strip()
    elif text.startswith("+"):
        text = text[1:].strip()
    if not text or not _ASCII_NUMBER.match(text):
        raise ValueError(f"{str(value)[:40]!r} is not an amount")
    thousands = "," if decimal_separator == "." else "."
    text = text.replace(" ", "").replace(thousands, "")
    if decimal_separator == "," :
        text = text.replace(",", ".")
    if text.count(".") > 1:
        raise ValueError(f"{str(value)[:40]!r} has more than one decimal separator")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{str(value)[:40]!r} is not an amount") from None
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"{str(value)[:40]!r} has more than two decimal places")
    return money(-number if negative else number)


def parse_day(value: object, date_format: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text.isascii():
        raise ValueError(f"{text[:40]!r} is not a date in {date_format}")
    try:
        return datetime.strptime(text, DATE_FORMATS[date_format]).date()
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date in {date_format}") from None


def read_table(
    header: Sequence[object], rows: Sequence[tuple[int, Sequence[object]]], profile: ImportProfile, *, format: str
) -> ParsedStatement:
    """The statement in ``rows`` (each with its row number in the file), read by ``profile``.

    With a balance column, the opening balance is the first row's balance less its amount and the
    closing balance the last row's: the import then checks that they agree with the amounts."""
    where = {_norm(cell): index for index, cell in enumerate(header)}

    def cell(row: Sequence[object], column: str | None) -> object:
        if column is None:
            return None
        index = where[_norm(column)]
        return row[index] if index < len(row) else None

    sep = profile.decimal_separator
    transactions: list[ParsedTransaction] = []
    balances: list[tuple[Decimal, Decimal]] = []
    problems: list[RowProblem] = []
    for number, row in rows:
        try:
            booked = parse_day(cell(row, profile.date_column), profile.date_format)
            if profile.amount_column:
                amount = parse_amount(cell(row, profile.amount_column), sep)
                if amount is None:
                    raise ValueError("the amount is empty")
            else:
                debit = parse_amount(cell(row, profile.debit_column), sep)
                credit = parse_amount(cell(row, profile.credit_column), sep)
                if debit is None and credit is None:
                    raise ValueError("both debit and credit are empty")
                if debit and credit:
                    raise ValueError("the row has both a debit and a credit")
                amount = -abs(debit) if debit else abs(credit or Decimal("0.00"))
            value_raw = cell(row, profile.value_date_column)
            value_on = parse_day(value_raw, profile.date_format) if value_raw not in (None, "") else None
            balance = parse_amount(cell(row, profile.balance_column), sep) if profile.balance_column else None
        except (ValueError, InvalidInput) as error:
            message = error.message if isinstance(error, InvalidInput) else str(error)
            problems.append(RowProblem(number, message))
            continue
        transactions.append(
            ParsedTransaction(
                booked_on=booked,
                value_on=value_on,
                amount=amount,
                description=clean_text(cell(row, profile.description_column)),
                reference=clean_text(cell(row, profile.reference_column), MAX_REFERENCE),
                counterparty=clean_text(cell(row, profile.counterparty_column)),
            )
        )
        if balance is not None:
            balances.append((balance, amount))
    opening = closing = None
    if balances and len(balances) == len(transactions):
        if transactions[0].booked_on > transactions[-1].booked_on:  # newest first, as some exports list them
            balances.reverse()
        opening = balances[0][0] - balances[0][1]
        closing = balances[-1][0]
    return ParsedStatement(
        format=format,
        bank=profile.bank,
        account_number=profile.account_number,
        currency=profile.currency,
        transactions=tuple(transactions),
        opening_balance=opening,
        closing_balance=closing,
        problems=tuple(problems),
    )


BANCO_GENERAL = ImportProfile(
    name="Banco General (export)",
    bank="Banco General",
    account_number="",
    currency="USD",
    date_column="Fecha",
    description_column="Descripción",
    debit_column="Débito",
    credit_column="Crédito",
    reference_column="Referencia",
    counterparty_column=None,
    balance_column="Saldo",
    date_format="DD/MM/YYYY",
    decimal_separator=".",
)
"""Banco General's XLSX export: ``Fecha | Referencia | Transacción | Descripción | Débito | Crédito | Saldo``.
The account number comes from the title rows above the header."""
