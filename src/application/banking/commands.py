"""Commands and queries of banking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from application.shared.messages import Command, Query
from domain.banking.statements import ParsedStatement


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportBankStatement(Command):
    """Record a parsed statement (sent by document intake): new transactions only, once per intake."""

    intake_id: str
    file_id: str
    statement: ParsedStatement


@dataclass(frozen=True, slots=True, kw_only=True)
class ListBankImportProfiles(Command):
    """The tenant's confirmed profiles, for a parser (system work: sent by the intake's job)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SaveBankImportProfile(Command):
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


@dataclass(frozen=True, slots=True, kw_only=True)
class FindBankAccounts(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FindBankStatements(Query):
    account_id: str | None = None
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindBankTransactions(Query):
    account_id: str
    booked_from: date | None = None
    booked_to: date | None = None
    search: str | None = None
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindBankImportProfiles(Query):
    pass
