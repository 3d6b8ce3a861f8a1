"""Credit notes: issue one against an invoice (some lines, or the whole of it), read them back.

Issuing locks the invoice (as a payment does), so a credit note and a concurrent payment never
both take the same balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from application.invoicing.ports import InvoiceRepository
from application.invoicing.views import LineView
from application.shared.actors import tenant_actor
from application.shared.messages import Command, Query
from application.shared.ports import Clock, DuplicateEntry, UnitOfWork
from domain.invoicing.credit_notes import CreditNote, credit_note_number
from domain.invoicing.errors import DuplicateNumber
from domain.invoicing.invoices import LegalStatus
from domain.invoicing.lines import LineInput, TaxLine
from domain.invoicing.statements import StatementCredit
from domain.invoicing.values import Currency, business_date, parse_document_number
from domain.shared.errors import NotFound
from domain.shared.model import parse_id

MAX_LISTED = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteView:
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    client_id: str | None
    client_name: str
    client_ruc: str | None
    client_dv: str | None
    issue_date: date
    currency: Currency
    reason: str
    lines: tuple[LineView, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    legal_status: LegalStatus
    cufe: str | None
    pac_document_id: str | None
    qr_url: str | None
    authorization_protocol: str | None
    authorized_at: datetime | None
    legal_message: str | None
    created_by: str | None
    created_at: datetime


def credit_note_view(note: CreditNote) -> CreditNoteView:
    return CreditNoteView(
        id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        client_id=note.client_id,
        client_name=note.client_name,
        client_ruc=note.client_ruc,
        client_dv=note.client_dv,
        issue_date=note.issue_date,
        currency=Currency(note.currency),
        reason=note.reason,
        lines=tuple(
            LineView.of(
                position=line.position, description=line.description, quantity=line.quantity,
                unit_price=line.unit_price, discount=line.discount, tax_rate=line.tax_rate,
            )
            for line in sorted(note.lines, key=lambda line: line.position)
        ),
        taxes=note.taxes,
        subtotal=note.subtotal,
        discount_total=note.discount_total,
        tax_total=note.tax_total,
        total=note.total,
        legal_status=LegalStatus(note.legal_status),
        cufe=note.cufe,
        pac_document_id=note.pac_document_id,
        qr_url=note.qr_url,
        authorization_protocol=note.authorization_protocol,
        authorized_at=note.authorized_at,
        legal_message=note.legal_message,
        created_by=note.created_by,
        created_at=note.created_at,
    )


# --- ports ---------------------------------------------------------------------------------------


class CreditNoteRepository(Protocol):
    def next_sequence(self) -> int:
        """Take the next value of the tenant's credit note counter (as ``InvoiceRepository``'s)."""
        ...

    def number_taken(self, number: str) -> bool: ...

    def add(self, note: CreditNote) -> None: ...

    def get(self, credit_note_id: str) -> CreditNote | None: ...

    def by_pac_document_id(self, document_id: str) -> CreditNote | None:
        """The tenant's credit note the PAC knows by ``document_id``."""
        ...


class CreditNoteReader(Protocol):
    def get(self, credit_note_id: str) -> CreditNoteView | None: ...

    def find(self, invoice_id: str | None, *, first: int) -> list[CreditNoteView]:
        """Newest first (issue date, then number); only ``invoice_id``'s when given."""
        ...

    def statement_credits(self, client_id: str, currency: Currency, *, until: date) -> list[StatementCredit]:
        """The client's credit notes in ``currency`` issued up to ``until``."""
        ...


class CreditNotesUnitOfWork(UnitOfWork, Protocol):
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    credit_note_views: CreditNoteReader


# --- messages --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCreditNote(Command):
    """A credit note of invoice ``invoice_id``: of ``lines``, or of the whole invoice (``full``).
    ``issue_date`` defaults to today (Panama); ``number`` to the counter's next NC-000001."""

    invoice_id: str
    reason: str
    lines: tuple[LineInput, ...] = ()
    full: bool = False
    issue_date: date | None = None
    number: str | None = None
    pac_document_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCreditNote(Query):
    credit_note_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindCreditNotes(Query):
    invoice_id: str | None = None
    first: int | None = None


class CreateCreditNoteHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CreateCreditNote, uow: CreditNotesUnitOfWork) -> CreditNoteView:
        actor = tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        now = self._clock.now()
        number = None if cmd.number is None else parse_document_number(cmd.number)
        with uow:
            invoice = uow.invoices.get_for_update(invoice_id)
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="invoiceId")
            if number is None:
                number = self._next_free_number(uow)
            elif uow.credit_notes.number_taken(number):
                raise DuplicateNumber(f"credit note number {number} is already used", field="number")
            note = CreditNote.issue(
                invoice=invoice,
                number=number,
                reason=cmd.reason,
                lines=cmd.lines,
                full=cmd.full,
                issue_date=cmd.issue_date or business_date(now),
                pac_document_id=cmd.pac_document_id,
                created_by=actor.user_id,
                now=now,
            )
            uow.credit_notes.add(note)
            try:
                uow.commit()
            except DuplicateEntry:
                raise DuplicateNumber(f"credit note number {number} is already used", field="number") from None
            return credit_note_view(note)

    @staticmethod
    def _next_free_number(uow: CreditNotesUnitOfWork) -> str:
        while True:
            number = credit_note_number(uow.credit_notes.next_sequence())
            if not uow.credit_notes.number_taken(number):
                return number


class GetCreditNoteHandler:
    def __call__(self, query: GetCreditNote, uow: CreditNotesUnitOfWork) -> CreditNoteView:
        credit_note_id = parse_id(query.credit_note_id, field="id")
        with uow:
            view = uow.credit_note_views.get(credit_note_id)
        if view is None:
            raise NotFound(f"credit note {credit_note_id} not found", field="id")
        return view


class FindCreditNotesHandler:
    def __call__(self, query: FindCreditNotes, uow: CreditNotesUnitOfWork) -> list[CreditNoteView]:
        invoice_id = None if query.invoice_id is None else parse_id(query.invoice_id, field="invoiceId")
        first = MAX_LISTED if query.first is None else max(1, min(query.first, MAX_LISTED))
        with uow:
            return uow.credit_note_views.find(invoice_id, first=first)
