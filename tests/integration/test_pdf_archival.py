"""Issue 18: invoices, quotes, credit notes and statements are archival, accessible PDFs.

Each is rendered once (module scope) by the real renderer, on the path ``ISTMO_PDF_ACCELERATOR``
asks for (``make test`` runs this module again with the accelerator off), and checked with the
validators Debian has: ``qpdf --check`` (structure and streams), ``pdfinfo`` (tagged), the XMP
metadata (PDF/A-3, conformance B, consistent with the info dictionary), the PDF/A rules that can
be read off the file (sRGB output intent, file identifier, every font embedded, no interpolated
image), and the reading order of ``pdftotext -raw``, which follows the content streams: labels
before their values, in the order of the document. A report stays a plain PDF.
qpdf and poppler-utils are installed by ``make test`` as root; each test says so when one is missing.
"""

from __future__ import annotations

import io
import logging
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from application.pdf.documents import (
    DocumentType,
    PdfAsset,
    PdfLayout,
    sample_document,
    sample_invoice,
    sample_statement,
)
from tests.integration.test_pdf_render import LOGO, accelerator_wanted

LAYOUT = PdfLayout(header_text="Ferretería El Istmo — documentos", footer_text="Conserve este documento.")
STATEMENT = sample_statement(entries=70)  # two pages
ENGLISH_INVOICE = sample_invoice(authorized=False, currency="PAB")


def rgba_png(width: int = 40, height: int = 20) -> bytes:
    """A logo with an alpha channel: WeasyPrint draws it as an image and its soft mask."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"".join(bytes((16, 96, 160, x * 6)) for x in range(width)) for _ in range(height))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            chunk(b"IDAT", zlib.compress(raw)),
            chunk(b"IEND", b""),
        )
    )


TRANSLUCENT_LOGO = {"logo": PdfAsset(name="logo.png", mime="image/png", data=rgba_png())}
ARCHIVAL = ("INVOICE", "QUOTE", "CREDIT_NOTE", "STATEMENT")
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"
DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install {package}, as root; make test does)")
    return found


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """One PDF per type, written to files for the command-line tools: the sample documents (the
    invoice authorised by the DGI, with its QR code), with a logo; the statement on two pages; an
    unauthorised invoice in balboas, in English. The quote's logo is translucent."""
    folder = tmp_path_factory.mktemp("archival")
    settings = RendererSettings(processes=1, timeout=60, accelerator=accelerator_wanted())
    documents = {name: (sample_document(DocumentType(name)), LAYOUT) for name in (*ARCHIVAL, "REPORT")}
    documents["STATEMENT"] = (STATEMENT, LAYOUT)
    documents["INVOICE_EN"] = (ENGLISH_INVOICE, replace(LAYOUT, locale="en"))
    with WeasyPrintPdfRenderer(settings) as renderer:
        renderer.start()
        paths = {}
        for name, (document, layout) in documents.items():
            path = folder / f"{name.lower()}.pdf"
            path.write_bytes(renderer.render(document, layout, TRANSLUCENT_LOGO if name == "QUOTE" else LOGO))
            paths[name] = path
        yield paths


@pytest.mark.parametrize("name", ARCHIVAL)
def test_qpdf_finds_no_error_nor_warning(pdfs: dict[str, Path], name: str) -> None:
    checked = run(tool("qpdf", "qpdf"), "--check", str(pdfs[name]))
    assert checked.returncode == 0, checked.stdout + checked.stderr  # 2: errors, 3: warnings
    assert "No syntax or stream encoding errors found" in checked.stdout


def pdfinfo(path: Path) -> dict[str, str]:
    out = run(tool("pdfinfo", "poppler-utils"), str(path)).stdout
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


@pytest.mark.parametrize("name", ARCHIVAL)
def test_tagged_pdf_1_7_with_a_metadata_stream(pdfs: dict[str, Path], name: str) -> None:
    info = pdfinfo(pdfs[name])
    assert (info["Tagged"], info["Metadata Stream"], info["PDF version"]) == ("yes", "yes", "1.7")


def test_a_report_stays_a_plain_pdf(pdfs: dict[str, Path]) -> None:
    info = pdfinfo(pdfs["REPORT"])
    assert (info["Tagged"], info["Metadata Stream"]) == ("no", "no")


def xmp_of(reader: PdfReader) -> ET.Element:
    return ET.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())


