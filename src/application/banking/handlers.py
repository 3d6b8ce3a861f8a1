"""Use cases of banking: import a parsed statement once, confirm column profiles, list what was imported."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from application.banking.commands import (
    FindBankAccounts,
    FindBankImportProfiles,
    FindBankStatements,
    FindBankTransactions,
    ImportBankStatement,
    ListBankImportProfiles,
    SaveBankImportProfile,
)
from application.banking.ports import BankingUnitOfWork
from application.banking.views import (
    BankAccountView,
    BankImportProfileView,
    BankStatementView,
    BankTransactionView,
    TransactionFilter,
)
from application.shared.actors import tenant_actor
from application.shared.cursors import Cursor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock
from domain.banking.profiles import ImportProfile, parse_profile
from domain.banking.statements import (
    BankAccount,
    BankAccountNotFound,
    BankStatement,
    BankTransaction,
    ImportResult,
    ParsedStatement,
    ParsedTransaction,
    account_key,
    balance_difference,
    dedupe_keys,
    mask_number,
)
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.shared.model import new_id, parse_id

_PARSED_FIELDS = tuple(f.name for f in fields(ParsedTransaction))


def _fields(transaction: ParsedTransaction) -> dict[str, object]:
    """Its fields, shallow (``asdict`` deep-copies every value: half an import's time at 10,000 lines)."""
    return {name: getattr(transaction, name) for name in _PARSED_FIELDS}


DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_SEARCH = 100


class ImportBankStatementHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ImportBankStatement, uow: BankingUnitOfWork) -> ImportResult:
        parsed = cmd.statement
        key = account_key(parsed.bank, parsed.account_number)
        now = self._clock.now()
        with uow:
            earlier = uow.banking.statement_of_intake(cmd.intake_id)
            if earlier is not None:  # this intake's run was recorded before (a job run again)
                return ImportResult(
                    statement_id=earlier.id, account_id=earlier.account_id, added=earlier.transactions_added,
                    known=earlier.transactions_known, difference=balance_difference(parsed),
                )
            account, _, fresh = self._fresh(uow, key, parsed, now)
            difference = balance_difference(parsed)
            if not fresh:  # read only: a statement seen before costs no write at all
                return ImportResult(
                    statement_id=None, account_id=account.id, added=0, known=len(parsed.transactions),
                    difference=difference,
                )
            uow.banking.lock_account_key(key)  # then look again: another import may have just added some
            account, new_account, fresh = self._fresh(uow, key, parsed, now)
            skipped = len(parsed.transactions) - len(fresh)
            if not fresh:
                return ImportResult(statement_id=None, account_id=account.id, added=0, known=skipped, difference=difference)
            if new_account:
                uow.banking.add_account(account)
            statement = BankStatement(
                id=new_id(), tenant_id=account.tenant_id, account_id=account.id, file_id=cmd.file_id,
                intake_id=cmd.intake_id, format=parsed.format, period_start=parsed.first_day,
                period_end=parsed.last_day, opening_balance=parsed.opening_balance,
                closing_balance=parsed.closing_balance, transactions_added=len(fresh), transactions_known=skipped,
                created_at=now,
            )
            rows = [
                BankTransaction(
                    id=new_id(), tenant_id=account.tenant_id, account_id=account.id, statement_id=statement.id,
                    dedupe_key=dedupe_key, created_at=now, **_fields(transaction),
                )
                for dedupe_key, transaction in fresh
            ]
            uow.banking.add_statement(statement, rows)
            uow.commit()
        return ImportResult(
            statement_id=statement.id, account_id=account.id, added=len(fresh), known=skipped, difference=difference
        )

    @staticmethod
    def _fresh(
        uow: BankingUnitOfWork, key: str, parsed: ParsedStatement, now: datetime
    ) -> tuple[BankAccount, bool, list[tuple[str, ParsedTransaction]]]:
        """The statement's account (a new one, and True, if none has its key) and its transactions
        not seen before, with their dedupe keys."""
        keys = dedupe_keys(key, parsed.transactions)
        account = uow.banking.account_by_key(key, parsed.currency)
        is_new = account is None
        if account is None:
            account = BankAccount(
                id=new_id(), tenant_id=uow.banking.tenant_id, bank=parsed.bank,
                number_masked=mask_number(parsed.account_number), key=key, currency=parsed.currency, created_at=now,
            )
            known: set[str] = set()
        else:
            known = uow.banking.known_keys(account.id, keys)
        fresh, taken = [], set()
        for dedupe_key, transaction in zip(keys, parsed.transactions, strict=True):
            if dedupe_key not in known and dedupe_key not in taken:
                taken.add(dedupe_key)
                fresh.append((dedupe_key, transaction))
        return account, is_new, fresh


class ListBankImportProfilesHandler:
    def __call__(self, cmd: ListBankImportProfiles, uow: BankingUnitOfWork) -> tuple[ImportProfile, ...]:
        with uow:
            return tuple(profile for _, profile in uow.banking.profiles())


class SaveBankImportProfileHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SaveBankImportProfile, uow: BankingUnitOfWork) -> BankImportProfileView:
        actor = tenant_actor(cmd.actor)
        if not actor.is_admin:
            raise PermissionDenied("only the tenant's owners and admins confirm import profiles")
        fields = {name: getattr(cmd, name) for name in cmd.__dataclass_fields__ if name != "actor"}
        profile = parse_profile(**fields)
        with uow:
            profile_id = uow.banking.save_profile(new_id(), profile, self._clock.now())
            uow.commit()
            view = uow.banking_views.profile(profile_id)
        assert view is not None
        return view


class FindBankAccountsHandler:
    def __call__(self, query: FindBankAccounts, uow: BankingUnitOfWork) -> list[BankAccountView]:
        tenant_actor(query.actor)
        with uow:
            return uow.banking_views.accounts()


class FindBankImportProfilesHandler:
    def __call__(self, query: FindBankImportProfiles, uow: BankingUnitOfWork) -> list[BankImportProfileView]:
        tenant_actor(query.actor)
        with uow:
            return uow.banking_views.profile_views()


class FindBankStatementsHandler:
    def __call__(self, query: FindBankStatements, uow: BankingUnitOfWork) -> Page[BankStatementView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        account_id = parse_id(query.account_id, field="accountId") if query.account_id else None
        after = Cursor.decode(query.after)
        with uow:
            rows = uow.banking_views.statements(account_id, first=first + 1, after=after)
        return Page.of(rows, first, lambda s: Cursor(s.created_at.isoformat(), s.id).encode())


class FindBankTransactionsHandler:
    def __call__(self, query: FindBankTransactions, uow: BankingUnitOfWork) -> Page[BankTransactionView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        account_id = parse_id(query.account_id, field="accountId")
        if query.booked_from and query.booked_to and query.booked_to < query.booked_from:
            raise InvalidInput("to must not be before from", field="to")
        search = " ".join((query.search or "").split()) or None
        if search is not None and len(search) > MAX_SEARCH:
            raise InvalidInput(f"search must be at most {MAX_SEARCH} characters", field="search")
        after = Cursor.decode(query.after)
        with uow:
            if not any(a.id == account_id for a in uow.banking_views.accounts()):
                raise BankAccountNotFound(f"bank account {account_id} not found", field="accountId")
            rows = uow.banking_views.transactions(
                TransactionFilter(account_id=account_id, booked_from=query.booked_from, booked_to=query.booked_to,
                                  search=search),
                first=first + 1, after=after,
            )
        return Page.of(rows, first, lambda t: Cursor(t.booked_on.isoformat(), t.id).encode())
