"""Invoicing on SQLAlchemy: the tenant-bound repositories of clients, invoices and quotes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.invoicing.tables import clients, document_counters, invoices, quotes
from adapters.db.repository import TenantRepository
from domain.invoicing.clients import Client
from domain.invoicing.invoices import Invoice, LegalStatus
from domain.invoicing.quotes import Quote

INVOICE_SERIES = "INVOICE"
QUOTE_SERIES = "QUOTE"


def take_next_value(session: Session, tenant_id: str, series: str) -> int:
    """Increment the tenant's counter of ``series`` (from 1) and return the new value.

    The upsert holds the counter row (PostgreSQL) or the database's write lock (SQLite) until
    the transaction ends, so concurrent takers get consecutive values, and a rolled-back
    transaction gives its value back.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(document_counters).values(tenant_id=tenant_id, series=series, last_value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "series"],
        set_={"last_value": document_counters.c.last_value + 1},
    ).returning(document_counters.c.last_value)
    return int(session.execute(statement).scalar_one())


class SqlAlchemyClientRepository(TenantRepository[Client]):
    kind = "client"

    def get(self, client_id: str) -> Client | None:
        return self._one(select(Client).where(clients.c.id == client_id, clients.c.tenant_id == self._tenant_id))


class SqlAlchemyInvoiceRepository(TenantRepository[Invoice]):
    kind = "invoice"

    def next_sequence(self) -> int:
        return take_next_value(self._session, self._tenant_id, INVOICE_SERIES)

    def number_taken(self, number: str) -> bool:
        found = self._session.execute(
            select(invoices.c.id).where(invoices.c.tenant_id == self._tenant_id, invoices.c.number == number)
        ).first()
        return found is not None

    def get(self, invoice_id: str) -> Invoice | None:
        return self._one(self._select(invoice_id))

    def get_for_update(self, invoice_id: str) -> Invoice | None:
        where = (invoices.c.id == invoice_id, invoices.c.tenant_id == self._tenant_id)
        return self._one(self._locked(select(Invoice).where(*where), invoices.c.number, *where))

    def _select(self, invoice_id: str) -> Select[Any]:
        return select(Invoice).where(invoices.c.id == invoice_id, invoices.c.tenant_id == self._tenant_id)

    # what the PAC's webhooks and poller read

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> Invoice | None:
        found = self._session.execute(
            select(invoices.c.id)
            .where(invoices.c.tenant_id == self._tenant_id, invoices.c.pac_document_id == document_id)
            .order_by(invoices.c.created_at)
            .limit(1)
        ).scalar_one_or_none()
        if found is None:
            return None
        return self.get_for_update(found) if for_update else self.get(found)

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(invoices.c.id, invoices.c.pac_document_id)
            .where(
                invoices.c.tenant_id == self._tenant_id,
                invoices.c.pac_document_id.is_not(None),
                invoices.c.voided_at.is_(None),
                invoices.c.legal_status.in_([LegalStatus.NONE, LegalStatus.PAC_AUTHORIZED]),
                func.coalesce(invoices.c.authorized_at, invoices.c.created_at) <= cutoff,
            )
            .order_by(invoices.c.created_at, invoices.c.id)
            .limit(limit)
        ).all()
        return [(row.id, row.pac_document_id) for row in rows]


class SqlAlchemyQuoteRepository(TenantRepository[Quote]):
    kind = "quote"

    def next_sequence(self) -> int:
        return take_next_value(self._session, self._tenant_id, QUOTE_SERIES)

    def number_taken(self, number: str) -> bool:
        found = self._session.execute(
            select(quotes.c.id).where(quotes.c.tenant_id == self._tenant_id, quotes.c.number == number)
        ).first()
        return found is not None

    def get(self, quote_id: str) -> Quote | None:
        return self._one(select(Quote).where(quotes.c.id == quote_id, quotes.c.tenant_id == self._tenant_id))
