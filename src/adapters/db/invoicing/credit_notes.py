"""Credit notes on SQLAlchemy: the tenant-bound repository and reader.

The reader maps the loaded aggregates to views with the application's own ``credit_note_view``
(lines come in one query per list, ``selectin``), so the fake and this cannot disagree on them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from adapters.db.invoicing.repositories import take_next_value
from adapters.db.invoicing.tables import credit_notes
from adapters.db.repository import TenantRepository
from application.invoicing.views import CreditNoteView, credit_note_view
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.fiscal_documents import LegalStatus
from domain.invoicing.statements import StatementCredit
from domain.invoicing.values import Currency

CREDIT_NOTE_SERIES = "CREDIT_NOTE"


class SqlAlchemyCreditNoteRepository(TenantRepository[CreditNote]):
    kind = "credit note"

    def next_sequence(self) -> int:
        return take_next_value(self._session, self._tenant_id, CREDIT_NOTE_SERIES)

    def number_taken(self, number: str) -> bool:
        found = self._session.execute(
            select(credit_notes.c.id).where(
                credit_notes.c.tenant_id == self._tenant_id, credit_notes.c.number == number
            )
        ).first()
        return found is not None

    def get(self, credit_note_id: str) -> CreditNote | None:
        return self._one(self._select().where(credit_notes.c.id == credit_note_id))

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> CreditNote | None:
        found = self._session.execute(
            select(credit_notes.c.id)
            .where(credit_notes.c.tenant_id == self._tenant_id, credit_notes.c.pac_document_id == document_id)
            .order_by(credit_notes.c.created_at)
            .limit(1)
        ).scalar_one_or_none()
        if found is None:
            return None
        where = (credit_notes.c.id == found, credit_notes.c.tenant_id == self._tenant_id)
        statement = select(CreditNote).where(*where)
        return self._one(self._locked(statement, credit_notes.c.number, *where) if for_update else statement)

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(credit_notes.c.id, credit_notes.c.pac_document_id)
            .where(
                credit_notes.c.tenant_id == self._tenant_id,
                credit_notes.c.pac_document_id.is_not(None),
                credit_notes.c.legal_status.in_([LegalStatus.NONE, LegalStatus.PAC_AUTHORIZED]),
                func.coalesce(credit_notes.c.authorized_at, credit_notes.c.created_at) <= cutoff,
            )
            .order_by(credit_notes.c.created_at, credit_notes.c.id)
            .limit(limit)
        ).all()
        return [(row.id, row.pac_document_id) for row in rows]

    def _select(self) -> Select[Any]:
        return select(CreditNote).where(credit_notes.c.tenant_id == self._tenant_id)


class SqlAlchemyCreditNoteReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def get(self, credit_note_id: str) -> CreditNoteView | None:
        note = self._session.scalars(
            select(CreditNote).where(credit_notes.c.tenant_id == self._tenant_id, credit_notes.c.id == credit_note_id)
        ).one_or_none()
        return None if note is None else credit_note_view(note)

    def find(self, invoice_id: str | None, *, first: int) -> list[CreditNoteView]:
        statement = select(CreditNote).where(credit_notes.c.tenant_id == self._tenant_id)
        if invoice_id is not None:
            statement = statement.where(credit_notes.c.invoice_id == invoice_id)
        statement = statement.order_by(credit_notes.c.issue_date.desc(), credit_notes.c.number.desc()).limit(first)
        return [credit_note_view(note) for note in self._session.scalars(statement)]

    def statement_credits(self, client_id: str, currency: Currency, *, until: date) -> list[StatementCredit]:
        rows = self._session.execute(
            select(
                credit_notes.c.id, credit_notes.c.invoice_id, credit_notes.c.number, credit_notes.c.issue_date,
                credit_notes.c.total, credit_notes.c.reason,
            )
            .where(
                credit_notes.c.tenant_id == self._tenant_id,
                credit_notes.c.client_id == client_id,
                credit_notes.c.currency == currency,
                credit_notes.c.issue_date <= until,
            )
            .order_by(credit_notes.c.issue_date, credit_notes.c.number)
        )
        return [
            StatementCredit(
                credit_note_id=row.id, invoice_id=row.invoice_id, number=row.number, issue_date=row.issue_date,
                total=row.total, reason=row.reason,
            )
            for row in rows
        ]
