"""Supplier invoices through document intake: the DGI's XML, a PDF or photo with its QR (the PDF
made by the project's own renderer and QR code), and the AI extraction of a receipt without one."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from PIL import Image

from adapters.intake.dgi_xml import DgiXmlStrategy
from adapters.pdf.html import qr_png
from application.intake.ports import IntakeContext, IntakeLimits
from application.invoicing.profiles import UpdateTenantProfile
from application.pdf.documents import PdfLayout, sample_invoice
from application.purchases.commands import (
    ConfirmSupplierInvoice,
    FindSupplierInvoices,
    FindSuppliers,
    GetSupplierInvoice,
    RecordSupplierInvoice,
)
from domain.intake.model import IntakeStatus
from domain.purchases.invoices import InvoiceLine, InvoiceSource, InvoiceStatus, ParsedInvoice, cufe_parts
from domain.shared.errors import DomainError
from domain.shared.model import new_id
from tests.intake_documents import (
    COMPANY_PROFILE,
    COMPANY_RUC,
    SUPPLIER_DV,
    SUPPLIER_RUC,
    broken_cufe,
    cufe,
    dgi_qr_url,
    dgi_xml,
)
from tests.integration.intake_support import FakeDgiLookup, FakeExtraction, IntakeWorld

LAYOUT = PdfLayout(primary_color="#0B5394", secondary_color="#6FA8DC", header_text="Proveedor", footer_text="Gracias")


@pytest.fixture
def make_world(make_service: Callable[..., Any]) -> Callable[..., IntakeWorld]:
    def make(**kw: Any) -> IntakeWorld:
        return IntakeWorld(make_service(), **kw)

    return make


@pytest.fixture
def world(make_world: Callable[..., IntakeWorld]) -> IntakeWorld:
    return make_world()


def company(world: IntakeWorld, slug: str = "acme") -> Any:
    actor = world.tenant(slug)
    world.handle(UpdateTenantProfile(actor=actor, **COMPANY_PROFILE))
    return actor


def invoice_of(world: IntakeWorld, actor: Any, view: Any) -> Any:
    [invoice_id] = [r.id for r in view.records if r.type == "SUPPLIER_INVOICE"]
    return world.handle(GetSupplierInvoice(actor=actor, invoice_id=invoice_id))


def test_an_authorised_dgi_xml_becomes_a_confirmed_invoice_with_its_supplier(world: IntakeWorld) -> None:
    acme = company(world)
    view = world.ingest(acme, dgi_xml(number="77"), name="factura.xml")
    assert (view.status, view.strategy, view.reasons) == (IntakeStatus.PARSED, "dgi-xml", ())
    invoice = invoice_of(world, acme, view)
    assert (invoice.status, invoice.source, invoice.cufe) == (InvoiceStatus.CONFIRMED, InvoiceSource.XML, cufe(number="77"))
    assert (invoice.subtotal, invoice.itbms_total, invoice.total) == (Decimal("150.00"), Decimal("7.00"), Decimal("157.00"))
    assert invoice.itbms_by_rate == {"7": Decimal("7.00"), "0": Decimal("0.00")}
    assert set(invoice.checked) == {"cufe", "supplierRuc", "itbmsRates", "totals", "receiverRuc"}
    assert (invoice.number, invoice.issue_date, invoice.document_type) == ("001-0000000077", date(2026, 11, 20), "INVOICE")
    [supplier] = world.handle(FindSuppliers(actor=acme)).items
    assert (supplier.name, supplier.ruc, supplier.dv, invoice.supplier_id) == (
        "Materiales del Istmo, S.A.", SUPPLIER_RUC, SUPPLIER_DV, supplier.id
    )


def test_a_credit_note_without_the_envelope_and_a_second_invoice_share_one_supplier(world: IntakeWorld) -> None:
    acme = company(world)
    note = world.ingest(acme, dgi_xml(number="5", doc="04", envelope=False))
    other = world.ingest(acme, dgi_xml(number="6"))
    assert invoice_of(world, acme, note).document_type == "CREDIT_NOTE"
    assert note.status is other.status is IntakeStatus.PARSED
    assert len(world.handle(FindSuppliers(actor=acme)).items) == 1


def test_the_same_cufe_twice_is_a_duplicate_pointing_at_the_first(world: IntakeWorld) -> None:
    acme = company(world)
    first = world.ingest(acme, dgi_xml(number="9"))
    again = world.ingest(acme, dgi_xml(number="9", envelope=False))
    assert again.status is IntakeStatus.DUPLICATE
    assert again.records == first.records
    assert len(world.handle(FindSupplierInvoices(actor=acme)).items) == 1


def test_a_broken_cufe_and_totals_that_do_not_add_up_leave_a_draft_for_review(world: IntakeWorld) -> None:
    acme = company(world)
    view = world.ingest(acme, dgi_xml(cufe_value=broken_cufe(cufe()), total_override="160.00"))
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert "the CUFE's check digit is wrong" in view.reasons
    assert "the total 160.00 is not 150.00 plus ITBMS 7.00" in view.reasons
    invoice = invoice_of(world, acme, view)
    assert invoice.status is InvoiceStatus.DRAFT
    assert "cufe" not in invoice.checked and "totals" not in invoice.checked


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (cufe()[:-1], "the CUFE has 65 characters, not 66"),
        (cufe() + "0", "the CUFE has 67 characters, not 66"),
        (cufe()[:30] + "٣" + cufe()[31:], "the CUFE holds characters other than ASCII"),
    ],
    ids=["one-short", "one-long", "unicode-digit"],
)
def test_a_cufe_of_the_wrong_length_or_with_unicode_digits_is_named(world: IntakeWorld, value: str, reason: str) -> None:
    acme = company(world)
    view = world.ingest(acme, dgi_xml(cufe_value=value))
    assert view.status is IntakeStatus.NEEDS_REVIEW and reason in view.reasons


def test_an_invoice_addressed_to_another_ruc_is_for_review(world: IntakeWorld) -> None:
    acme = company(world)
    view = world.ingest(acme, dgi_xml(receiver="8-999-9999"))
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert view.reasons == (f"the invoice is addressed to RUC 8-999-9999, not to the company's {COMPANY_RUC}",)


def test_without_the_tenants_fiscal_profile_the_receiver_cannot_be_checked(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    view = world.ingest(acme, dgi_xml())
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert view.reasons == (
        "the tenant's fiscal profile (updateTenantProfile) is not saved, so the receiver's RUC could not be checked",
    )


def test_a_draft_is_confirmed_with_corrections_and_refused_while_they_do_not_add_up(world: IntakeWorld) -> None:
    acme = company(world)
    view = world.ingest(acme, dgi_xml(total_override="160.00"))
    invoice = invoice_of(world, acme, view)
    with pytest.raises(DomainError) as refused:
        world.handle(ConfirmSupplierInvoice(actor=acme, invoice_id=invoice.id, corrections={"total": "158.00"}))
    assert refused.value.field == "corrections" and "158.00 is not 150.00 plus ITBMS 7.00" in refused.value.message
    assert world.handle(GetSupplierInvoice(actor=acme, invoice_id=invoice.id)).status is InvoiceStatus.DRAFT
    done = world.handle(ConfirmSupplierInvoice(actor=acme, invoice_id=invoice.id, corrections={"total": "157.00"}))
    assert (done.status, done.total) == (InvoiceStatus.CONFIRMED, Decimal("157.00"))
    with pytest.raises(DomainError) as twice:
        world.handle(ConfirmSupplierInvoice(actor=acme, invoice_id=invoice.id))
    assert twice.value.code == "SUPPLIER_INVOICE_ALREADY_CONFIRMED"


def test_another_tenants_invoice_is_not_found(world: IntakeWorld) -> None:
    acme, globex = company(world), world.tenant("globex")
    invoice = invoice_of(world, acme, world.ingest(acme, dgi_xml()))
    for message in (
        GetSupplierInvoice(actor=globex, invoice_id=invoice.id),
        ConfirmSupplierInvoice(actor=globex, invoice_id=invoice.id),
    ):
        with pytest.raises(DomainError) as hidden:
            world.handle(message)
        assert hidden.value.code == "SUPPLIER_INVOICE_NOT_FOUND"
    assert world.handle(FindSupplierInvoices(actor=globex)).items == ()
    # the same CUFE in another tenant is that tenant's own invoice, not a duplicate
    assert world.ingest(globex, dgi_xml()).status is IntakeStatus.NEEDS_REVIEW


# --- PDF and images: the DGI QR ------------------------------------------------------------


def looked_up(value: str) -> ParsedInvoice:
    line = InvoiceLine(description="Cemento", quantity=Decimal(10), unit_price=Decimal(10), amount=Decimal("100.00"),
                       itbms_rate=Decimal(7), itbms=Decimal("7.00"))
    return ParsedInvoice(
        source=InvoiceSource.QR, supplier_name="Materiales del Istmo, S.A.", supplier_ruc=SUPPLIER_RUC,
        supplier_dv=SUPPLIER_DV, receiver_ruc=COMPANY_RUC, number="001-0000000123", cufe=value, document_type="INVOICE",
        issue_date=date(2026, 11, 20), lines=(line,), subtotal=Decimal("100.00"), itbms_total=Decimal("7.00"),
        total=Decimal("107.00"),
    )


@pytest.fixture(scope="module")
def qr_pdf(weasyprint_renderer: Any) -> bytes:
    """A supplier's invoice PDF as Istmo itself renders one: its DGI QR drawn by the project's QR code."""
    document = replace(sample_invoice(lines=3), cufe=cufe(), qr_url=dgi_qr_url(cufe()))
    return weasyprint_renderer.render(document, LAYOUT, {})


def test_a_pdf_with_a_dgi_qr_is_completed_by_the_dgi_lookup(make_world: Callable[..., IntakeWorld], qr_pdf: bytes) -> None:
    dgi = FakeDgiLookup({cufe(): looked_up(cufe())})
    world = make_world(dgi=dgi)
    acme = company(world)
    view = world.ingest(acme, qr_pdf, name="factura.pdf")
    assert (view.status, view.strategy, view.reasons) == (IntakeStatus.PARSED, "dgi-qr", ())
    assert dgi.asked == [cufe()]
    invoice = invoice_of(world, acme, view)
    assert (invoice.source, invoice.cufe, invoice.total, invoice.status) == (
        InvoiceSource.QR, cufe(), Decimal("107.00"), InvoiceStatus.CONFIRMED
    )


def test_a_qr_the_lookup_does_not_know_leaves_a_draft_with_what_the_cufe_carries(
    make_world: Callable[..., IntakeWorld],
) -> None:
    world = make_world(dgi=FakeDgiLookup())
    acme = company(world)
    big = Image.open(io.BytesIO(qr_png(dgi_qr_url(cufe(number="42"))))).resize((400, 400), Image.Resampling.NEAREST)
    photo = io.BytesIO()
    big.convert("RGB").save(photo, "JPEG", quality=90)
    view = world.ingest(acme, photo.getvalue(), name="foto.jpg")
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert view.reasons[0] == "the DGI lookup found no invoice for the CUFE: the QR gave the CUFE only; complete the draft"
    invoice = invoice_of(world, acme, view)
    assert (invoice.supplier_ruc, invoice.number, invoice.issue_date, invoice.total) == (
        SUPPLIER_RUC, "001-0000000042", date(2026, 11, 20), None
    )


def test_invoices_of_a_new_supplier_recorded_at_once_share_one_supplier(world: IntakeWorld) -> None:
    acme = company(world)
    parse = DgiXmlStrategy(IntakeLimits()).parse
    commands = [
        RecordSupplierInvoice(actor=None, intake_id=new_id(), file_id=new_id(),
                              invoice=parse(dgi_xml(number=str(n)), IntakeContext()))  # type: ignore[arg-type]
        for n in range(1, 5)
    ]
    barrier = threading.Barrier(len(commands))
    outcomes: list[Any] = [None] * len(commands)

    def record(index: int) -> None:
        barrier.wait(30)
        try:
            outcomes[index] = world.bus.handle(commands[index], tenant_id=acme.tenant_id)
        except Exception as error:  # noqa: BLE001 - reported to the test as an outcome
            outcomes[index] = error

    threads = [threading.Thread(target=record, args=(i,), daemon=True) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [type(o).__name__ for o in outcomes] == ["RecordedInvoice"] * len(commands)
    [supplier] = world.handle(FindSuppliers(actor=acme)).items
    invoices = [world.handle(GetSupplierInvoice(actor=acme, invoice_id=o.invoice_id)) for o in outcomes]
    assert {invoice.supplier_id for invoice in invoices} == {supplier.id}


def test_as_deployed_no_dgi_lookup_answers_and_the_qr_leaves_a_draft_saying_so(world: IntakeWorld, qr_pdf: bytes) -> None:
    acme = company(world)  # the container's own DGI lookup: PROVIDERS.md documents no service to ask
    view = world.ingest(acme, qr_pdf, name="factura.pdf")
    assert (view.status, view.strategy) == (IntakeStatus.NEEDS_REVIEW, "dgi-qr")
    assert view.reasons[0] == (
        "the DGI lookup is not available (Istmo has no service to consult the DGI by CUFE; check the invoice on "
        "the DGI's page): the QR gave the CUFE only; complete the draft"
    )
    invoice = invoice_of(world, acme, view)
    assert (invoice.cufe, invoice.supplier_ruc, invoice.issue_date, invoice.total, invoice.status) == (
        cufe(), SUPPLIER_RUC, cufe_parts(cufe()).issue_date, None, InvoiceStatus.DRAFT
    )


def test_a_qr_with_a_broken_cufe_is_not_looked_up(make_world: Callable[..., IntakeWorld]) -> None:
    dgi = FakeDgiLookup()
    world = make_world(dgi=dgi)
    acme = company(world)
    good = cufe(number="43")
    broken = good[:-1] + str((int(good[-1]) + 1) % 10)
    big = Image.open(io.BytesIO(qr_png(dgi_qr_url(broken)))).resize((400, 400), Image.Resampling.NEAREST)
    photo = io.BytesIO()
    big.save(photo, "PNG")
    view = world.ingest(acme, photo.getvalue(), name="qr.png")
    assert view.status is IntakeStatus.NEEDS_REVIEW and dgi.asked == []
    assert view.reasons[0] == "the QR's CUFE is not valid, so the DGI was not asked: the QR gave the CUFE only; complete the draft"


def test_a_truncated_pdf_fails_naming_it(world: IntakeWorld, qr_pdf: bytes) -> None:
    acme = company(world)
    view = world.ingest(acme, qr_pdf[: len(qr_pdf) // 3])
    assert view.status is IntakeStatus.FAILED
    assert "the PDF cannot be opened (truncated or damaged)" in view.reasons[0]


# --- the AI extraction ---------------------------------------------------------------------

RECEIPT_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj " \
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"

EXTRACTED = {
    "supplierName": "Fonda La Esquina", "supplierRuc": "8-765-4321", "supplierDv": "33", "number": "A-0099",
    "issueDate": "2026-11-28", "cufe": None,
    "lines": [{"description": "Almuerzo", "quantity": "2", "unitPrice": "5.00", "amount": "10.00", "itbmsRate": "7",
               "itbms": "0.70"}],
    "subtotal": "10.00", "itbmsTotal": "0.70", "total": "10.70",
}


def test_a_receipt_without_qr_is_read_by_the_assistant_into_a_checked_draft(make_world: Callable[..., IntakeWorld]) -> None:
    extraction = FakeExtraction(data=EXTRACTED)
    world = make_world(extraction=extraction)
    acme = company(world)
    view = world.ingest(acme, RECEIPT_PDF, name="recibo.pdf")
    assert (view.status, view.strategy) == (IntakeStatus.PARSED, "ai-extraction")
    [request] = extraction.requests
    assert request.json_schema["additionalProperties"] is False and request.schema_name == "supplier_invoice"
    invoice = invoice_of(world, acme, view)
    assert (invoice.status, invoice.source, invoice.total) == (InvoiceStatus.DRAFT, InvoiceSource.AI, Decimal("10.70"))
    assert set(invoice.checked) == {"supplierRuc", "itbmsRates", "totals"}  # no CUFE, no receiver: not marked


def test_an_extraction_that_does_not_add_up_is_a_draft_listing_what_failed(make_world: Callable[..., IntakeWorld]) -> None:
    wrong = {**EXTRACTED, "total": "11.70", "lines": [{**EXTRACTED["lines"][0], "itbmsRate": "12", "itbms": "1.20"}]}  # type: ignore[index]
    world = make_world(extraction=FakeExtraction(data=wrong))
    acme = company(world)
    view = world.ingest(acme, RECEIPT_PDF)
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert "line 1: ITBMS rate 12% is not 0, 7, 10 or 15 %" in view.reasons
    assert "the total 11.70 is not 10.00 plus ITBMS 0.70" in view.reasons
    assert invoice_of(world, acme, view).checked == ("supplierRuc",)


@pytest.mark.parametrize("unavailable", [True, False], ids=["provider-unavailable", "no-assistant-module"])
def test_without_the_assistant_the_receipt_waits_for_review(make_world: Callable[..., IntakeWorld], unavailable: bool) -> None:
    world = make_world(extraction=FakeExtraction(unavailable="no chat provider is configured") if unavailable else None)
    acme = company(world)
    view = world.ingest(acme, RECEIPT_PDF)
    assert (view.status, view.records) == (IntakeStatus.NEEDS_REVIEW, ())
    assert view.reasons[0] == "no DGI QR was found on the PDF's 1 page(s)"
    expected = (
        "the AI extraction is not available: no chat provider is configured" if unavailable
        else "the AI extraction is not available (no assistant module is installed)"
    )
    assert view.reasons[1] == expected
