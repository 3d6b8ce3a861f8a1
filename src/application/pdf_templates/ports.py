"""Ports of PDF templates: the repository (aggregates) and the reader (views), bound to one tenant."""

from __future__ import annotations

from typing import Protocol

from application.files.ports import FilesUnitOfWork
from application.pdf_templates.views import PdfTemplateView
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import PdfTemplate


class PdfTemplateRepository(Protocol):
    def lock_document_type(self, document_type: DocumentType) -> None:
        """Serialise, until the transaction ends, every change to the tenant's templates of this
        type: which one is the default, and each template's version."""
        ...

    def add(self, template: PdfTemplate) -> None: ...

    def get(self, template_id: str) -> PdfTemplate | None:
        """The template as committed now (re-read after ``lock_document_type``, it is current)."""
        ...

    def default_for(self, document_type: DocumentType) -> PdfTemplate | None: ...

    def save(self, template: PdfTemplate) -> None:
        """Write the template's changes now, inside the transaction: the default that gives up its
        flag is written before another template takes it (the unique index checks each statement)."""
        ...

    def delete(self, template: PdfTemplate) -> None: ...


class PdfTemplateReader(Protocol):
    def get(self, template_id: str) -> PdfTemplateView | None: ...

    def default_for(self, document_type: DocumentType) -> PdfTemplateView | None: ...

    def find(self, document_type: DocumentType | None) -> list[PdfTemplateView]:
        """By document type, the default first, then oldest first."""
        ...


class PdfTemplatesUnitOfWork(FilesUnitOfWork, Protocol):
    """The templates, and the files their logos are."""

    pdf_templates: PdfTemplateRepository
    pdf_template_views: PdfTemplateReader
