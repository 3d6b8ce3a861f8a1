"""PDF templates' tables (the templates, the per-document-type locks) and their mapping."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.pdf.layout import DocumentType, Locale, PaperSize
from domain.pdf_templates.model import PdfTemplate

pdf_templates = Table(
    "pdf_templates",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("document_type", StrEnumType(DocumentType), nullable=False),
    Column("name", String(100), nullable=False),
    Column("is_default", Boolean, nullable=False),
    # no foreign key: deleting the logo's file leaves the template, printed without a logo
    id_column("logo_file_id", nullable=True),
    Column("primary_color", String(7), nullable=False),
    Column("secondary_color", String(7), nullable=False),
    Column("header_text", Text, nullable=False),
    Column("footer_disclaimer", Text, nullable=False),
    Column("paper_size", StrEnumType(PaperSize), nullable=False),
    Column("locale", StrEnumType(Locale), nullable=False),
    Column("custom_css", Text, nullable=True),
    Column("custom_body_template", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_pdf_templates_tenant_id_document_type", "tenant_id", "document_type", "created_at"),
)

# At most one default template per (tenant, document type), on both databases.
Index(
    "uq_pdf_templates_default",
    pdf_templates.c.tenant_id,
    pdf_templates.c.document_type,
    unique=True,
    postgresql_where=pdf_templates.c.is_default,
    sqlite_where=pdf_templates.c.is_default,
)

# One row per (tenant, document type) whose templates were ever changed: the upsert on it
# serialises the changes of that type's templates (its default, each version) on both databases.
pdf_template_locks = Table(
    "pdf_template_locks",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("document_type", StrEnumType(DocumentType), primary_key=True),
    Column("locked_at", UtcDateTime(), nullable=False),
)

def map_classes() -> None:
    mapper_registry.map_imperatively(PdfTemplate, pdf_templates)
