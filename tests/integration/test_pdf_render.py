"""WeasyPrintPdfRenderer end to end: real worker processes, real WeasyPrint, text read back with pypdf.

One renderer (two warm workers) serves the whole module. ``make test`` runs this module, the
renderer contract and the security tests a second time with ``ISTMO_PDF_ACCELERATOR=off``: their
renderers take the accelerator switch from the environment, as the service does.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import pytest
from pypdf import PdfReader

from adapters.pdf.accelerated.modules import stale
from adapters.pdf.accelerated.releases import unknown_releases
from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from application.pdf.documents import (
    DocumentType,
    LegalStatus,
    PdfAsset,
    PdfLayout,
    sample_document,
    sample_invoice,
    sample_quote,
    sample_report,
    sample_statement,
)
from domain.pdf.errors import TemplateInvalid
from entrypoints.config import Settings

LAYOUT = PdfLayout(
    primary_color="#0B5394",
    secondary_color="#6FA8DC",
    header_text="Ferretería El Istmo — documentos electrónicos",
    footer_text="Gracias por preferirnos. Este documento se conserva por cinco años.",
)


def png(width: int = 60, height: int = 20) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x10\x60\xa0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


LOGO = {"logo": PdfAsset(name="logo.png", mime="image/png", data=png())}


def accelerator_wanted() -> bool:
    """``ISTMO_PDF_ACCELERATOR`` read as the service reads it."""
    switch = os.environ.get("ISTMO_PDF_ACCELERATOR", "")
    from entrypoints.containers.pdf import accelerator_wanted as wanted

    return wanted(Settings.from_env({"ISTMO_PDF_ACCELERATOR": switch}))


def deflate_level(pdf: bytes) -> int | None:
    """The zlib level the first page's content stream was deflated at: 9 is pydyf's (stock
    WeasyPrint), 6 the accelerator's."""
    raw = read(pdf).pages[0]["/Contents"].get_object()._data
    content = zlib.decompress(raw)
    return next((level for level in (6, 9) if zlib.compress(content, level) == raw), None)


@pytest.fixture(scope="module")
def renderer() -> Iterator[WeasyPrintPdfRenderer]:
    settings = RendererSettings(processes=2, timeout=60, accelerator=accelerator_wanted())
    with WeasyPrintPdfRenderer(settings) as renderer:
        renderer.start()
        yield renderer


def test_the_renderer_takes_the_path_the_switch_asks_for(renderer: WeasyPrintPdfRenderer) -> None:
    usable = accelerator_wanted() and not unknown_releases() and not stale()
    assert renderer.accelerated == usable
    pdf = renderer.render(sample_invoice(), LAYOUT, LOGO)
    assert deflate_level(pdf) == (6 if usable else 9)  # stock: pydyf's level, no patch installed


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in read(pdf).pages)


def flat(text: str) -> str:
    return "".join(text.split())


# --- invoices ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def authorized_invoice_text(renderer: WeasyPrintPdfRenderer) -> str:
    return text_of(renderer.render(sample_invoice(), LAYOUT, LOGO))


def test_invoice_shows_issuer_client_and_number(authorized_invoice_text: str) -> None:
    assert "FACTURA" in authorized_invoice_text
    assert "FE-0000001234" in authorized_invoice_text
    assert "Constructora Las Cumbres, S.A." in authorized_invoice_text
    assert "Ferretería El Istmo, S.A." in authorized_invoice_text
    assert "RUC 8-123-4567 DV 12" in authorized_invoice_text


def test_invoice_shows_lines_and_totals_in_dollars(authorized_invoice_text: str) -> None:
    invoice = sample_invoice()
    assert "Cemento gris 42.5 kg" in authorized_invoice_text
    assert "$10,388.83" in authorized_invoice_text  # subtotal (before discounts)
    assert "$142.41" in authorized_invoice_text  # discounts
    assert "$266.55" in authorized_invoice_text  # ITBMS: 7 % on goods, 0 % on the basic basket
    assert "$10,512.97" in authorized_invoice_text  # total
    assert f"${invoice.balance:,.2f}" in authorized_invoice_text
    assert "2,390.75" in authorized_invoice_text  # a line total
    assert "B/." not in authorized_invoice_text


def test_invoice_shows_a_tax_line_per_rate(authorized_invoice_text: str) -> None:
    for tax in sample_invoice().taxes:
        rate = f"{tax.rate.normalize():f}%"
        assert f"ITBMS {rate}: base ${tax.base:,.2f} · ITBMS ${tax.tax:,.2f}" in authorized_invoice_text


def test_authorized_invoice_shows_cufe_protocol_and_date(authorized_invoice_text: str) -> None:
    invoice = sample_invoice()
    assert invoice.legal_status == LegalStatus.DGI_AUTHORIZED and invoice.cufe
    assert invoice.cufe in flat(authorized_invoice_text)
    assert "Protocolo de autorización: 20240000000000012345" in authorized_invoice_text
    assert "Fecha de autorización: 24/11/2024 10:15" in authorized_invoice_text
    assert "DOCUMENTO NO FISCAL" not in authorized_invoice_text


