"""Commands and queries of PDF templates."""

from __future__ import annotations

from dataclasses import dataclass

from application.shared.messages import Command, Query
from domain.pdf_templates.model import PdfTemplateInput


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePdfTemplate(Command):
    """A template of ``document_type``; with ``is_default`` it replaces the type's default."""

    document_type: str
    template: PdfTemplateInput


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdatePdfTemplate(Command):
    """Replace the whole editable record (the document type stays), if it is still at ``version``."""

    template_id: str
    version: int
    template: PdfTemplateInput


@dataclass(frozen=True, slots=True, kw_only=True)
class DeletePdfTemplate(Command):
    """Deleting the default leaves the built-in layout as the type's default."""

    template_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetPdfTemplate(Query):
    template_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindPdfTemplates(Query):
    """The tenant's templates (of ``document_type`` if given): by type, the default first, oldest first."""

    document_type: str | None = None
