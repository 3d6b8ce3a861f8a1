"""Credit notes: what a tenant takes back from an invoice (returned goods, a price corrected, the
whole invoice cancelled), as a fiscal document of its own.

A credit note references its invoice and bills the invoice's party in its currency. Its lines
are given, or copied from the invoice (``full``); its total is computed by the same rule as an
invoice's (ITBMS per line, totals the sums of the lines) and may not exceed what the invoice
still owes, which it reduces (``Invoice.apply_credit``). It is numbered NC-000001, ... by the
tenant's own counter, and the PAC's notices move its legal status as they move an invoice's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.invoicing.errors import CreditExceedsBalance, InvalidDateRange, InvoiceIsVoid
from domain.invoicing.fiscal_documents import ElectronicFiscalDocument, LegalStatus
from domain.invoicing.invoices import Invoice
from domain.invoicing.lines import DocumentLine, LineInput, TaxLine, compute_totals, parse_lines
from domain.invoicing.values import Currency, parse_text
from domain.shared.errors import InvalidInput
from domain.shared.model import DomainEvent, new_id

CREDIT_NOTE_NUMBER_PREFIX = "NC-"
MAX_REASON_CHARS = 500


def credit_note_number(sequence: int) -> str:
    """The number the tenant's counter gives its ``sequence``-th credit note: NC-000001."""
    return f"{CREDIT_NOTE_NUMBER_PREFIX}{sequence:06d}"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteCreated(DomainEvent):
    credit_note_id: str
    invoice_id: str
    number: str
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteLegalStatusChanged(DomainEvent):
    credit_note_id: str
    previous: LegalStatus
    status: LegalStatus


class CreditNoteLine(DocumentLine):
    def __init__(self, *, credit_note_id: str, **values: object) -> None:
        super().__init__(**values)  # type: ignore[arg-type]
        self.credit_note_id = credit_note_id


def _lines_of(invoice: Invoice) -> list[LineInput]:
    return [
        LineInput(
            description=line.description, quantity=line.quantity, unit_price=line.unit_price,
            tax_rate=line.tax_rate, discount=line.discount,
        )
        for line in sorted(invoice.lines, key=lambda line: line.position)
    ]


class CreditNote(ElectronicFiscalDocument):
    lines: list[CreditNoteLine]

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        number: str,
        invoice_id: str,
        invoice_number: str,
        client_id: str | None,
        client_name: str,
        client_ruc: str | None,
        client_dv: str | None,
        ad_hoc_emails: tuple[str, ...],
        issue_date: date,
        currency: Currency,
        reason: str,
        subtotal: Decimal,
        discount_total: Decimal,
        tax_total: Decimal,
        total: Decimal,
        legal_status: LegalStatus,
        cufe: str | None,
        pac_document_id: str | None,
        qr_url: str | None,
        authorization_protocol: str | None,
        authorized_at: datetime | None,
        legal_message: str | None,
        created_by: str | None,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.number = number
        self.invoice_id = invoice_id
        self.invoice_number = invoice_number
        self.client_id = client_id
        self.client_name = client_name
        self.client_ruc = client_ruc
        self.client_dv = client_dv
        self.ad_hoc_emails = ad_hoc_emails
        self.issue_date = issue_date
        self.currency = currency
        self.reason = reason
        self.subtotal = subtotal
        self.discount_total = discount_total
        self.tax_total = tax_total
        self.total = total
        self.legal_status = legal_status
        self.cufe = cufe
        self.pac_document_id = pac_document_id
        self.qr_url = qr_url
        self.authorization_protocol = authorization_protocol
        self.authorized_at = authorized_at
        self.legal_message = legal_message
        self.created_by = created_by
        self.created_at = created_at
        self.lines = []

    @classmethod
    def issue(
        cls,
        *,
        invoice: Invoice,
        number: str,
        reason: object,
        lines: Sequence[LineInput] | None,
        full: bool,
        issue_date: date,
        pac_document_id: str | None = None,
        created_by: str | None,
        now: datetime,
    ) -> CreditNote:
        """The credit note of ``invoice`` (whole with ``full``, else of ``lines``), applied to it."""
        if invoice.is_void:
            raise InvoiceIsVoid(f"invoice {invoice.number} is void; it takes no credit notes", field="invoiceId")
        if full == bool(lines):
            raise InvalidInput("give either lines or full: true (the whole invoice)", field="lines")
        if issue_date < invoice.issue_date:
            raise InvalidDateRange(
                f"issueDate ({issue_date}) must not be before the invoice's issue date ({invoice.issue_date})",
                field="issueDate",
            )
        text = parse_text(reason, field="reason", max_length=MAX_REASON_CHARS, required=True) or ""
        valid = parse_lines(_lines_of(invoice) if full else list(lines or ()))
        totals = compute_totals(valid)
        if totals.total > invoice.balance:
            raise CreditExceedsBalance(
                f"the credit note's total ({totals.total}) is more than the balance of invoice "
                f"{invoice.number} ({invoice.balance})",
                field="lines",
            )
        note = cls(
            id=new_id(),
            tenant_id=invoice.tenant_id,
            number=number,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            client_id=invoice.client_id,
            client_name=invoice.client_name,
            client_ruc=invoice.client_ruc,
            client_dv=invoice.client_dv,
            ad_hoc_emails=tuple(invoice.ad_hoc_emails),
            issue_date=issue_date,
            currency=Currency(invoice.currency),
            reason=text,
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            legal_status=LegalStatus.NONE,
            cufe=None,
            pac_document_id=parse_text(pac_document_id, field="pacDocumentId", max_length=128),
            qr_url=None,
            authorization_protocol=None,
            authorized_at=None,
            legal_message=None,
            created_by=created_by,
            created_at=now,
        )
        note.lines = [
            CreditNoteLine(
                id=new_id(), tenant_id=invoice.tenant_id, credit_note_id=note.id, position=line.position,
                description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                discount=line.discount, tax_rate=line.tax_rate,
            )
            for line in valid
        ]
        invoice.apply_credit(note.total, credit_note_number=number)
        note.record(
            CreditNoteCreated(
                tenant_id=note.tenant_id, credit_note_id=note.id, invoice_id=invoice.id, number=number,
                total=note.total,
            )
        )
        return note

    @property
    def taxes(self) -> tuple[TaxLine, ...]:
        return compute_totals(self.lines).taxes

    def _legal_status_changed(self, previous: LegalStatus, status: LegalStatus) -> DomainEvent:
        return CreditNoteLegalStatusChanged(
            tenant_id=self.tenant_id, credit_note_id=self.id, previous=previous, status=status
        )
