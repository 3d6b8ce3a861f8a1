"""Issue 18: every document prints the issuer from the tenant's fiscal profile; without one, the
document says what is missing; previews use the real profile where it exists."""

from __future__ import annotations

from datetime import date

import pytest

from application.invoicing.commands import CreateQuote
from application.invoicing.profiles import UpdateTenantProfile
from application.pdf.commands import PreviewPdfTemplate, RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.pdf.documents import SAMPLE_ISSUER
from domain.invoicing.lines import LineInput
from domain.tenancy.model import Actor
from tests.unit.test_fiscal_profile import PROFILE
from tests.unit.test_pdf_handlers import World, design


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def render_all(world: World, actor: Actor) -> list[object]:
    client = world.client(actor)
    invoice = world.invoice(actor, client)
    quote = world.bus.handle(
        CreateQuote(actor=actor, client_id=client.id, lines=(LineInput(description="x", quantity="1", unit_price="5", tax_rate=7),))
    )
    world.bus.handle(RenderInvoicePdf(actor=actor, invoice_id=invoice.id))
    world.bus.handle(RenderQuotePdf(actor=actor, quote_id=quote.id))
    world.bus.handle(
        RenderStatementPdf(actor=actor, client_id=client.id, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30))
    )
    return [document for document, _layout, _assets in world.renderer.renders[-3:]]


def test_without_a_profile_every_document_says_what_is_missing(world: World, acme: Actor) -> None:
    for document in render_all(world, acme):
        issuer = document.issuer  # type: ignore[attr-defined]
        assert (issuer.name, issuer.ruc, issuer.missing) == ("Acme, S.A.", "", ("legalName", "ruc", "dv", "address"))


def test_with_a_profile_every_document_prints_it(world: World, acme: Actor) -> None:
    world.bus.handle(UpdateTenantProfile(actor=acme, **PROFILE))
    documents = render_all(world, acme)
    for document in documents:
        issuer = document.issuer  # type: ignore[attr-defined]
        assert (issuer.name, issuer.ruc, issuer.dv, issuer.missing) == (
            "Ferretería El Istmo, S.A.", "155612345-2-2021", "45", (),
        )
        assert issuer.address == "Vía España, Torre Sol, Local 3, Panamá"
        assert (issuer.email, issuer.phone, issuer.website) == (
            "facturas@elistmo.com.pa", "+507 264-0000", "www.elistmo.com.pa",
        )
    assert documents[0].notes == PROFILE["payment_instructions"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("document_type", ["INVOICE", "CREDIT_NOTE", "QUOTE", "STATEMENT", "REPORT"])
def test_previews_use_the_real_profile_where_it_exists_else_panamanian_sample_data(
    world: World, acme: Actor, document_type: str
) -> None:
    preview = PreviewPdfTemplate(actor=acme, document_type=document_type, template=design())
    world.bus.handle(preview)
    assert world.renderer.renders[-1][0].issuer == SAMPLE_ISSUER  # type: ignore[union-attr]
    world.bus.handle(UpdateTenantProfile(actor=acme, **PROFILE))
    world.bus.handle(preview)
    assert world.renderer.renders[-1][0].issuer.name == "Ferretería El Istmo, S.A."  # type: ignore[union-attr]
