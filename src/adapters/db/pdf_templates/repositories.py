"""PDF templates on SQLAlchemy: the tenant-bound repository (aggregates) and reader (views)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from adapters.db.pdf_templates.tables import pdf_template_locks, pdf_templates
from adapters.db.repository import TenantRepository, hold_lock
from application.pdf_templates.views import PdfTemplateView
from application.shared.ports import Clock
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import PdfTemplate
from domain.shared.model import Aggregate


class SqlAlchemyPdfTemplateRepository(TenantRepository[PdfTemplate]):
    kind = "PDF template"

    def __init__(self, session: Session, tenant_id: str, clock: Clock, seen: list[Aggregate]) -> None:
        super().__init__(session, tenant_id, seen)
        self._clock = clock

    def lock_document_type(self, document_type: DocumentType) -> None:
        hold_lock(
            self._session,
            pdf_template_locks,
            now=self._clock.now(),
            tenant_id=self._tenant_id,
            document_type=document_type,
        )

    def get(self, template_id: str) -> PdfTemplate | None:
        return self._one(self._mine().where(pdf_templates.c.id == template_id))

    def default_for(self, document_type: DocumentType) -> PdfTemplate | None:
        return self._one(
            self._mine().where(
                pdf_templates.c.document_type == document_type, pdf_templates.c.is_default.is_(True)
            )
        )

    def _mine(self) -> Select[Any]:
        return select(PdfTemplate).where(pdf_templates.c.tenant_id == self._tenant_id)

    def save(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be saved here")
        self._session.flush()


def _view(row: Row[Any]) -> PdfTemplateView:
    return PdfTemplateView(
        id=row.id,
        document_type=row.document_type,
        name=row.name,
        is_default=row.is_default,
        logo_file_id=row.logo_file_id,
        primary_color=row.primary_color,
        secondary_color=row.secondary_color,
        header_text=row.header_text,
        footer_disclaimer=row.footer_disclaimer,
        paper_size=row.paper_size,
        locale=row.locale,
        custom_css=row.custom_css,
        custom_body_template=row.custom_body_template,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlAlchemyPdfTemplateReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _views(self, *criteria: Any) -> list[PdfTemplateView]:
        statement = (
            select(pdf_templates)
            .where(pdf_templates.c.tenant_id == self._tenant_id, *criteria)
            .order_by(
                pdf_templates.c.document_type,
                pdf_templates.c.is_default.desc(),
                pdf_templates.c.created_at,
                pdf_templates.c.id,
            )
        )
        return [_view(row) for row in self._session.execute(statement)]

    def get(self, template_id: str) -> PdfTemplateView | None:
        found = self._views(pdf_templates.c.id == template_id)
        return found[0] if found else None

    def default_for(self, document_type: DocumentType) -> PdfTemplateView | None:
        found = self._views(
            pdf_templates.c.document_type == document_type, pdf_templates.c.is_default.is_(True)
        )
        return found[0] if found else None

    def find(self, document_type: DocumentType | None) -> list[PdfTemplateView]:
        if document_type is None:
            return self._views()
        return self._views(pdf_templates.c.document_type == document_type)
