"""Port of the pdf domain: turn plain document data and a tenant layout into PDF bytes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from application.files.ports import FilesUnitOfWork
from application.invoicing.ports import (
    ClientReader,
    CreditNoteReader,
    InvoiceReader,
    QuoteReader,
    TenantProfileRepository,
)
from application.pdf.documents import PdfAsset, PdfDocument, PdfLayout
from application.pdf_templates.ports import PdfTemplateReader


class PdfRenderer(Protocol):
    """Renders documents safely: sandboxed templates, no network or file access, bounded time
    and memory. The same document, layout and assets give byte-identical PDFs.

    Failures are domain errors: ``TemplateInvalid`` (a custom template or CSS that does not
    compile), ``RenderTimeout``, ``RenderTooLarge`` (memory, output size, pages) and
    ``RenderFailed`` (anything else, e.g. an unsafe operation in a custom template), and
    ``RendererBusy`` (the tenant has its share of the renderer busy: retry soon).
    """

    def render(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset], *, tenant_id: str | None = None
    ) -> bytes:
        """The PDF of ``document`` dressed by ``layout``; ``assets`` are what it may refer to by name
        (``istmo-asset:<name>``), e.g. the logo read from the tenant's own files. ``tenant_id``: whose
        render it is, for the tenant's fair share of the renderer (``RendererBusy`` past it)."""
        ...

    def check_template(self, body_template: str | None, custom_css: str | None) -> None:
        """Raise ``TemplateInvalid`` naming the field and line if either does not compile."""
        ...


class PdfUnitOfWork(FilesUnitOfWork, Protocol):
    """What a PDF is made of (invoicing's documents, the tenant's template) and where it is kept."""

    tenant_profile: TenantProfileRepository
    credit_note_views: CreditNoteReader
    client_views: ClientReader
    invoice_views: InvoiceReader
    quote_views: QuoteReader
    pdf_template_views: PdfTemplateReader
