"""The banking module: bank accounts, their imported statements and transactions, column profiles."""

from __future__ import annotations

from application.banking import commands as c
from application.banking import handlers as h
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    return Registrations(
        handlers={
            c.ImportBankStatement: h.ImportBankStatementHandler(clock),
            c.ListBankImportProfiles: h.ListBankImportProfilesHandler(),
            c.SaveBankImportProfile: h.SaveBankImportProfileHandler(clock),
            c.FindBankAccounts: h.FindBankAccountsHandler(),
            c.FindBankStatements: h.FindBankStatementsHandler(),
            c.FindBankTransactions: h.FindBankTransactionsHandler(),
            c.FindBankImportProfiles: h.FindBankImportProfilesHandler(),
        },
    )


MODULE = DomainModule(name="banking", needs=("clock",), register=register)
