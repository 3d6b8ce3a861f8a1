"""Ports of banking: the accounts, statements, transactions and import profiles of one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from application.banking.views import (
    BankAccountView,
    BankImportProfileView,
    BankStatementView,
    BankTransactionView,
    TransactionFilter,
)
from application.shared.cursors import Cursor
from application.shared.ports import UnitOfWork
from domain.banking.profiles import ImportProfile
from domain.banking.statements import BankAccount, BankStatement, BankTransaction


class BankingRepository(Protocol):
    tenant_id: str
    """The tenant it is bound to (new rows belong to it)."""

    def lock_account_key(self, key: str) -> None:
        """Serialise, until the transaction ends, the imports into one account (by its key)."""
        ...

    def account_by_key(self, key: str, currency: str) -> BankAccount | None: ...

    def add_account(self, account: BankAccount) -> None: ...

    def statement_of_intake(self, intake_id: str) -> BankStatement | None: ...

    def known_keys(self, account_id: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` the account's transactions already have."""
        ...

    def add_statement(self, statement: BankStatement, transactions: Sequence[BankTransaction]) -> None: ...

    def profiles(self) -> list[tuple[str, ImportProfile]]:
        """The tenant's confirmed column profiles, with their ids, by name."""
        ...

    def save_profile(self, profile_id: str, profile: ImportProfile, now: object) -> str:
        """Insert, or replace the one with the same name; returns the stored id."""
        ...


class BankingReader(Protocol):
    def accounts(self) -> list[BankAccountView]: ...

    def statements(self, account_id: str | None, *, first: int, after: Cursor | None) -> list[BankStatementView]:
        """Newest period first."""
        ...

    def transactions(self, filter: TransactionFilter, *, first: int, after: Cursor | None) -> list[BankTransactionView]:
        """Newest booking date first, then by id."""
        ...

    def profile(self, profile_id: str) -> BankImportProfileView | None: ...

    def profile_views(self) -> list[BankImportProfileView]: ...


class BankingUnitOfWork(UnitOfWork, Protocol):
    banking: BankingRepository
    banking_views: BankingReader
