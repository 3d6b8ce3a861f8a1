"""Purchases' persistence: the suppliers and supplier invoices of the unit of work's tenant."""

from __future__ import annotations

from adapters.db.purchases.repositories import SqlAlchemyPurchasesReader, SqlAlchemyPurchasesRepository
from adapters.db.registry import DbModule, Repository

DB_MODULE = DbModule(
    name="purchases",
    repositories={
        "purchases": Repository(lambda s: SqlAlchemyPurchasesRepository(s.session, s.tenant)),
        "purchase_views": Repository(lambda s: SqlAlchemyPurchasesReader(s.session, s.tenant)),
    },
)
