"""In-memory banking with the semantics of ``adapters.db.banking``: one account per (tenant, key,
currency), one statement per (tenant, intake), one transaction per (account, dedupe key), one
profile per (tenant, name); written on commit, bound to the unit of work's tenant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from application.banking.views import (
    BankAccountView,
    BankImportProfileView,
    BankStatementView,
    BankTransactionView,
    TransactionFilter,
)
from application.shared.cursors import Cursor
from domain.banking.profiles import ImportProfile
from domain.banking.statements import BankAccount, BankStatement, BankTransaction, mask_number
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, contains, unique

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork

_TABLES = ("bank_accounts", "bank_statements", "bank_transactions", "bank_profiles")


@dataclass
class BankingState:
    bank_accounts: dict[str, BankAccount] = field(default_factory=dict)
    bank_statements: dict[str, BankStatement] = field(default_factory=dict)
    bank_transactions: dict[str, BankTransaction] = field(default_factory=dict)
    bank_profiles: dict[str, tuple[str, ImportProfile, datetime]] = field(default_factory=dict)
    """id -> (tenant, profile, updated_at)."""

    def checkout(self) -> BankingState:
        return BankingState()

    def check(self, work: BankingState, store: States, workspace: States) -> None:
        accounts = {**self.bank_accounts, **work.bank_accounts}
        unique("bank_accounts.tenant_id, account_key, currency", ((a.tenant_id, a.key, a.currency) for a in accounts.values()))
        statements = {**self.bank_statements, **work.bank_statements}
        unique("bank_statements.tenant_id, intake_id", ((s.tenant_id, s.intake_id) for s in statements.values()))
        lines = {**self.bank_transactions, **work.bank_transactions}
        unique("bank_transactions.account_id, dedupe_key", ((t.account_id, t.dedupe_key) for t in lines.values()))
        profiles = {**self.bank_profiles, **work.bank_profiles}
        unique("bank_import_profiles.tenant_id, name", ((tenant, p.name) for tenant, p, _ in profiles.values()))

    def apply(self, work: BankingState) -> None:
        for table in _TABLES:
            getattr(self, table).update(getattr(work, table))
            getattr(work, table).clear()

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self.tenant_id = tenant_id

    def _rows(self, table: str) -> dict[str, Any]:
        merged = {**getattr(self._uow.store, table), **getattr(self._uow.workspace(), table)}
        if table == "bank_profiles":
            return {k: v for k, v in merged.items() if v[0] == self.tenant_id}
        return {k: v for k, v in merged.items() if v.tenant_id == self.tenant_id}

    def _work(self, table: str) -> dict[str, Any]:
        return getattr(self._uow.workspace(), table)


class FakeBankingRepository(_Bound):
    def lock_account_key(self, key: str) -> None:
        """One process, one transaction at a time: nothing to wait for."""

    def account_by_key(self, key: str, currency: str) -> BankAccount | None:
        return next((a for a in self._rows("bank_accounts").values() if (a.key, a.currency) == (key, currency)), None)

    def add_account(self, account: BankAccount) -> None:
        self._work("bank_accounts")[account.id] = account

    def statement_of_intake(self, intake_id: str) -> BankStatement | None:
        return next((s for s in self._rows("bank_statements").values() if s.intake_id == intake_id), None)

    def known_keys(self, account_id: str, keys: Sequence[str]) -> set[str]:
        wanted = set(keys)
        return {t.dedupe_key for t in self._rows("bank_transactions").values()
                if t.account_id == account_id and t.dedupe_key in wanted}

    def add_statement(self, statement: BankStatement, transactions: Sequence[BankTransaction]) -> None:
        self._work("bank_statements")[statement.id] = statement
        for line in transactions:
            self._work("bank_transactions")[line.id] = line

    def profiles(self) -> list[tuple[str, ImportProfile]]:
        return sorted(((k, v[1]) for k, v in self._rows("bank_profiles").items()), key=lambda item: item[1].name)

    def save_profile(self, profile_id: str, profile: ImportProfile, now: datetime) -> str:
        existing = next((k for k, v in self._rows("bank_profiles").items() if v[1].name == profile.name), None)
        key = existing or profile_id
        self._work("bank_profiles")[key] = (self.tenant_id, profile, now)
        return key


def _view(cls: type, record: object) -> Any:
    return cls(**{f.name: getattr(record, f.name) for f in fields(cls)})


class FakeBankingReader(_Bound):
    def accounts(self) -> list[BankAccountView]:
        rows = sorted(self._rows("bank_accounts").values(), key=lambda a: (a.bank, a.number_masked, a.id))
        return [_view(BankAccountView, a) for a in rows]

    def statements(self, account_id: str | None, *, first: int, after: Cursor | None) -> list[BankStatementView]:
        rows = sorted(
            (s for s in self._rows("bank_statements").values()
             if (account_id is None or s.account_id == account_id)
             and (after is None or (s.created_at, s.id) < (datetime.fromisoformat(after.key), after.id))),
            key=lambda s: (s.created_at, s.id), reverse=True,
        )
        return [_view(BankStatementView, s) for s in rows[:first]]

    def transactions(self, filter: TransactionFilter, *, first: int, after: Cursor | None) -> list[BankTransactionView]:
        def keep(t: BankTransaction) -> bool:
            return (
                t.account_id == filter.account_id
                and (filter.booked_from is None or t.booked_on >= filter.booked_from)
                and (filter.booked_to is None or t.booked_on <= filter.booked_to)
                and (filter.search is None or any(
                    value is not None and contains(value, filter.search)
                    for value in (t.description, t.reference, t.counterparty)))
                and (after is None or (t.booked_on, t.id) < (date.fromisoformat(after.key), after.id))
            )

        rows = sorted((t for t in self._rows("bank_transactions").values() if keep(t)),
                      key=lambda t: (t.booked_on, t.id), reverse=True)
        return [_view(BankTransactionView, t) for t in rows[:first]]

    def _profile_view(self, key: str, row: tuple[str, ImportProfile, datetime]) -> BankImportProfileView:
        _, profile, updated = row
        return BankImportProfileView(
            id=key, name=profile.name, bank=profile.bank, account_masked=mask_number(profile.account_number),
            currency=profile.currency, columns=profile.columns, date_format=profile.date_format,
            decimal_separator=profile.decimal_separator, signed_amount=profile.amount_column is not None,
            updated_at=updated,
        )

    def profile(self, profile_id: str) -> BankImportProfileView | None:
        row = self._rows("bank_profiles").get(profile_id)
        return None if row is None else self._profile_view(profile_id, row)

    def profile_views(self) -> list[BankImportProfileView]:
        rows = sorted(self._rows("bank_profiles").items(), key=lambda item: item[1][1].name)
        return [self._profile_view(key, row) for key, row in rows]


FAKE_DOMAIN = FakeDomain(
    name="banking",
    state=BankingState,
    repositories={
        "banking": FakeRepository(lambda uow: FakeBankingRepository(uow, uow.tenant)),
        "banking_views": FakeRepository(lambda uow: FakeBankingReader(uow, uow.tenant)),
    },
)