@pytest.mark.parametrize("name", ARCHIVAL)
def test_xmp_says_pdf_a_3b_and_agrees_with_the_info_dictionary(pdfs: dict[str, Path], name: str) -> None:
    reader = PdfReader(io.BytesIO(pdfs[name].read_bytes()))
    xmp = xmp_of(reader)
    identified = [d for d in xmp.iter(f"{RDF}Description") if f"{PDFAID}part" in d.attrib]
    assert len(identified) == 1
    assert identified[0].attrib[f"{PDFAID}part"] == "3"
    assert identified[0].attrib[f"{PDFAID}conformance"] == "B"
    info = reader.metadata
    assert info is not None and info.title
    titles = [li.text for title in xmp.iter(f"{DC}title") for li in title.iter(f"{RDF}li")]
    assert titles == [info.title]
    creators = [li.text for seq in xmp.iter(f"{DC}creator") for li in seq.iter(f"{RDF}li")]
    assert creators == [info.author]


def images(reader: PdfReader) -> list[DictionaryObject]:
    """Every image XObject of the file, wherever it is drawn (pages, patterns of backgrounds)."""
    found = []
    for number in range(1, int(reader.trailer["/Size"])):
        item = reader.get_object(number)
        if isinstance(item, DictionaryObject) and item.get("/Subtype") == "/Image":
            found.append(item)
    return found


@pytest.mark.parametrize("name", ARCHIVAL)
def test_the_pdf_a_rules_that_can_be_read_off_the_file(pdfs: dict[str, Path], name: str) -> None:
    reader = PdfReader(io.BytesIO(pdfs[name].read_bytes()))
    root = reader.trailer["/Root"]
    (intent,) = root["/OutputIntents"]
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert len(reader.trailer["/ID"]) == 2
    fonts = run(tool("pdffonts", "poppler-utils"), str(pdfs[name])).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    drawn = images(reader)
    # the logo (which WeasyPrint would interpolate) and the rows' stripes; the quote's logo's mask
    assert len(drawn) >= (3 if name == "QUOTE" else 2)
    assert [image.get("/Interpolate") for image in drawn] == [False] * len(drawn)  # PDF/A forbids true


def raw_lines(path: Path) -> list[str]:
    out = run(tool("pdftotext", "poppler-utils"), "-raw", str(path), "-").stdout
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


def assert_in_order(lines: list[str], expected: list[str]) -> None:
    """Each expected text is found in a line after the previous one's line."""
    at = -1
    for text in expected:
        found = next((i for i in range(at + 1, len(lines)) if text in lines[i]), None)
        assert found is not None, f"{text!r} not found after line {at} ({lines[at] if at >= 0 else ''!r}): {lines}"
        at = found


def money(value: object) -> str:
    return f"${value:,.2f}"


def test_invoice_reads_in_the_order_of_the_document(pdfs: dict[str, Path]) -> None:
    invoice = sample_invoice()
    assert_in_order(
        raw_lines(pdfs["INVOICE"]),
        [
            "Ferretería El Istmo, S.A.", "RUC 155612345-2-2021 DV 45", "FACTURA", "No. FE-0000001234",
            "Fecha de emisión: 24/11/2024", "Cliente", "Constructora Las Cumbres, S.A.",
            "Descripción Cant. Precio unit.", "Cemento gris 42.5 kg 1 3.00 7% 0.21 3.21", "Resumen de ITBMS",
            f"Subtotal {money(invoice.subtotal)}", f"Descuentos {money(invoice.discount_total)}",
            f"Total ITBMS {money(invoice.tax_total)}", f"Total {money(invoice.total)}",
            f"Pagado {money(invoice.paid)}", f"Saldo {money(invoice.balance)}",
            "Factura electrónica autorizada por la DGI", f"CUFE: {invoice.cufe}", "Página 1 de 1",
        ],
    )


def test_quote_reads_in_the_order_of_the_document(pdfs: dict[str, Path]) -> None:
    quote = sample_document(DocumentType.QUOTE)
    assert_in_order(
        raw_lines(pdfs["QUOTE"]),
        [
            "Ferretería El Istmo, S.A.", "COTIZACIÓN", "No. COT-000045", "Válida hasta: 09/12/2024", "Cliente",
            "Constructora Las Cumbres, S.A.", "Descripción", "Resumen de ITBMS",
            "Notas: Precios sujetos a disponibilidad.", f"Subtotal {money(quote.subtotal)}",
            f"Total ITBMS {money(quote.tax_total)}", f"Total {money(quote.total)}",
        ],
    )


