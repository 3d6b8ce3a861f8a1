"""The PDF templates module: each tenant's designs of its invoices, quotes and statements."""

from __future__ import annotations

from application.pdf_templates import commands as c
from application.pdf_templates import handlers as h
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    saves = (deps.clock, deps.pdf_renderer)
    return Registrations(
        handlers={
            c.CreatePdfTemplate: h.CreatePdfTemplateHandler(*saves),
            c.UpdatePdfTemplate: h.UpdatePdfTemplateHandler(*saves),
            c.DeletePdfTemplate: h.DeletePdfTemplateHandler(),
            c.GetPdfTemplate: h.GetPdfTemplateHandler(),
            c.FindPdfTemplates: h.FindPdfTemplatesHandler(),
        },
    )


MODULE = DomainModule(name="pdf_templates", needs=("clock", "pdf_renderer"), register=register)
