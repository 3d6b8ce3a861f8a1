"""Banking's persistence: the accounts, statements, transactions and profiles of the unit of work's tenant."""

from __future__ import annotations

from adapters.db.banking.repositories import SqlAlchemyBankingReader, SqlAlchemyBankingRepository
from adapters.db.registry import DbModule, Repository

DB_MODULE = DbModule(
    name="banking",
    repositories={
        "banking": Repository(lambda s: SqlAlchemyBankingRepository(s.session, s.tenant)),
        "banking_views": Repository(lambda s: SqlAlchemyBankingReader(s.session, s.tenant)),
    },
)
