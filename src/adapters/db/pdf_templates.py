"""PDF templates on SQLAlchemy: the tenant-bound repository (aggregates) and reader (views)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.orm import pdf_template_locks, pdf_templates
from application.pdf_templates.views import PdfTemplateView
from application.shared.ports import Clock
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import PdfTemplate
from domain.shared.model import Aggregate


class SqlAlchemyPdfTemplateRepository:
    def __init__(self, session: Session, tenant_id: str, clock: Clock, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._clock = clock
        self._seen = seen

    def lock_document_type(self, document_type: DocumentType) -> None:
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(pdf_template_locks).values(
            tenant_id=self._tenant_id, document_type=document_type, locked_at=self._clock.now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "document_type"], set_={"locked_at": statement.excluded.locked_at}
        )
        self._session.execute(statement)

    def add(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be added here")
        self._session.add(template)
        self._seen.append(template)

    def get(self, template_id: str) -> PdfTemplate | None:
        return self._one(select(PdfTemplate).where(pdf_templates.c.id == template_id))

    def default_for(self, document_type: DocumentType) -> PdfTemplate | None:
        return self._one(
            select(PdfTemplate).where(
                pdf_templates.c.document_type == document_type, pdf_templates.c.is_default.is_(True)
            )
        )

    def _one(self, statement: Select[Any]) -> PdfTemplate | None:
        # populate_existing: a read after lock_document_type sees what others committed meanwhile.
        statement = statement.where(pdf_templates.c.tenant_id == self._tenant_id)
        template = self._session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
        if template is not None:
            self._seen.append(template)
        return template

    def save(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be saved here")
        self._session.flush()

    def delete(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be deleted here")
        self._session.delete(template)
        self._seen.append(template)


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
