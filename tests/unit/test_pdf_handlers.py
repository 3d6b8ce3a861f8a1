"""PDF templates and rendering, through the bus from ``build_message_bus``, on in-memory fakes.

``FakePdfRenderer`` records what it was asked to render, so these tests check what the handlers
chose (document data, layout, logo) and what they kept (files, links, blobs). Each refused input
is checked twice: the error names the problem (code, field), and nothing was written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import AddFile, DeleteFile, FilePolicy
from application.files.keeping import blob_key
from application.files.staging import stage_chunks
from application.files.views import FileView
from application.invoicing.commands import CreateClient, CreateInvoice, CreateQuote, RegisterInvoicePayment
from application.invoicing.views import ClientView, InvoiceView
from application.pdf import commands as pdf_commands
from application.pdf.commands import PreviewPdfTemplate, RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.pdf.documents import (
    DEFAULT_LAYOUT,
    InvoiceDocument,
    LegalStatus,
    PdfLayout,
    QuoteDocument,
    StatementDocument,
    sample_document,
)
from application.pdf_templates import commands as template_commands
from application.pdf_templates.commands import (
    CreatePdfTemplate,
    DeletePdfTemplate,
    FindPdfTemplates,
    GetPdfTemplate,
    UpdatePdfTemplate,
)
from application.pdf_templates.views import PdfTemplateView
from application.shared.messages import Command, Query
from application.tenancy.handlers import CreateTenant
from domain.files.model import EntityType, FileStatus
from domain.invoicing.lines import LineInput
from domain.pdf.errors import RenderTimeout, RenderTooLarge
from domain.pdf.layout import DocumentType, Locale, PaperSize
from domain.pdf_templates.model import PdfTemplateInput
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.pdf import FakePdfRenderer
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory

NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 12:00 in Panama
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
TEXT = b"not an image, just words\n"
POLICY = FilePolicy(tmp_file_ttl=timedelta(hours=2))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def design(**fields: Any) -> PdfTemplateInput:
    return PdfTemplateInput(**{"name": "Facturas", **fields})


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(NOON)
        self.store = FakeStore()
        self.storage = FakeFileStorage(self.clock)
        self.renderer = FakePdfRenderer()
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock),
            storage=self.storage,
            mime=SniffingMimeDetector(),
            clock=self.clock,
            file_policy=POLICY,
            pdf_renderer=self.renderer,
        )

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=f"{slug.title()}, S.A."))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def file(self, actor: Actor, data: bytes, **kw: Any) -> FileView:
        staged = stage_chunks(self.storage, [data], max_size=1 << 30)
        return self.bus.handle(AddFile(actor=actor, content=staged, name=kw.pop("name", "logo"), **kw))

    def template(self, actor: Actor, document_type: str = "INVOICE", **fields: Any) -> PdfTemplateView:
        return self.bus.handle(CreatePdfTemplate(actor=actor, document_type=document_type, template=design(**fields)))

    def update(self, actor: Actor, template: PdfTemplateView, version: int | None = None, **fields: Any) -> PdfTemplateView:
        return self.bus.handle(
            UpdatePdfTemplate(
                actor=actor, template_id=template.id, version=template.version if version is None else version,
                template=design(**fields),
            )
        )

    def templates(self, actor: Actor, document_type: str | None = None) -> list[PdfTemplateView]:
        return self.bus.handle(FindPdfTemplates(actor=actor, document_type=document_type))

    def client(self, actor: Actor) -> ClientView:
        return self.bus.handle(
            CreateClient(
                actor=actor, name="Constructora Las Cumbres, S.A.", taxpayer_type="JURIDICO",
                ruc="8-123-4567", dv="12", address="Calle 50, Obarrio",
            )
        )

    def invoice(self, actor: Actor, client: ClientView | None = None) -> InvoiceView:
        lines = (
            LineInput(description="Cemento gris", quantity="10", unit_price="8.50", tax_rate=7),
            LineInput(description="Arena lavada", quantity="2", unit_price="30", tax_rate=0, discount="5"),
        )
        who: dict[str, Any] = {"client_id": client.id} if client else {"client_name": "Consumidor final"}
        return self.bus.handle(CreateInvoice(actor=actor, lines=lines, **who))

    def snapshot(self) -> tuple[Any, ...]:
        return (
            sorted(
                (f.id, f.status, f.expires_at, tuple(sorted((l.entity_type, l.entity_id) for l in f.links)))
                for f in self.store.files.values()
            ),
            sorted(
                (t.id, t.name, t.is_default, t.version, t.primary_color, t.logo_file_id)
                for t in self.store.pdf_templates.values()
            ),
            sorted(self.storage.blobs),
            sorted(self.storage.staged),
            self.store.commits,
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


@pytest.fixture
def globex(world: World) -> Actor:
    return world.tenant("globex")


@contextmanager
def refused(world: World, code: str, field: str | None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    before = world.snapshot()
    with pytest.raises(DomainError) as error:
        yield error
    assert (error.value.code, error.value.field) == (code, field), error.value.message
    assert world.snapshot() == before, "a refused request left something behind"


# --- the registry -------------------------------------------------------------------------------


def test_the_bus_has_a_handler_for_every_pdf_template_and_rendering_message(world: World) -> None:
    messages = [
        value
        for module in (template_commands, pdf_commands)
        for _, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, Command | Query) and value.__module__ == module.__name__
    ]
    assert len(messages) == 10
    actor = world.tenant("acme")
    for message_type in messages:
        # An empty instance: the handler may refuse it, but the bus must have routed it.
        message = message_type.__new__(message_type)
        for f in dataclasses.fields(message_type):
            object.__setattr__(message, f.name, actor if f.name == "actor" else None)
        try:
            world.bus.handle(message)
        except LookupError as error:
            raise AssertionError(f"{message_type.__name__} has no handler") from error
        except (DomainError, AttributeError, TypeError):
            pass


def test_without_a_renderer_the_pdf_messages_have_no_handler(world: World) -> None:
    bus = build_message_bus(
        uow_factory=fake_uow_factory(world.store, world.clock), storage=world.storage,
        mime=SniffingMimeDetector(), clock=world.clock, file_policy=POLICY,
    )
    actor = world.tenant("acme")
    with pytest.raises(LookupError, match="no handler registered for RenderInvoicePdf"):
        bus.handle(RenderInvoicePdf(actor=actor, invoice_id=str(uuid.uuid4())))


# --- templates: create, read --------------------------------------------------------------------


def test_a_new_template_takes_the_built_in_values_for_what_is_left_out(world: World, acme: Actor) -> None:
    template = world.template(acme, name="  Facturas 2026 ", header_text=" Ferretería ", primary_color="#0b5394")
    assert (template.document_type, template.name, template.is_default, template.version) == (
        DocumentType.INVOICE, "Facturas 2026", False, 1,
    )
    assert (template.primary_color, template.secondary_color) == ("#0B5394", DEFAULT_LAYOUT.secondary_color)
    assert (template.header_text, template.footer_disclaimer) == ("Ferretería", "")
    assert (template.paper_size, template.locale) == (PaperSize.A4, Locale.ES_PA)
    assert (template.custom_css, template.custom_body_template, template.logo_file_id) == (None, None, None)
    assert template.created_at == template.updated_at == NOON
    assert world.bus.handle(GetPdfTemplate(actor=acme, template_id=template.id)) == template


def test_templates_are_listed_by_type_the_default_first(world: World, acme: Actor, globex: Actor) -> None:
    quote = world.template(acme, "QUOTE", name="Cotizaciones")
    first = world.template(acme, name="A")
    world.clock.advance(timedelta(seconds=1))
    default = world.template(acme, name="B", is_default=True)
    world.template(globex, name="de otro", is_default=True)
    assert [t.id for t in world.templates(acme)] == [default.id, first.id, quote.id]
    assert [t.id for t in world.templates(acme, "QUOTE")] == [quote.id]
    assert world.templates(acme, "STATEMENT") == []


def test_a_new_default_replaces_the_previous_one_of_its_type_only(world: World, acme: Actor, globex: Actor) -> None:
    old = world.template(acme, name="Vieja", is_default=True)
    quotes = world.template(acme, "QUOTE", name="Cotizaciones", is_default=True)
    theirs = world.template(globex, name="Suya", is_default=True)
    world.clock.advance(timedelta(minutes=5))
    new = world.template(acme, name="Nueva", is_default=True)

    by_id = {t.id: t for t in world.templates(acme)}
    assert by_id[new.id].is_default and not by_id[old.id].is_default
    assert (by_id[old.id].version, by_id[old.id].updated_at) == (2, NOON + timedelta(minutes=5))
    assert by_id[quotes.id].is_default and by_id[quotes.id].version == 1
    assert world.templates(globex)[0] == theirs


def test_a_logo_is_the_tenants_own_image_and_is_linked_to_the_template(world: World, acme: Actor) -> None:
    logo = world.file(acme, PNG, temporary=True)
    assert logo.status is FileStatus.TEMPORARY
    template = world.template(acme, logo_file_id=logo.id)
    assert template.logo_file_id == logo.id
    kept = world.store.files[logo.id]
    assert kept.status is FileStatus.READY  # a template's logo does not expire
    assert [(l.entity_type, l.entity_id) for l in kept.links] == [(EntityType.PDF_TEMPLATE, template.id)]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"primary_color": "#12345"}, "INVALID_COLOR", "primaryColor"),
        ({"primary_color": "red"}, "INVALID_COLOR", "primaryColor"),
        ({"secondary_color": "#GGGGGG"}, "INVALID_COLOR", "secondaryColor"),
        ({"secondary_color": "123456"}, "INVALID_COLOR", "secondaryColor"),
        ({"name": "   "}, "INVALID_INPUT", "name"),
        ({"name": "x" * 101}, "INVALID_INPUT", "name"),
        ({"paper_size": "A5"}, "INVALID_INPUT", "paperSize"),
        ({"locale": "fr"}, "INVALID_INPUT", "locale"),
        ({"header_text": "x" * 501}, "INVALID_INPUT", "headerText"),
        ({"logo_file_id": "not-an-id"}, "INVALID_INPUT", "logoFileId"),
        ({"logo_file_id": str(uuid.uuid4())}, "NOT_FOUND", "logoFileId"),
        ({"custom_body_template": "<p>\n{{ doc.number }\n</p>"}, "TEMPLATE_INVALID", "customBodyTemplate"),
        ({"custom_css": "p { color: red }\n}"}, "TEMPLATE_INVALID", "customCss"),
    ],
)
def test_bad_template_fields_are_refused_naming_the_field(
    world: World, acme: Actor, fields: dict[str, Any], code: str, field: str
) -> None:
    world.template(acme, name="Actual", is_default=True)
    with refused(world, code, field):
        world.template(acme, is_default=True, **fields)


def test_a_template_that_does_not_compile_names_its_line(world: World, acme: Actor) -> None:
    with refused(world, "TEMPLATE_INVALID", "customBodyTemplate") as error:
        world.template(acme, custom_body_template="<h1>{{ doc.number }}</h1>\n\n{% if doc.notes %}\n<p>sin cerrar</p>")
    assert error.value.line == 4 and "line 4" in error.value.message


def test_an_unknown_document_type_is_refused(world: World, acme: Actor) -> None:
    with refused(world, "INVALID_INPUT", "documentType"):
        world.template(acme, "RECEIPT")
    with refused(world, "INVALID_INPUT", "documentType"):
        world.templates(acme, "invoice")


def test_a_logo_that_is_not_an_image_or_is_another_tenants_is_refused(
    world: World, acme: Actor, globex: Actor
) -> None:
    text = world.file(acme, TEXT)
    theirs = world.file(globex, GIF)
    with refused(world, "INVALID_LOGO", "logoFileId") as error:
        world.template(acme, logo_file_id=text.id)
    assert "text/plain" in error.value.message
    with refused(world, "NOT_FOUND", "logoFileId"):
        world.template(acme, logo_file_id=theirs.id)


def test_another_tenants_template_reads_as_not_found(world: World, acme: Actor, globex: Actor) -> None:
    theirs = world.template(globex)
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(GetPdfTemplate(actor=acme, template_id=theirs.id))
    with refused(world, "NOT_FOUND", "id"):
        world.update(acme, theirs, name="mía")
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(DeletePdfTemplate(actor=acme, template_id=theirs.id))
    assert world.templates(acme) == []


# --- templates: update, delete ------------------------------------------------------------------


def test_an_update_replaces_the_record_and_raises_the_version(world: World, acme: Actor) -> None:
    template = world.template(acme, header_text="Viejo", footer_disclaimer="Aviso", paper_size="LETTER")
    world.clock.advance(timedelta(hours=1))
    updated = world.update(acme, template, name="Renombrada", locale="en", custom_css="p { color: red }")
    assert (updated.name, updated.version, updated.updated_at, updated.created_at) == (
        "Renombrada", 2, NOON + timedelta(hours=1), NOON,
    )
    assert (updated.header_text, updated.footer_disclaimer, updated.paper_size) == ("", "", PaperSize.A4)
    assert (updated.locale, updated.custom_css) == (Locale.EN, "p { color: red }")


def test_a_stale_version_is_refused(world: World, acme: Actor) -> None:
    template = world.template(acme)
    world.update(acme, template, name="Primera edición")
    with refused(world, "VERSION_CONFLICT", "version") as error:
        world.update(acme, template, name="Edición con datos viejos")
    assert "version 1" in error.value.message and "version 2" in error.value.message


def test_losing_the_default_is_a_change_a_stale_writer_cannot_undo(world: World, acme: Actor) -> None:
    old = world.template(acme, name="Vieja", is_default=True)
    world.template(acme, name="Nueva", is_default=True)
    with refused(world, "VERSION_CONFLICT", "version"):
        world.update(acme, old, name="Vieja", is_default=True)


def test_an_update_can_take_and_give_up_the_default(world: World, acme: Actor) -> None:
    old = world.template(acme, name="Vieja", is_default=True)
    new = world.template(acme, name="Nueva")
    new = world.update(acme, new, name="Nueva", is_default=True)
    assert [(t.name, t.is_default) for t in world.templates(acme)] == [("Nueva", True), ("Vieja", False)]
    world.update(acme, new, name="Nueva", is_default=False)
    assert not any(t.is_default for t in world.templates(acme))
    assert old.id in {t.id for t in world.templates(acme)}


def test_deleting_the_default_leaves_the_built_in_layout(world: World, acme: Actor) -> None:
    default = world.template(acme, name="Default", is_default=True)
    other = world.template(acme, name="Otra")
    assert world.bus.handle(DeletePdfTemplate(actor=acme, template_id=default.id)) == default.id
    assert [(t.id, t.is_default) for t in world.templates(acme)] == [(other.id, False)]
    world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=world.invoice(acme).id))
    assert world.renderer.renders[-1][1] == DEFAULT_LAYOUT


def test_a_bad_version_or_id_is_refused(world: World, acme: Actor) -> None:
    template = world.template(acme)
    with refused(world, "INVALID_INPUT", "version"):
        world.update(acme, template, version=0)
    with refused(world, "INVALID_INPUT", "id"):
        world.bus.handle(DeletePdfTemplate(actor=acme, template_id="nope"))


# --- rendering ------------------------------------------------------------------------------------


def test_an_invoice_renders_in_the_default_template_with_its_logo_into_a_linked_file(
    world: World, acme: Actor
) -> None:
    logo = world.file(acme, PNG, name="logo.png")
    template = world.template(
        acme, is_default=True, logo_file_id=logo.id, header_text="Ferretería Acme",
        footer_disclaimer="Gracias por su compra", primary_color="#112233", paper_size="LETTER",
    )
    world.template(acme, name="No es la default")
    invoice = world.invoice(acme, world.client(acme))

    file = world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))

    document, layout, assets = world.renderer.renders[-1]
    assert isinstance(document, InvoiceDocument)
    assert (document.number, document.issuer.name, document.issuer.ruc) == (invoice.number, "Acme, S.A.", "")
    assert (document.client.name, document.client.ruc, document.client.dv, document.client.address) == (
        "Constructora Las Cumbres, S.A.", "8-123-4567", "12", "Calle 50, Obarrio",
    )
    assert (document.subtotal, document.discount_total, document.tax_total, document.total, document.balance) == (
        invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total, invoice.balance,
    )
    assert [(t.rate, t.base, t.tax) for t in document.taxes] == [(Decimal(0), Decimal("55.00"), Decimal("0.00")), (Decimal(7), Decimal("85.00"), Decimal("5.95"))]
    assert [(line.description, line.subtotal, line.tax, line.total) for line in document.lines] == [
        ("Cemento gris", Decimal("85.00"), Decimal("5.95"), Decimal("90.95")),
        ("Arena lavada", Decimal("55.00"), Decimal("0.00"), Decimal("55.00")),
    ]
    assert (document.status, document.legal_status) == ("UNPAID", LegalStatus.NONE)
    assert layout == PdfLayout(
        primary_color="#112233", secondary_color=template.secondary_color, header_text="Ferretería Acme",
        footer_text="Gracias por su compra", paper_size=PaperSize.LETTER,
    )
    assert list(assets) == ["logo"] and (assets["logo"].mime, assets["logo"].data) == ("image/png", PNG)

    assert (file.name, file.mime, file.status) == (f"Factura {invoice.number}.pdf", "application/pdf", FileStatus.READY)
    links = world.store.files[file.id].links
    assert [(l.entity_type, l.entity_id) for l in links] == [(EntityType.INVOICE, invoice.id)]


def test_rendering_again_returns_the_same_file_without_a_new_row_or_blob(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    first = world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))
    rows, blobs = len(world.store.files), dict(world.storage.blobs)
    world.clock.advance(timedelta(minutes=1))
    second = world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))
    assert second == first
    assert len(world.store.files) == rows == 1 and world.storage.blobs.keys() == blobs.keys()
    assert world.storage.staged == {}
    assert len(world.store.files[first.id].links) == 1


def test_a_payment_changes_the_document_and_so_the_file(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    first = world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))
    world.bus.handle(RegisterInvoicePayment(actor=acme, invoice_id=invoice.id, amount="10", method="CASH"))
    second = world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))
    assert second.id != first.id and world.renderer.renders[-1][0].paid == Decimal("10.00")
    assert {f.id for f in world.store.files.values() if any(l.entity_id == invoice.id for l in f.links)} == {
        first.id, second.id,
    }


def test_a_named_template_wins_over_the_default(world: World, acme: Actor) -> None:
    world.template(acme, is_default=True, header_text="default")
    chosen = world.template(acme, name="Elegida", header_text="elegida", locale="en")
    world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=world.invoice(acme).id, template_id=chosen.id))
    layout = world.renderer.renders[-1][1]
    assert (layout.header_text, layout.locale) == ("elegida", Locale.EN)


def test_without_a_template_the_built_in_layout_is_used(world: World, acme: Actor, globex: Actor) -> None:
    world.template(globex, is_default=True, header_text="de otro")
    world.template(acme, "QUOTE", is_default=True, header_text="cotizaciones")
    world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=world.invoice(acme).id))
    assert world.renderer.renders[-1][1:] == (DEFAULT_LAYOUT, {})


def test_a_deleted_logo_is_left_out(world: World, acme: Actor) -> None:
    logo = world.file(acme, PNG)
    world.template(acme, is_default=True, logo_file_id=logo.id)
    world.bus.handle(DeleteFile(actor=acme, file_id=logo.id))
    world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=world.invoice(acme).id))
    assert world.renderer.renders[-1][2] == {}


@pytest.mark.parametrize("which", ["unknown", "theirs", "malformed"])
def test_an_unknown_invoice_is_refused(world: World, acme: Actor, globex: Actor, which: str) -> None:
    invoice_id = {
        "unknown": str(uuid.uuid4()), "theirs": world.invoice(globex).id, "malformed": "F-000001",
    }[which]
    code = "INVALID_INPUT" if which == "malformed" else "NOT_FOUND"
    with refused(world, code, "invoiceId"):
        world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice_id))
    assert world.renderer.renders == []


def test_a_template_must_be_the_tenants_and_of_the_documents_type(world: World, acme: Actor, globex: Actor) -> None:
    invoice = world.invoice(acme)
    quote_template = world.template(acme, "QUOTE")
    theirs = world.template(globex)
    with refused(world, "WRONG_DOCUMENT_TYPE", "templateId") as error:
        world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id, template_id=quote_template.id))
    assert "QUOTE" in error.value.message and "INVOICE" in error.value.message
    with refused(world, "NOT_FOUND", "templateId"):
        world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id, template_id=theirs.id))
    with refused(world, "NOT_FOUND", "templateId"):
        world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id, template_id=str(uuid.uuid4())))
    assert world.renderer.renders == []


@pytest.mark.parametrize("error", [RenderTimeout("the render took longer than 30 s"), RenderTooLarge("too big")])
def test_a_render_that_fails_writes_nothing(world: World, acme: Actor, error: DomainError) -> None:
    invoice = world.invoice(acme)
    world.renderer.fail_with = error
    with refused(world, error.code, None):
        world.bus.handle(RenderInvoicePdf(actor=acme, invoice_id=invoice.id))


def test_a_quote_renders_into_a_file_linked_to_it(world: World, acme: Actor) -> None:
    lines = (LineInput(description="Diseño", quantity="1", unit_price="100", tax_rate=7),)
    quote = world.bus.handle(CreateQuote(actor=acme, client_name="Ana", lines=lines))
    file = world.bus.handle(RenderQuotePdf(actor=acme, quote_id=quote.id))
    document = world.renderer.renders[-1][0]
    assert isinstance(document, QuoteDocument)
    assert (document.number, document.total, document.valid_until) == (quote.number, Decimal("107.00"), quote.valid_until)
    assert file.name == f"Cotización {quote.number}.pdf"
    assert [(l.entity_type, l.entity_id) for l in world.store.files[file.id].links] == [(EntityType.QUOTE, quote.id)]
    with refused(world, "NOT_FOUND", "quoteId"):
        world.bus.handle(RenderQuotePdf(actor=acme, quote_id=str(uuid.uuid4())))


def test_a_statement_renders_into_a_file_linked_to_the_clients_statement(world: World, acme: Actor) -> None:
    client = world.client(acme)
    invoice = world.invoice(acme, client)
    world.bus.handle(RegisterInvoicePayment(actor=acme, invoice_id=invoice.id, amount="50", method="ACH", reference="T-1"))
    period = {"period_from": date(2026, 11, 1), "period_to": date(2026, 11, 30)}

    file = world.bus.handle(RenderStatementPdf(actor=acme, client_id=client.id, **period))

    document = world.renderer.renders[-1][0]
    assert isinstance(document, StatementDocument)
    assert (document.client.name, document.opening_balance, document.closing_balance) == (
        client.name, Decimal("0.00"), invoice.total - Decimal("50.00"),
    )
    assert [(e.kind, e.reference, e.description, e.debit, e.credit) for e in document.entries] == [
        ("INVOICE", invoice.number, "Cemento gris", invoice.total, Decimal("0.00")),
        ("PAYMENT", invoice.number, "ACH · T-1", Decimal("0.00"), Decimal("50.00")),
    ]
    assert file.name == f"Estado de cuenta {client.name} 2026-11-01_2026-11-30.pdf"
    assert [(l.entity_type, l.entity_id) for l in world.store.files[file.id].links] == [(EntityType.STATEMENT, client.id)]


def test_bad_statement_requests_are_refused(world: World, acme: Actor, globex: Actor) -> None:
    client = world.client(acme)
    theirs = world.client(globex)
    november = {"period_from": date(2026, 11, 1), "period_to": date(2026, 11, 30)}
    with refused(world, "NOT_FOUND", "clientId"):
        world.bus.handle(RenderStatementPdf(actor=acme, client_id=theirs.id, **november))
    with refused(world, "INVALID_DATE_RANGE", "to"):
        world.bus.handle(
            RenderStatementPdf(actor=acme, client_id=client.id, period_from=date(2026, 11, 30), period_to=date(2026, 11, 1))
        )
    with refused(world, "INVALID_INPUT", "currency"):
        world.bus.handle(RenderStatementPdf(actor=acme, client_id=client.id, currency="EUR", **november))
    invoice_template = world.template(acme)
    with refused(world, "WRONG_DOCUMENT_TYPE", "templateId"):
        world.bus.handle(RenderStatementPdf(actor=acme, client_id=client.id, template_id=invoice_template.id, **november))


# --- previews -------------------------------------------------------------------------------------


def test_a_preview_of_a_saved_template_is_a_temporary_file_of_sample_data(world: World, acme: Actor) -> None:
    template = world.template(acme, "QUOTE", name="Cotizaciones", header_text="Vista")
    file = world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="QUOTE", template_id=template.id))
    document, layout, _ = world.renderer.renders[-1]
    assert document == sample_document(DocumentType.QUOTE) and layout.header_text == "Vista"
    assert (file.status, file.expires_at, file.name) == (
        FileStatus.TEMPORARY, NOON + POLICY.tmp_file_ttl, "Vista previa Cotizaciones.pdf",
    )
    assert world.store.files[file.id].links == []


def test_a_preview_of_an_unsaved_template_is_checked_as_saving_would(world: World, acme: Actor, globex: Actor) -> None:
    logo = world.file(acme, PNG)
    file = world.bus.handle(
        PreviewPdfTemplate(
            actor=acme, document_type="STATEMENT",
            template=PdfTemplateInput(primary_color="#000000", logo_file_id=logo.id),
        )
    )
    document, layout, assets = world.renderer.renders[-1]
    assert isinstance(document, StatementDocument) and layout.primary_color == "#000000"
    assert assets["logo"].data == PNG
    assert file.status is FileStatus.TEMPORARY and world.store.templates_of(acme.tenant_id) == []
    assert world.store.files[logo.id].links == []  # a preview links nothing

    with refused(world, "INVALID_COLOR", "secondaryColor"):
        world.bus.handle(
            PreviewPdfTemplate(actor=acme, document_type="INVOICE", template=PdfTemplateInput(secondary_color="#FFF"))
        )
    with refused(world, "TEMPLATE_INVALID", "customBodyTemplate"):
        world.bus.handle(
            PreviewPdfTemplate(
                actor=acme, document_type="INVOICE", template=PdfTemplateInput(custom_body_template="{% for x in y %}")
            )
        )
    theirs = world.file(globex, GIF)
    with refused(world, "NOT_FOUND", "logoFileId"):
        world.bus.handle(
            PreviewPdfTemplate(actor=acme, document_type="INVOICE", template=PdfTemplateInput(logo_file_id=theirs.id))
        )


def test_a_preview_needs_exactly_one_template_of_its_type(world: World, acme: Actor) -> None:
    template = world.template(acme)
    with refused(world, "INVALID_INPUT", "templateId"):
        world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="INVOICE"))
    with refused(world, "INVALID_INPUT", "templateId"):
        world.bus.handle(
            PreviewPdfTemplate(actor=acme, document_type="INVOICE", template_id=template.id, template=design())
        )
    with refused(world, "WRONG_DOCUMENT_TYPE", "templateId"):
        world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="QUOTE", template_id=template.id))
    with refused(world, "INVALID_INPUT", "documentType"):
        world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="FACTURA", template_id=template.id))


def test_previews_share_the_files_dedupe(world: World, acme: Actor) -> None:
    template = world.template(acme)
    first = world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="INVOICE", template_id=template.id))
    world.clock.advance(timedelta(hours=1))
    again = world.bus.handle(PreviewPdfTemplate(actor=acme, document_type="INVOICE", template_id=template.id))
    assert again.id == first.id and again.expires_at == NOON + timedelta(hours=1) + POLICY.tmp_file_ttl
    assert len(world.store.files) == 1 and len(world.storage.blobs) == 1
    assert blob_key(acme.tenant_id, first.sha256) in world.storage.blobs
    assert dataclasses.replace(again, expires_at=first.expires_at) == first
