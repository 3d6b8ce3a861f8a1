"""Issue 18, cent-exact documents: whatever the lines, every printed column adds up to its total.

What the renderer prints comes from ``application.pdf.mapping`` (it never recomputes): the
property runs invoices and quotes from the domain through their views into the documents, and
checks the printed values, as the formatted text a reader would add up, against the totals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pdf import formatting
from application.invoicing.handlers import invoice_view, quote_view
from application.pdf.documents import InvoiceDocument, Party, QuoteDocument
from application.pdf.mapping import invoice_document, quote_document
from domain.invoicing.clients import BillTo
from domain.invoicing.invoices import Invoice
from domain.invoicing.lines import ITBMS_RATES, LineInput
from domain.invoicing.quotes import Quote
from domain.invoicing.values import Currency

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ISSUED = date(2026, 11, 1)
ISSUER = Party(name="Emisor, S.A.")


@st.composite
def lines(draw: st.DrawFn) -> list[LineInput]:
    found = []
    for index in range(draw(st.integers(min_value=1, max_value=12))):
        quantity = Decimal(draw(st.integers(min_value=1, max_value=10**7))).scaleb(-4)
        price = Decimal(draw(st.integers(min_value=0, max_value=10**8))).scaleb(-4)
        gross_cents = int(quantity * price * 100)
        discount = Decimal(draw(st.integers(min_value=0, max_value=gross_cents))).scaleb(-2)
        found.append(
            LineInput(
                description=f"line {index}", quantity=quantity, unit_price=price, discount=discount,
                tax_rate=draw(st.sampled_from(ITBMS_RATES)),
            )
        )
    return found


def printed(value: Decimal) -> Decimal:
    """The amount as the document prints it, read back."""
    return Decimal(formatting.number(value).replace(",", ""))


def check_columns(document: InvoiceDocument | QuoteDocument) -> None:
    assert sum((printed(line.tax) for line in document.lines), Decimal(0)) == printed(document.tax_total)
    assert sum((printed(line.total) for line in document.lines), Decimal(0)) == printed(document.total)
    assert sum((printed(line.subtotal) for line in document.lines), Decimal(0)) == printed(
        document.subtotal - document.discount_total
    )
    assert sum((printed(t.tax) for t in document.taxes), Decimal(0)) == printed(document.tax_total)
    assert sum((printed(t.base) for t in document.taxes), Decimal(0)) == printed(
        document.subtotal - document.discount_total
    )
    for line in document.lines:
        assert line.total == line.subtotal + line.tax


@settings(deadline=None)  # a shared machine: a slow example is not a failure
@given(lines())
def test_an_invoice_prints_line_itbms_and_line_totals_that_add_up_to_its_totals(inputs: list[LineInput]) -> None:
    invoice = Invoice.create(
        tenant_id="t-1", number="F-000001", bill_to=BillTo.ad_hoc(name="Cliente"), issue_date=ISSUED,
        due_date=ISSUED, currency=Currency.USD, lines=inputs, created_by="u", now=NOW,
    )
    check_columns(invoice_document(invoice_view(invoice, ISSUED), issuer=ISSUER))


@settings(deadline=None)
@given(lines())
def test_a_quote_prints_line_itbms_and_line_totals_that_add_up_to_its_totals(inputs: list[LineInput]) -> None:
    quote = Quote.create(
        tenant_id="t-1", number="COT-000001", bill_to=BillTo.ad_hoc(name="Cliente"), issue_date=ISSUED,
        valid_until=ISSUED, currency=Currency.USD, lines=inputs, created_by="u", now=NOW,
    )
    check_columns(quote_document(quote_view(quote, ISSUED), issuer=ISSUER))


def test_the_sample_documents_of_previews_add_up_too() -> None:
    from application.pdf.documents import sample_invoice, sample_quote

    for document in (sample_invoice(lines=25), sample_quote(lines=25)):
        check_columns(document)
