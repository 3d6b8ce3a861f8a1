"""Handlers of PDF rendering: a document, dressed by a template, kept as the tenant's file.

The layout is the template named (it must be the tenant's and of the document's type), else
the tenant's default template of the type, else the built-in layout. The logo is read from the
tenant's own files only (a logo file deleted since is left out). The PDF goes through the same
path as any upload (``FileKeeper``): renders are byte-identical for the same data and layout,
so rendering again returns the same file, with no new row and no new blob.

What each PDF is linked to: an invoice to INVOICE/<invoice id>, a quote to QUOTE/<quote id>, a
statement to STATEMENT/<client id> (every period of a client's statement under the client's
id); previews are temporary files linked to nothing.
"""

from __future__ import annotations

from dataclasses import replace

from application.files.commands import FilePolicy
from application.files.keeping import FileKeeper, blob_key
from application.files.ports import FileStorage
from application.files.staging import stage_chunks
from application.files.views import EntityRef, FileView
from application.invoicing.statements import client_statement
from application.pdf.commands import (
    PreviewPdfTemplate,
    RenderCreditNotePdf,
    RenderInvoicePdf,
    RenderQuotePdf,
    RenderStatementPdf,
)
from application.pdf.documents import DEFAULT_LAYOUT, Party, PdfAsset, PdfDocument, PdfLayout, sample_document
from application.invoicing.profiles import TenantProfileView, profile_view
from application.pdf.mapping import (
    Design,
    credit_note_document,
    invoice_document,
    issuer_party,
    pdf_layout,
    quote_document,
    statement_document,
)
from application.pdf.ports import PdfRenderer, PdfUnitOfWork
from application.pdf_templates.handlers import checked_design
from application.pdf_templates.views import PdfTemplateView
from application.shared.actors import tenant_actor
from application.shared.ports import Clock
from domain.files.model import EntityType
from domain.invoicing.issuer import MISSING_WITHOUT_PROFILE
from domain.invoicing.values import business_date
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import LOGO_MIMES, WrongDocumentType, check_logo
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor

LOGO = "logo"
_TYPE_NAMES = {
    DocumentType.INVOICE: "Factura",
    DocumentType.CREDIT_NOTE: "Nota de crédito",
    DocumentType.QUOTE: "Cotización",
    DocumentType.STATEMENT: "Estado de cuenta",
    DocumentType.REPORT: "Reporte",
}


def _optional_id(value: str | None, *, field: str) -> str | None:
    return None if value in (None, "") else parse_id(value, field=field)


def pdf_name(*parts: str) -> str:
    """``Factura F-000123.pdf``: the parts joined by spaces, no path separators in them."""
    return " ".join(part.replace("/", "-").replace("\\", "-") for part in parts) + ".pdf"