def test_credit_note_reads_in_the_order_of_the_document(pdfs: dict[str, Path]) -> None:
    note = sample_document(DocumentType.CREDIT_NOTE)
    assert_in_order(
        raw_lines(pdfs["CREDIT_NOTE"]),
        [
            "Ferretería El Istmo, S.A.", "NOTA DE CRÉDITO", "No. NC-000042", "Factura de referencia: F-001234",
            "Cliente", "Constructora Las Cumbres, S.A.", "Motivo Devolución de mercancía en mal estado",
            "DOCUMENTO NO FISCAL", "Descripción", "Resumen de ITBMS", f"Subtotal {money(note.subtotal)}",
            f"Total ITBMS {money(note.tax_total)}", f"Total {money(note.total)}",
        ],
    )


def test_statement_reads_in_the_order_of_the_document(pdfs: dict[str, Path]) -> None:
    statement = STATEMENT
    first, last = statement.entries[0], statement.entries[-1]
    assert_in_order(
        raw_lines(pdfs["STATEMENT"]),
        [
            "Ferretería El Istmo, S.A.", "ESTADO DE CUENTA", "Período: 01/01/2024 – 31/10/2024", "Cliente",
            "Constructora Las Cumbres, S.A.", "Saldo inicial Cargos Abonos Saldo final",
            money(statement.opening_balance), "Fecha Tipo Referencia Descripción Débito Crédito Saldo",
            f"01/01/2024 Factura {first.reference}", "Página 1 de 2",
            "Fecha Tipo Referencia Descripción Débito Crédito Saldo", f"{last.date:%d/%m/%Y} Factura {last.reference}",
            "Antigüedad de saldos al 31/10/2024", "Corriente 1 a 30 días", money(statement.ageing.current),
            "Página 2 de 2",
        ],
    )


def test_an_english_invoice_in_balboas_reads_labels_before_amounts(pdfs: dict[str, Path]) -> None:
    invoice = ENGLISH_INVOICE
    assert_in_order(
        raw_lines(pdfs["INVOICE_EN"]),
        [
            "INVOICE", "Bill to", "NON-FISCAL DOCUMENT", f"Subtotal B/. {invoice.subtotal:,.2f}",
            f"Total ITBMS B/. {invoice.tax_total:,.2f}", f"Total B/. {invoice.total:,.2f}",
            f"Paid B/. {invoice.paid:,.2f}", f"Balance due B/. {invoice.balance:,.2f}", "Page 1 of 1",
        ],
    )
    assert pdfinfo(pdfs["INVOICE_EN"])["Tagged"] == "yes"


def test_a_sealed_invoice_keeps_its_seal_and_stops_claiming_pdf_a(pdfs: dict[str, Path]) -> None:
    """The sealer's revision writes in Helvetica, not embedded: the sealed file is no PDF/A and its
    XMP says nothing of it; the signed document, its first revision, is unchanged."""
    from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
    from application.signatures.ports import CertificateSigner, CompletionCertificate, Stamp
    from tests.integration.signatures_support import IDENTITY

    original = pdfs["INVOICE"].read_bytes()
    when = datetime(2024, 11, 25, 15, 30, tzinfo=UTC)
    certificate = CompletionCertificate(
        document_name="FE-0000001234", source_sha256="0" * 64, chain_seq=1, chain_head="0" * 64, completed_at=when,
        signers=(CertificateSigner(name="Ana Pérez", email=None, signed_at=when, ip=None),),
    )
    sealer = PyHankoDocumentSealer(IDENTITY)
    sealed = sealer.seal(original, [Stamp(signer="Ana Pérez", signed_at=when, typed_name="Ana Pérez")], certificate)
    check = sealer.verify(sealed)
    assert (check.intact, check.trusted) == (True, True)
    assert sealed.startswith(original)
    reader = PdfReader(io.BytesIO(sealed))
    assert len(reader.pages) == 2  # the invoice and the certificate page
    assert not [d for d in xmp_of(reader).iter(f"{RDF}Description") if f"{PDFAID}part" in d.attrib]


def test_an_image_without_alt_text_in_a_tenants_template_logs_no_error(caplog: pytest.LogCaptureFixture) -> None:
    from adapters.pdf.engine import PdfEngine

    layout = PdfLayout(custom_body_template='<p>{{ doc.number }}</p><img src="{{ logo }}">')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = PdfEngine().render(sample_invoice(lines=1), layout, LOGO)
    assert len(images(PdfReader(io.BytesIO(pdf)))) == 1
    assert [record.getMessage() for record in caplog.records if record.name.startswith("weasyprint")] == []
