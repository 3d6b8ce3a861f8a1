"""The invoicing records as documents to render, and a template's design as a layout.

Amounts come as the invoicing domain computed them, each line's ITBMS and total included (the
document's totals are the sums of its lines' rounded values): nothing is recomputed here.
Dates and times are printed as in Panama.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from application.invoicing.profiles import TenantProfileView
from application.invoicing.views import ClientStatementView, CreditNoteView, InvoiceView, LineView, QuoteView
from application.pdf.documents import (
    Ageing,
    DocumentLine,
    DocumentType,
    EntryKind,
    InvoiceDocument,
    LegalStatus,
    Party,
    PdfLayout,
    QuoteDocument,
    StatementDocument,
    StatementEntry,
    TaxSummary,
)
from domain.invoicing.lines import TaxLine
from domain.invoicing.values import PANAMA
from domain.pdf.layout import Locale, PaperSize


class Design(Protocol):
    """What a layout is made of: a template's view, or a design not yet saved."""

    @property
    def primary_color(self) -> str: ...

    @property
    def secondary_color(self) -> str: ...

    @property
    def header_text(self) -> str: ...

    @property
    def footer_disclaimer(self) -> str: ...

    @property
    def paper_size(self) -> PaperSize: ...

    @property
    def locale(self) -> Locale: ...

    @property
    def custom_css(self) -> str | None: ...

    @property
    def custom_body_template(self) -> str | None: ...


def pdf_layout(design: Design) -> PdfLayout:
    return PdfLayout(
        primary_color=design.primary_color,
        secondary_color=design.secondary_color,
        header_text=design.header_text,
        footer_text=design.footer_disclaimer,
        paper_size=design.paper_size,
        locale=design.locale,
        custom_css=design.custom_css,
        custom_body_template=design.custom_body_template,
    )


def issuer_party(profile: TenantProfileView) -> Party:
    """The tenant as its documents print it: legal and trade names, RUC and DV, address, contacts."""
    return Party(
        name=profile.legal_name,
        trade_name=profile.trade_name or "",
        ruc=profile.ruc,
        dv=profile.dv,
        address=profile.printed_address,
        email=profile.email or "",
        phone=profile.phone or "",
        website=profile.website or "",
    )


def document_line(line: LineView) -> DocumentLine:
    return DocumentLine(
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount=line.discount,
        tax_rate=Decimal(line.tax_rate),
        subtotal=line.base,
        tax=line.tax,
        total=line.total,
    )


def _taxes(taxes: tuple[TaxLine, ...]) -> tuple[TaxSummary, ...]:
    return tuple(TaxSummary(rate=Decimal(t.rate), base=t.base, tax=t.tax) for t in taxes)


def _in_panama(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(PANAMA)


def _billed(view: InvoiceView | QuoteView, address: str) -> Party:
    """The client as named on the document when it was issued, at its address today."""
    return Party(name=view.client_name, ruc=view.client_ruc or "", dv=view.client_dv or "", address=address)


def invoice_document(
    view: InvoiceView, *, issuer: Party, client_address: str = "", notes: str | None = None
) -> InvoiceDocument:
    return InvoiceDocument(
        notes=notes,
        number=view.number,
        issuer=issuer,
        client=_billed(view, client_address),
        issue_date=view.issue_date,
        due_date=view.due_date,
        currency=view.currency.value,
        lines=tuple(document_line(line) for line in view.lines),
        taxes=_taxes(view.taxes),
        subtotal=view.subtotal,
        discount_total=view.discount_total,
        tax_total=view.tax_total,
        total=view.total,
        paid=view.paid,
        balance=view.balance,
        status=view.status.value,
        legal_status=LegalStatus(view.legal_status.value),
        cufe=view.cufe,
        authorization_protocol=view.authorization_protocol,
        authorized_at=_in_panama(view.authorized_at),
        qr_url=view.qr_url,
    )


def credit_note_document(view: CreditNoteView, *, issuer: Party, client_address: str = "") -> InvoiceDocument:
    """A credit note as printed: an invoice-shaped document of type CREDIT_NOTE, naming the invoice
    it credits and why; nothing is owed on it (balance is its total, paid nothing)."""
    return InvoiceDocument(
        document_type=DocumentType.CREDIT_NOTE,
        number=view.number,
        issuer=issuer,
        client=Party(name=view.client_name, ruc=view.client_ruc or "", dv=view.client_dv or "", address=client_address),
        issue_date=view.issue_date,
        due_date=None,
        currency=view.currency.value,
        lines=tuple(document_line(line) for line in view.lines),
        taxes=_taxes(view.taxes),
        subtotal=view.subtotal,
        discount_total=view.discount_total,
        tax_total=view.tax_total,
        total=view.total,
        balance=view.total,
        status="ISSUED",
        legal_status=LegalStatus(view.legal_status.value),
        cufe=view.cufe,
        authorization_protocol=view.authorization_protocol,
        authorized_at=_in_panama(view.authorized_at),
        qr_url=view.qr_url,
        invoice_number=view.invoice_number,
        reason=view.reason,
    )


def quote_document(view: QuoteView, *, issuer: Party, client_address: str = "") -> QuoteDocument:
    return QuoteDocument(
        number=view.number,
        issuer=issuer,
        client=_billed(view, client_address),
        issue_date=view.issue_date,
        valid_until=view.valid_until,
        currency=view.currency.value,
        lines=tuple(document_line(line) for line in view.lines),
        taxes=_taxes(view.taxes),
        subtotal=view.subtotal,
        discount_total=view.discount_total,
        tax_total=view.tax_total,
        total=view.total,
        status=view.status.value,
    )


def _description(entry: object) -> str:
    """An invoice: its first line; a payment: its method and reference; a credit note: its reason
    and the invoice it credits."""
    kind = getattr(entry, "kind")
    if kind == "PAYMENT":
        return " · ".join(part for part in (getattr(entry, "method"), getattr(entry, "reference")) if part)
    if kind == "CREDIT_NOTE":
        return f"{getattr(entry, 'description')} ({getattr(entry, 'invoice_number')})"
    return str(getattr(entry, "description") or "")


def statement_document(view: ClientStatementView, *, issuer: Party) -> StatementDocument:
    """Invoices are charged under their number, described by their first line; payments are
    credited under the number of the invoice they pay, described by method and reference; credit
    notes under their own number (NC-...), described by their reason."""
    client, statement = view.client, view.statement
    ageing = statement.ageing
    return StatementDocument(
        issuer=issuer,
        client=Party(
            name=client.name, ruc=client.ruc or "", dv=client.dv or "", address=client.address or ""
        ),
        period_from=statement.period_from,
        period_to=statement.period_to,
        currency=statement.currency.value,
        opening_balance=statement.opening_balance,
        entries=tuple(
            StatementEntry(
                date=entry.date,
                kind=EntryKind(entry.kind.value),
                reference=entry.document_number or entry.invoice_number,
                description=_description(entry),
                debit=entry.debit,
                credit=entry.credit,
                balance=entry.balance,
            )
            for entry in statement.entries
        ),
        closing_balance=statement.closing_balance,
        ageing=Ageing(
            current=ageing.current,
            d1_30=ageing.days_1_30,
            d31_60=ageing.days_31_60,
            d61_90=ageing.days_61_90,
            over_90=ageing.over_90,
        ),
        as_of=statement.as_of,
    )