class _Renders:
    """What every render shares: choosing the layout, reading the logo, rendering and keeping."""

    def __init__(
        self,
        renderer: PdfRenderer,
        storage: FileStorage,
        keeper: FileKeeper,
        clock: Clock,
        policy: FilePolicy,
    ) -> None:
        self._renderer = renderer
        self._storage = storage
        self._keeper = keeper
        self._clock = clock
        self._policy = policy

    @staticmethod
    def _profile(uow: PdfUnitOfWork) -> TenantProfileView | None:
        profile = uow.tenant_profile.get()
        return None if profile is None else profile_view(profile)

    @classmethod
    def _issuer(cls, uow: PdfUnitOfWork, actor: Actor) -> Party:
        """The tenant as issuer, from its fiscal profile; without one, its name and what is missing."""
        profile = cls._profile(uow)
        if profile is None:
            tenant = uow.tenants.get(actor.tenant_id)
            return Party(name=tenant.name if tenant else "", missing=MISSING_WITHOUT_PROFILE)
        return issuer_party(profile)

    @classmethod
    def _payment_instructions(cls, uow: PdfUnitOfWork) -> str | None:
        profile = cls._profile(uow)
        return None if profile is None else profile.payment_instructions

    @staticmethod
    def _client_address(uow: PdfUnitOfWork, client_id: str | None) -> str:
        client = uow.client_views.get(client_id) if client_id else None
        return (client.address or "") if client else ""

    @staticmethod
    def _named_template(uow: PdfUnitOfWork, template_id: str, document_type: DocumentType) -> PdfTemplateView:
        """The template named: it must be the tenant's, and of this document type."""
        template = uow.pdf_template_views.get(template_id)
        if template is None:
            raise NotFound(f"PDF template {template_id} not found", field="templateId")
        if template.document_type != document_type:
            raise WrongDocumentType(
                f"template {template_id} is for {template.document_type} documents, not {document_type}",
                field="templateId",
            )
        return template

    def _dressing(
        self, uow: PdfUnitOfWork, template_id: str | None, document_type: DocumentType
    ) -> tuple[PdfLayout, FileView | None]:
        """The layout of a document, and the logo file it shows (inside ``uow``)."""
        if template_id is not None:
            template: PdfTemplateView | None = self._named_template(uow, template_id, document_type)
        else:
            template = uow.pdf_template_views.default_for(document_type)
        if template is None:
            return DEFAULT_LAYOUT, None
        return pdf_layout(template), self._saved_logo(uow, template.logo_file_id)

    @staticmethod
    def _saved_logo(uow: PdfUnitOfWork, logo_file_id: str | None) -> FileView | None:
        """A saved template's logo, if its file is still there (and still an image)."""
        logo = uow.file_views.get(logo_file_id) if logo_file_id else None
        return logo if logo is not None and logo.mime in LOGO_MIMES else None

    def _render_and_keep(
        self,
        uow: PdfUnitOfWork,
        actor: Actor,
        document: PdfDocument,
        layout: PdfLayout,
        logo: FileView | None,
        *,
        name: str,
        entity: EntityRef | None,
        temporary: bool = False,
    ) -> FileView:
        assets: dict[str, PdfAsset] = {}
        if logo is not None:
            data = b"".join(self._storage.read(blob_key(actor.tenant_id, logo.sha256)))
            assets[LOGO] = PdfAsset(name=logo.name, mime=logo.mime, data=data)
        pdf = self._renderer.render(document, layout, assets, tenant_id=actor.tenant_id)
        staged = stage_chunks(self._storage, [pdf], max_size=self._policy.max_upload_bytes)
        return self._keeper.keep(uow, actor, staged, name=name, entity=entity, temporary=temporary)


class RenderInvoicePdfHandler(_Renders):
    def __call__(self, cmd: RenderInvoicePdf, uow: PdfUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        template_id = _optional_id(cmd.template_id, field="templateId")
        with uow:
            invoice = uow.invoice_views.get(invoice_id, today=business_date(self._clock.now()))
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="invoiceId")
            layout, logo = self._dressing(uow, template_id, DocumentType.INVOICE)
            issuer = self._issuer(uow, actor)
            address = self._client_address(uow, invoice.client_id)
            notes = self._payment_instructions(uow)
        document = invoice_document(invoice, issuer=issuer, client_address=address, notes=notes)
        return self._render_and_keep(
            uow, actor, document, layout, logo,
            name=pdf_name(_TYPE_NAMES[DocumentType.INVOICE], invoice.number),
            entity=EntityRef(EntityType.INVOICE, invoice.id),
        )


