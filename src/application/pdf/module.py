"""The PDF module: invoices, quotes and statements rendered to PDF files, and template previews."""

from __future__ import annotations

from application.files.keeping import FileKeeper
from application.pdf import commands as c
from application.pdf import handlers as h
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    storage, clock, policy = deps.storage, deps.clock, deps.file_policy
    renders = (deps.pdf_renderer, storage, FileKeeper(storage, deps.mime, clock, policy), clock, policy)
    return Registrations(
        handlers={
            c.RenderInvoicePdf: h.RenderInvoicePdfHandler(*renders),
            c.RenderQuotePdf: h.RenderQuotePdfHandler(*renders),
            c.RenderCreditNotePdf: h.RenderCreditNotePdfHandler(*renders),
            c.RenderStatementPdf: h.RenderStatementPdfHandler(*renders),
            c.PreviewPdfTemplate: h.PreviewPdfTemplateHandler(*renders),
        },
    )


MODULE = DomainModule(
    name="pdf",
    needs=("pdf_renderer", "storage", "mime", "clock", "file_policy"),
    requires=("invoicing", "pdf_templates"),
    register=register,
)
