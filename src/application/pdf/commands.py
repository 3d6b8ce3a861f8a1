"""Commands of PDF rendering: documents rendered into the tenant's files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from application.shared.messages import Command
from domain.pdf_templates.model import PdfTemplateInput


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderInvoicePdf(Command):
    """The invoice as a PDF file linked to it; ``template_id`` defaults to the tenant's default
    INVOICE template, else the built-in layout."""

    invoice_id: str
    template_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderCreditNotePdf(Command):
    """The credit note as a PDF file linked to CREDIT_NOTE/<id>; the layout is the tenant's default
    CREDIT_NOTE template, else the built-in one."""

    credit_note_id: str
    template_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderQuotePdf(Command):
    quote_id: str
    template_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderStatementPdf(Command):
    """The client's statement of account for a period, as a PDF file linked to STATEMENT/<client id>."""

    client_id: str
    period_from: date
    period_to: date
    currency: str | None = None  # none: the tenant profile's (USD without a profile)
    template_id: str | None = None
    as_of: date | None = None  # the day the ageing is counted at: today in Panama by default


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewPdfTemplate(Command):
    """Sample data of ``document_type`` in a saved template (``template_id``) or in one not yet
    saved (``template``), as a temporary file."""

    document_type: str
    template_id: str | None = None
    template: PdfTemplateInput | None = None
