"""Issue 18, typography, checked on the PDFs WeasyPrint draws: line items, totals and the
statement's ledger are set in the document's typeface (DejaVu Sans, no monospaced font), their
amounts end on one vertical line (to a quarter of a point), and the ledger spans the full width."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from adapters.pdf.engine import PdfEngine
from application.pdf.documents import (
    DEFAULT_LAYOUT,
    DocumentLine,
    sample_invoice,
    sample_statement,
)

CONTENT_RIGHT = 595.2756 - 14 * 72 / 25.4  # A4 minus the right page margin


@pytest.fixture(scope="module")
def engine() -> PdfEngine:
    return PdfEngine()


def fonts(pdf: bytes) -> set[str]:
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            found.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return found


PADDED = set("\u2007\u2005\u2009\u2006\u200a")


def amount_edges(pdf: bytes, *, currency: bool = True) -> list[float]:
    """Right edges (loose boxes: the glyphs' advances) of the last character of every table row
    (a line padded with figure and fine spaces) that ends with a digit; without the rows of
    amounts with a currency symbol unless ``currency``."""
    page = pdfium.PdfDocument(pdf)[0]
    text_page = page.get_textpage()
    text = text_page.get_text_range()
    edges = []
    for index, char in enumerate(text):
        if char.isdigit() and (index + 1 == len(text) or text[index + 1] in "\r\n"):
            start = text.rfind("\n", 0, index) + 1
            if PADDED & set(text[start:index]) and (currency or "$" not in text[start:index]):
                edges.append(text_page.get_charbox(index, loose=True)[2])
    return edges


def test_line_items_use_the_documents_typeface_and_their_totals_line_up(engine: PdfEngine) -> None:
    invoice = sample_invoice(lines=12, authorized=False)
    wide = DocumentLine(
        description="Descripción larga " * 12, quantity=Decimal("1234.5"), unit_price=Decimal("1.1111"),
        discount=Decimal("0.00"), tax_rate=Decimal(7), subtotal=Decimal("1371.67"), tax=Decimal("96.02"),
        total=Decimal("1467.69"),
    )
    pdf = engine.render(replace(invoice, lines=(*invoice.lines, wide)), DEFAULT_LAYOUT, {})
    assert fonts(pdf) == {"DejaVu-Sans", "DejaVu-Sans-Bold"}  # no DejaVu Sans Mono left
    edges = amount_edges(pdf)
    assert len(edges) == 13 + 5  # every line, and subtotal, discounts, ITBMS, paid and balance
    assert max(edges) - min(edges) <= 0.25
    assert CONTENT_RIGHT - 4 <= min(edges) and max(edges) <= CONTENT_RIGHT
    text = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "Total $10," in text  # the grand total's label is drawn (and read) before its amount


def test_the_statement_ledger_spans_the_width_and_its_balances_line_up(engine: PdfEngine) -> None:
    pdf = engine.render(sample_statement(entries=60), DEFAULT_LAYOUT, {})
    assert fonts(pdf) == {"DejaVu-Sans", "DejaVu-Sans-Bold"}
    balances = [edge for edge in amount_edges(pdf, currency=False) if edge > CONTENT_RIGHT - 20]
    assert len(balances) >= 38  # the opening balance and each entry of the first page
    assert max(balances) - min(balances) <= 0.15
    assert CONTENT_RIGHT - 4 <= min(balances) and max(balances) <= CONTENT_RIGHT
