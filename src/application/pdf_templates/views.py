"""Read model of PDF templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.pdf.layout import DocumentType, Locale, PaperSize


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfTemplateView:
    id: str
    document_type: DocumentType
    name: str
    is_default: bool
    logo_file_id: str | None
    primary_color: str
    secondary_color: str
    header_text: str
    footer_disclaimer: str
    paper_size: PaperSize
    locale: Locale
    custom_css: str | None
    custom_body_template: str | None
    version: int
    created_at: datetime
    updated_at: datetime
