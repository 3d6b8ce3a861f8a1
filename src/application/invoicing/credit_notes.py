"""Credit notes: issue one against an invoice (some lines, or the whole of it), read them back.

Issuing locks the invoice (as a payment does), so a credit note and a concurrent payment never
both take the same balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from application.invoicing.ports import CreditNotesUnitOfWork
from application.invoicing.views import CreditNoteView, credit_note_view
from application.shared.actors import tenant_actor
from application.shared.messages import Command, Query
from application.shared.ports import Clock, DuplicateEntry
from domain.invoicing.credit_notes import CreditNote, credit_note_number
from domain.invoicing.errors import DuplicateNumber
from domain.invoicing.lines import LineInput
from domain.invoicing.values import business_date, parse_document_number
from domain.shared.errors import NotFound
from domain.shared.model import parse_id

MAX_LISTED = 200


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