class RenderCreditNotePdfHandler(_Renders):
    def __call__(self, cmd: RenderCreditNotePdf, uow: PdfUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        credit_note_id = parse_id(cmd.credit_note_id, field="creditNoteId")
        template_id = _optional_id(cmd.template_id, field="templateId")
        with uow:
            note = uow.credit_note_views.get(credit_note_id)
            if note is None:
                raise NotFound(f"credit note {credit_note_id} not found", field="creditNoteId")
            layout, logo = self._dressing(uow, template_id, DocumentType.CREDIT_NOTE)
            issuer = self._issuer(uow, actor)
            address = self._client_address(uow, note.client_id)
        document = credit_note_document(note, issuer=issuer, client_address=address)
        return self._render_and_keep(
            uow, actor, document, layout, logo,
            name=pdf_name(_TYPE_NAMES[DocumentType.CREDIT_NOTE], note.number),
            entity=EntityRef(EntityType.CREDIT_NOTE, note.id),
        )


class RenderQuotePdfHandler(_Renders):
    def __call__(self, cmd: RenderQuotePdf, uow: PdfUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        quote_id = parse_id(cmd.quote_id, field="quoteId")
        template_id = _optional_id(cmd.template_id, field="templateId")
        with uow:
            quote = uow.quote_views.get(quote_id, today=business_date(self._clock.now()))
            if quote is None:
                raise NotFound(f"quote {quote_id} not found", field="quoteId")
            layout, logo = self._dressing(uow, template_id, DocumentType.QUOTE)
            issuer = self._issuer(uow, actor)
            address = self._client_address(uow, quote.client_id)
        document = quote_document(quote, issuer=issuer, client_address=address)
        return self._render_and_keep(
            uow, actor, document, layout, logo,
            name=pdf_name(_TYPE_NAMES[DocumentType.QUOTE], quote.number),
            entity=EntityRef(EntityType.QUOTE, quote.id),
        )


class RenderStatementPdfHandler(_Renders):
    def __call__(self, cmd: RenderStatementPdf, uow: PdfUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        template_id = _optional_id(cmd.template_id, field="templateId")
        statement = client_statement(
            uow, cmd.client_id, cmd.period_from, cmd.period_to, cmd.currency,
            as_of=cmd.as_of, today=business_date(self._clock.now()),
        )
        with uow:
            layout, logo = self._dressing(uow, template_id, DocumentType.STATEMENT)
            document = statement_document(statement, issuer=self._issuer(uow, actor))
        client = statement.client
        period = f"{cmd.period_from.isoformat()}_{cmd.period_to.isoformat()}"
        return self._render_and_keep(
            uow, actor, document, layout, logo,
            name=pdf_name(_TYPE_NAMES[DocumentType.STATEMENT], client.name, period),
            entity=EntityRef(EntityType.STATEMENT, client.id),
        )


class PreviewPdfTemplateHandler(_Renders):
    """Sample data in a saved template, or in a design not yet saved (checked as saving would)."""

    def __call__(self, cmd: PreviewPdfTemplate, uow: PdfUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        document_type = DocumentType.parse(cmd.document_type)
        template_id = _optional_id(cmd.template_id, field="templateId")
        if (template_id is None) == (cmd.template is None):
            raise InvalidInput(
                "give either templateId (a saved template) or template (one not saved yet)",
                field="templateId",
            )
        unsaved = None if cmd.template is None else checked_design(cmd.template, self._renderer)
        with uow:
            profile = self._profile(uow)
            design: Design
            if template_id is not None:
                saved = self._named_template(uow, template_id, document_type)
                design, label = saved, saved.name
                logo = self._saved_logo(uow, saved.logo_file_id)
            else:
                assert unsaved is not None  # exactly one of the two was given
                design, label = unsaved, _TYPE_NAMES[document_type]
                logo = self._unsaved_logo(uow, unsaved.logo_file_id)
        sample = sample_document(document_type)
        if profile is not None:  # the tenant's real issuer block, in sample documents
            sample = replace(sample, issuer=issuer_party(profile))
        return self._render_and_keep(
            uow, actor, sample, pdf_layout(design), logo,
            name=pdf_name("Vista previa", label), entity=None, temporary=True,
        )

    @staticmethod
    def _unsaved_logo(uow: PdfUnitOfWork, logo_file_id: str | None) -> FileView | None:
        """The logo of a design being edited: the tenant's own image, as saving would require."""
        if logo_file_id is None:
            return None
        logo = uow.file_views.get(logo_file_id)
        if logo is None:
            raise NotFound(f"file {logo_file_id} not found", field="logoFileId")
        check_logo(mime=logo.mime, size=logo.size)
        return logo