def test_authorized_invoice_embeds_the_qr_code_and_the_logo(renderer: WeasyPrintPdfRenderer) -> None:
    page = read(renderer.render(sample_invoice(), LAYOUT, LOGO)).pages[0]
    sizes = sorted(image.image.size for image in page.images)
    qr_size = len(__import__("segno").make(sample_invoice().qr_url, error="m", micro=False).matrix) + 4
    assert sizes == sorted([(60, 20), (qr_size, qr_size)])


def test_unauthorized_invoice_shows_the_no_fiscal_legend(renderer: WeasyPrintPdfRenderer) -> None:
    text = text_of(renderer.render(sample_invoice(authorized=False), LAYOUT, {}))
    assert "DOCUMENTO NO FISCAL" in text
    assert "CUFE" not in text
    assert not read(renderer.render(sample_invoice(authorized=False), LAYOUT, {})).pages[0].images


@pytest.mark.parametrize(
    "status", [LegalStatus.PAC_AUTHORIZED, LegalStatus.PAC_REJECTED, LegalStatus.DGI_REJECTED]
)
def test_invoice_not_authorized_by_the_dgi_is_not_fiscal(
    renderer: WeasyPrintPdfRenderer, status: LegalStatus
) -> None:
    invoice = replace(sample_invoice(), legal_status=status)
    text = text_of(renderer.render(invoice, LAYOUT, {}))
    assert "DOCUMENTO NO FISCAL" in text
    assert "Protocolo de autorización" not in text


def test_header_footer_and_page_numbers(authorized_invoice_text: str) -> None:
    assert "Ferretería El Istmo — documentos electrónicos" in authorized_invoice_text
    assert "Gracias por preferirnos. Este documento se conserva por cinco años." in authorized_invoice_text
    assert "Página 1 de 1" in authorized_invoice_text


def test_dates_are_day_month_year_in_spanish(authorized_invoice_text: str) -> None:
    assert "Fecha de emisión: 24/11/2024" in authorized_invoice_text
    assert "Vencimiento: 24/12/2024" in authorized_invoice_text


def test_balboas_print_as_b_slash(renderer: WeasyPrintPdfRenderer) -> None:
    text = text_of(renderer.render(sample_invoice(currency="PAB"), LAYOUT, {}))
    assert "B/. 10,512.97" in text
    assert "B/. 10,388.83" in text
    assert "$" not in text


def test_english_labels(renderer: WeasyPrintPdfRenderer) -> None:
    layout = replace(LAYOUT, locale="en")
    text = text_of(renderer.render(sample_invoice(authorized=False), layout, {}))
    for label in (
        "INVOICE",
        "Bill to",
        "Issue date: Nov 24, 2024",
        "Balance due",
        "NON-FISCAL DOCUMENT",
        "Page 1 of 1",
        "Description",
        "Unit price",
    ):
        assert label in text
    assert "Página" not in text and "FACTURA" not in text


def test_credit_note_title(renderer: WeasyPrintPdfRenderer) -> None:
    text = text_of(renderer.render(sample_document(DocumentType.CREDIT_NOTE), LAYOUT, {}))
    assert "NOTA DE CRÉDITO" in text
    assert "NC-000042" in text
    assert "Factura de referencia: F-001234" in text and "Devolución de mercancía en mal estado" in text
    assert "Pagado" not in text  # nothing is owed on a credit note


def test_long_descriptions_wrap_and_stay_readable(renderer: WeasyPrintPdfRenderer) -> None:
    invoice = sample_invoice(lines=3)
    long_line = replace(invoice.lines[0], description="Servicio de instalación eléctrica completa " * 4)
    text = text_of(renderer.render(replace(invoice, lines=(long_line, *invoice.lines[1:])), LAYOUT, {}))
    assert "Servicio de instalación" in text
    assert "3.21" in text


def test_paper_sizes(renderer: WeasyPrintPdfRenderer) -> None:
    a4 = read(renderer.render(sample_invoice(), LAYOUT, {})).pages[0].mediabox
    letter = (
        read(renderer.render(sample_invoice(), replace(LAYOUT, paper_size="LETTER"), {})).pages[0].mediabox
    )
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)


def test_metadata_is_the_documents(renderer: WeasyPrintPdfRenderer) -> None:
    meta = read(renderer.render(sample_invoice(), LAYOUT, {})).metadata
    assert meta is not None
    assert meta.title == "FACTURA FE-0000001234"
    assert meta.author == "Ferretería El Istmo, S.A."
    assert str(meta.get("/CreationDate", "")).startswith("D:20241124")


# --- quotes, statements, reports --------------------------------------------------------------


