"""Banking on SQLAlchemy Core, bound to one tenant. Transactions go in with one executemany; the
keys already known are read in chunks (an import of 10,000 lines is a handful of statements)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from adapters.db.banking.tables import bank_accounts, bank_import_profiles, bank_statements, bank_transactions
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

CHUNK = 500
_TRANSACTION_FIELDS = tuple(f.name for f in fields(BankTransaction))


def _shallow(record: object) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}  # type: ignore[arg-type]
_PROFILE_COLUMNS = (
    "date_column", "description_column", "amount_column", "debit_column", "credit_column", "reference_column",
    "value_date_column", "counterparty_column", "balance_column",
)


def _account(row: Row[Any]) -> BankAccount:
    m = row._mapping
    return BankAccount(
        id=m["id"], tenant_id=m["tenant_id"], bank=m["bank"], number_masked=m["number_masked"], key=m["account_key"],
        currency=m["currency"], created_at=m["created_at"],
    )


def _statement(row: Row[Any]) -> BankStatement:
    return BankStatement(**{f.name: row._mapping[f.name] for f in fields(BankStatement)})


def _profile(row: Row[Any]) -> ImportProfile:
    m = row._mapping
    return ImportProfile(
        name=m["name"], bank=m["bank"], account_number=m["account_number"], currency=m["currency"],
        date_format=m["date_format"], decimal_separator=m["decimal_separator"],
        **{name: (m["columns"] or {}).get(name) for name in _PROFILE_COLUMNS},  # type: ignore[arg-type]
    )


class _Scoped:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self.tenant_id = tenant_id


class SqlAlchemyBankingRepository(_Scoped):
    def lock_account_key(self, key: str) -> None:
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(
                select(func.pg_advisory_xact_lock(func.hashtextextended(f"bank:{self.tenant_id}:{key}", 0)))
            )
        else:  # SQLite: a no-op write takes the database's write lock until the transaction ends
            self._session.execute(
                update(bank_accounts).where(bank_accounts.c.tenant_id == self.tenant_id, bank_accounts.c.account_key == key)
                .values(bank=bank_accounts.c.bank)
            )

    def account_by_key(self, key: str, currency: str) -> BankAccount | None:
        c = bank_accounts.c
        row = self._session.execute(
            select(bank_accounts).where(c.tenant_id == self.tenant_id, c.account_key == key, c.currency == currency)
        ).one_or_none()
        return None if row is None else _account(row)

    def add_account(self, account: BankAccount) -> None:
        self._session.execute(insert(bank_accounts).values(
            id=account.id, tenant_id=self.tenant_id, bank=account.bank, number_masked=account.number_masked,
            account_key=account.key, currency=account.currency, created_at=account.created_at,
        ))

    def statement_of_intake(self, intake_id: str) -> BankStatement | None:
        c = bank_statements.c
        row = self._session.execute(
            select(bank_statements).where(c.tenant_id == self.tenant_id, c.intake_id == intake_id)
        ).one_or_none()
        return None if row is None else _statement(row)

    def known_keys(self, account_id: str, keys: Sequence[str]) -> set[str]:
        c = bank_transactions.c
        found: set[str] = set()
        unique = sorted(set(keys))
        for start in range(0, len(unique), CHUNK):
            chunk = unique[start : start + CHUNK]
            found.update(self._session.execute(
                select(c.dedupe_key).where(c.tenant_id == self.tenant_id, c.account_id == account_id, c.dedupe_key.in_(chunk))
            ).scalars())
        return found

    def add_statement(self, statement: BankStatement, transactions: Sequence[BankTransaction]) -> None:
        self._session.execute(insert(bank_statements).values({**_shallow(statement), "tenant_id": self.tenant_id}))
        if transactions:
            tenant = self.tenant_id
            self._session.execute(
                insert(bank_transactions),
                [{name: getattr(t, name) for name in _TRANSACTION_FIELDS} | {"tenant_id": tenant} for t in transactions],
            )

    def profiles(self) -> list[tuple[str, ImportProfile]]:
        rows = self._session.execute(
            select(bank_import_profiles).where(bank_import_profiles.c.tenant_id == self.tenant_id)
            .order_by(bank_import_profiles.c.name)
        )
        return [(row.id, _profile(row)) for row in rows]

    def save_profile(self, profile_id: str, profile: ImportProfile, now: datetime) -> str:  # type: ignore[override]
        c = bank_import_profiles.c
        values = {
            "bank": profile.bank, "account_number": profile.account_number, "currency": profile.currency,
            "columns": {name: getattr(profile, name) for name in _PROFILE_COLUMNS},
            "date_format": profile.date_format, "decimal_separator": profile.decimal_separator, "updated_at": now,
        }
        existing = self._session.execute(
            select(c.id).where(c.tenant_id == self.tenant_id, c.name == profile.name)
        ).scalar_one_or_none()
        if existing is not None:
            self._session.execute(update(bank_import_profiles).where(c.id == existing).values(**values))
            return str(existing)
        self._session.execute(
            insert(bank_import_profiles).values(id=profile_id, tenant_id=self.tenant_id, name=profile.name, **values)
        )
        return profile_id


class SqlAlchemyBankingReader(_Scoped):
    def accounts(self) -> list[BankAccountView]:
        c = bank_accounts.c
        rows = self._session.execute(
            select(bank_accounts).where(c.tenant_id == self.tenant_id).order_by(c.bank, c.number_masked, c.id)
        )
        return [
            BankAccountView(id=r.id, bank=r.bank, number_masked=r.number_masked, currency=r.currency, created_at=r.created_at)
            for r in rows
        ]

    def statements(self, account_id: str | None, *, first: int, after: Cursor | None) -> list[BankStatementView]:
        c = bank_statements.c
        conditions: list[Any] = [c.tenant_id == self.tenant_id]
        if account_id:
            conditions.append(c.account_id == account_id)
        if after is not None:
            at = datetime.fromisoformat(after.key)
            conditions.append(or_(c.created_at < at, and_(c.created_at == at, c.id < after.id)))
        rows = self._session.execute(
            select(bank_statements).where(*conditions).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        )
        names = [f.name for f in fields(BankStatementView)]
        return [BankStatementView(**{n: r._mapping[n] for n in names}) for r in rows]

    def transactions(self, filter: TransactionFilter, *, first: int, after: Cursor | None) -> list[BankTransactionView]:
        c = bank_transactions.c
        conditions: list[Any] = [c.tenant_id == self.tenant_id, c.account_id == filter.account_id]
        if filter.booked_from:
            conditions.append(c.booked_on >= filter.booked_from)
        if filter.booked_to:
            conditions.append(c.booked_on <= filter.booked_to)
        if filter.search:
            pattern = "%" + filter.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(or_(*(
                column.is_not(None) & func.lower(column).like(pattern, escape="\\")
                for column in (c.description, c.reference, c.counterparty)
            )))
        if after is not None:
            day = date.fromisoformat(after.key)
            conditions.append(or_(c.booked_on < day, and_(c.booked_on == day, c.id < after.id)))
        rows = self._session.execute(
            select(bank_transactions).where(*conditions).order_by(c.booked_on.desc(), c.id.desc()).limit(first)
        )
        names = [f.name for f in fields(BankTransactionView)]
        return [BankTransactionView(**{n: r._mapping[n] for n in names}) for r in rows]

    def _profile_view(self, row: Row[Any]) -> BankImportProfileView:
        profile = _profile(row)
        return BankImportProfileView(
            id=row.id, name=profile.name, bank=profile.bank, account_masked=mask_number(profile.account_number),
            currency=profile.currency, columns=profile.columns, date_format=profile.date_format,
            decimal_separator=profile.decimal_separator, signed_amount=profile.amount_column is not None,
            updated_at=row.updated_at,
        )

    def profile(self, profile_id: str) -> BankImportProfileView | None:
        c = bank_import_profiles.c
        row = self._session.execute(
            select(bank_import_profiles).where(c.tenant_id == self.tenant_id, c.id == profile_id)
        ).one_or_none()
        return None if row is None else self._profile_view(row)

    def profile_views(self) -> list[BankImportProfileView]:
        c = bank_import_profiles.c
        rows = self._session.execute(select(bank_import_profiles).where(c.tenant_id == self.tenant_id).order_by(c.name))
        return [self._profile_view(row) for row in rows]
