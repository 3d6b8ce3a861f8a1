"""Handlers of PDF templates. Each takes its message and a unit of work bound to the tenant.

Template text is checked at save time by the renderer (a custom body that does not compile is
refused with its line). Changes to the templates of one document type are serialised by a
lock, so "at most one default per type" and the version check hold under concurrent requests;
the database's partial unique index is the last word.
"""

from __future__ import annotations

from datetime import datetime

from application.pdf.ports import PdfRenderer
from application.pdf_templates.commands import (
    CreatePdfTemplate,
    DeletePdfTemplate,
    FindPdfTemplates,
    GetPdfTemplate,
    UpdatePdfTemplate,
)
from application.pdf_templates.views import PdfTemplateView
from application.pdf_templates.ports import PdfTemplatesUnitOfWork
from application.shared.actors import tenant_actor
from application.shared.ports import Clock, DuplicateEntry
from domain.files.model import EntityType, File
from domain.pdf.layout import DocumentType, Locale, PaperSize
from domain.pdf_templates.model import (
    PdfTemplate,
    PdfTemplateInput,
    TemplateDesign,
    check_logo,
    parse_template_name,
)
from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.model import parse_id


def pdf_template_view(template: PdfTemplate) -> PdfTemplateView:
    return PdfTemplateView(
        id=template.id,
        document_type=DocumentType(template.document_type),
        name=template.name,
        is_default=template.is_default,
        logo_file_id=template.logo_file_id,
        primary_color=template.primary_color,
        secondary_color=template.secondary_color,
        header_text=template.header_text,
        footer_disclaimer=template.footer_disclaimer,
        paper_size=PaperSize(template.paper_size),
        locale=Locale(template.locale),
        custom_css=template.custom_css,
        custom_body_template=template.custom_body_template,
        version=template.version,
        created_at=template.created_at,
        updated_at=template.updated_at,
    )


def checked_design(given: PdfTemplateInput, renderer: PdfRenderer) -> TemplateDesign:
    """The design, validated, with its custom CSS and body compiled by the renderer."""
    design = TemplateDesign.parse(given)
    renderer.check_template(design.custom_body_template, design.custom_css)
    return design


def tenant_logo(uow: PdfTemplatesUnitOfWork, logo_file_id: str | None) -> File | None:
    """The tenant's own image file (re-read under its content lock); another tenant's reads as missing."""
    if logo_file_id is None:
        return None
    file = uow.files.get(logo_file_id)
    if file is not None:
        uow.files.lock_content(file.sha256)
        file = uow.files.get(logo_file_id)
    if file is None:
        raise NotFound(f"file {logo_file_id} not found", field="logoFileId")
    check_logo(mime=file.mime, size=file.size)
    return file


def _hand_over_default(
    uow: PdfTemplatesUnitOfWork, document_type: DocumentType, new_default_id: str, now: datetime
) -> None:
    """The type's current default (if another) gives up its flag, written before the new one takes it."""
    current = uow.pdf_templates.default_for(document_type)
    if current is not None and current.id != new_default_id:
        current.give_up_default(now=now)
        uow.pdf_templates.save(current)


def _commit(uow: PdfTemplatesUnitOfWork) -> None:
    try:
        uow.commit()
    except DuplicateEntry:
        raise Conflict(
            "another template became the default of this document type meanwhile; try again",
            field="isDefault",
        ) from None


def _version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput("version must be the template's version, a whole number from 1", field="version")
    return value


class CreatePdfTemplateHandler:
    def __init__(self, clock: Clock, renderer: PdfRenderer) -> None:
        self._clock = clock
        self._renderer = renderer

    def __call__(self, cmd: CreatePdfTemplate, uow: PdfTemplatesUnitOfWork) -> PdfTemplateView:
        actor = tenant_actor(cmd.actor)
        document_type = DocumentType.parse(cmd.document_type)
        name = parse_template_name(cmd.template.name)
        design = checked_design(cmd.template, self._renderer)
        now = self._clock.now()
        with uow:
            uow.pdf_templates.lock_document_type(document_type)
            logo = tenant_logo(uow, design.logo_file_id)
            template = PdfTemplate.create(
                tenant_id=actor.tenant_id,
                document_type=document_type,
                name=name,
                is_default=cmd.template.is_default,
                design=design,
                now=now,
            )
            if template.is_default:
                _hand_over_default(uow, document_type, template.id, now)
            uow.pdf_templates.add(template)
            if logo is not None:
                logo.link(EntityType.PDF_TEMPLATE, template.id, now=now)
            _commit(uow)
            return pdf_template_view(template)


class UpdatePdfTemplateHandler:
    def __init__(self, clock: Clock, renderer: PdfRenderer) -> None:
        self._clock = clock
        self._renderer = renderer

    def __call__(self, cmd: UpdatePdfTemplate, uow: PdfTemplatesUnitOfWork) -> PdfTemplateView:
        tenant_actor(cmd.actor)
        template_id = parse_id(cmd.template_id, field="id")
        version = _version(cmd.version)
        name = parse_template_name(cmd.template.name)
        design = checked_design(cmd.template, self._renderer)
        now = self._clock.now()
        with uow:
            template = uow.pdf_templates.get(template_id)
            if template is not None:  # read again under the lock: what others committed is seen
                uow.pdf_templates.lock_document_type(DocumentType(template.document_type))
                template = uow.pdf_templates.get(template_id)
            if template is None:
                raise NotFound(f"PDF template {template_id} not found", field="id")
            template.check_version(version)
            logo = tenant_logo(uow, design.logo_file_id)
            if cmd.template.is_default and not template.is_default:
                _hand_over_default(uow, DocumentType(template.document_type), template.id, now)
            template.update(
                expected_version=version,
                name=name,
                is_default=cmd.template.is_default,
                design=design,
                now=now,
            )
            if logo is not None:
                logo.link(EntityType.PDF_TEMPLATE, template.id, now=now)
            _commit(uow)
            return pdf_template_view(template)


class DeletePdfTemplateHandler:
    def __call__(self, cmd: DeletePdfTemplate, uow: PdfTemplatesUnitOfWork) -> str:
        tenant_actor(cmd.actor)
        template_id = parse_id(cmd.template_id, field="id")
        with uow:
            template = uow.pdf_templates.get(template_id)
            if template is None:
                raise NotFound(f"PDF template {template_id} not found", field="id")
            template.delete()
            uow.pdf_templates.delete(template)
            uow.commit()
        return template_id


class GetPdfTemplateHandler:
    def __call__(self, query: GetPdfTemplate, uow: PdfTemplatesUnitOfWork) -> PdfTemplateView:
        template_id = parse_id(query.template_id, field="id")
        with uow:
            view = uow.pdf_template_views.get(template_id)
        if view is None:
            raise NotFound(f"PDF template {template_id} not found", field="id")
        return view


class FindPdfTemplatesHandler:
    def __call__(self, query: FindPdfTemplates, uow: PdfTemplatesUnitOfWork) -> list[PdfTemplateView]:
        document_type = None if query.document_type is None else DocumentType.parse(query.document_type)
        with uow:
            return uow.pdf_template_views.find(document_type)