def test_quote(renderer: WeasyPrintPdfRenderer) -> None:
    text = text_of(renderer.render(sample_quote(), LAYOUT, LOGO))
    assert "COTIZACIÓN" in text
    assert "COT-000045" in text
    assert "Válida hasta: 09/12/2024" in text
    assert "DOCUMENTO NO FISCAL" not in text
    quote = sample_quote()
    assert f"${quote.total:,.2f}" in text


def test_statement_shows_balances_entries_and_ageing(renderer: WeasyPrintPdfRenderer) -> None:
    statement = sample_statement(entries=30)
    text = text_of(renderer.render(statement, LAYOUT, {}))
    assert "ESTADO DE CUENTA" in text
    assert "Período: 01/01/2024 – 31/10/2024" in text
    assert "Constructora Las Cumbres, S.A." in text
    assert f"${statement.closing_balance:,.2f}" in text
    assert "FE-0000000000" in text and "REC-000029" in text
    assert "Antigüedad de saldos" in text
    for label in ("Corriente", "1 a 30 días", "31 a 60 días", "61 a 90 días", "Más de 90 días"):
        assert label in text
    assert "$850.50" in text and "$2,475.75" in text  # a bucket, and the ageing total


def test_long_statement_pages(renderer: WeasyPrintPdfRenderer) -> None:
    statement = sample_statement(entries=600)
    reader = read(renderer.render(statement, LAYOUT, {}))
    pages = len(reader.pages)
    assert pages > 5
    texts = [page.extract_text() for page in reader.pages]
    for number, text in enumerate(texts, start=1):
        assert f"Página {number} de {pages}" in text
        assert "Referencia" in text  # the column header is on every page
    everything = "\n".join(texts)
    for entry in statement.entries:
        assert entry.reference in everything
    assert "Antigüedad de saldos" in texts[-1]


def test_statement_in_english_and_balboas(renderer: WeasyPrintPdfRenderer) -> None:
    statement = sample_statement(entries=10, currency="PAB")
    text = text_of(renderer.render(statement, replace(LAYOUT, locale="en"), {}))
    assert "STATEMENT OF ACCOUNT" in text
    assert "Ageing" in text and "Over 90 days" in text
    assert f"B/. {statement.closing_balance:,.2f}" in text


def test_report(renderer: WeasyPrintPdfRenderer) -> None:
    report = sample_report(rows=25)
    text = text_of(renderer.render(report, LAYOUT, LOGO))
    assert "Ventas por cliente" in text
    assert "Del 01/01/2024 al 31/10/2024 · Generado el 24/11/2024" in text
    assert "Cliente 000" in text and "Cliente 024" in text
    assert report.totals is not None and report.totals[2] in text


# --- custom templates ---------------------------------------------------------------------------


def test_custom_body_template(renderer: WeasyPrintPdfRenderer) -> None:
    layout = replace(
        LAYOUT,
        custom_body_template=(
            "<h2>Factura {{ doc.number }} para {{ doc.client.name }}</h2>"
            "{% for line in doc.lines %}<p>{{ line.description }}: {{ line.total|money }}</p>{% endfor %}"
            "<p>Total a pagar {{ doc.total|money }}</p>"
        ),
        custom_css="h2 { color: #aa0000; font-size: 14pt }",
    )
    text = text_of(renderer.render(sample_invoice(lines=3), layout, {}))
    assert "Factura FE-0000001234 para Constructora Las Cumbres, S.A." in text
    assert "Cemento gris 42.5 kg: $3.21" in text
    assert "Total a pagar" in text
    assert "Página 1 de 1" in text  # the page frame stays


def test_custom_template_that_does_not_compile_names_the_line(renderer: WeasyPrintPdfRenderer) -> None:
    layout = replace(LAYOUT, custom_body_template="<p>ok</p>\n<p>{{ doc.number }</p>\n")
    with pytest.raises(TemplateInvalid) as error:
        renderer.render(sample_invoice(), layout, {})
    assert error.value.line == 2
    assert renderer.render(sample_invoice(lines=1), LAYOUT, {}).startswith(b"%PDF-")


# --- determinism ------------------------------------------------------------------------------


def test_two_renders_are_byte_identical(renderer: WeasyPrintPdfRenderer) -> None:
    first = renderer.render(sample_invoice(), LAYOUT, LOGO)
    second = renderer.render(sample_invoice(), LAYOUT, LOGO)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_renders_in_two_different_workers_are_byte_identical(renderer: WeasyPrintPdfRenderer) -> None:
    digests: dict[int, str] = {}
    for _ in range(12):
        job = renderer.render_job(sample_statement(entries=80), LAYOUT, LOGO)
        digests[job.pid] = hashlib.sha256(job.value).hexdigest()
        if len(digests) == 2:
            break
    assert len(digests) == 2, "the renders should have used both workers"
    assert len(set(digests.values())) == 1


def test_different_data_give_different_bytes(renderer: WeasyPrintPdfRenderer) -> None:
    invoice = sample_invoice()
    other = replace(invoice, total=invoice.total + Decimal("0.01"))
    assert renderer.render(invoice, LAYOUT, {}) != renderer.render(other, LAYOUT, {})
