"""The invoicing domain by example: events, the legal-status and quote state machines, values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.invoicing.clients import BillTo, Client, ClientCreated, ClientDetails, ClientUpdated, ContactInput
from domain.invoicing.errors import InvalidAmount, InvoiceIsFiscal, QuoteIsClosed
from domain.invoicing.invoices import (
    Invoice,
    InvoiceCreated,
    InvoiceLegalStatusChanged,
    InvoicePaymentRegistered,
    InvoiceVoided,
    LegalStatus,
    invoice_number,
)
from domain.invoicing.lines import LineInput
from domain.invoicing.quotes import Quote, QuoteCreated, QuoteStatus, QuoteStatusChanged, quote_number
from domain.invoicing.values import Currency, business_date, parse_money, parse_quantity
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
DAY = date(2026, 11, 24)
LINE = LineInput(description="Servicio", quantity="2", unit_price="50", tax_rate=7)


def invoice() -> Invoice:
    return Invoice.create(
        tenant_id="t",
        number="F-000001",
        bill_to=BillTo.ad_hoc(name="Cliente"),
        issue_date=DAY,
        due_date=DAY,
        currency=Currency.USD,
        lines=[LINE],
        created_by="u",
        now=NOW,
    )


def test_invoices_record_what_happened_to_them_in_the_past_tense() -> None:
    created = invoice()
    assert created.pull_events() == [
        InvoiceCreated(
            tenant_id="t", invoice_id=created.id, number="F-000001", client_id=None,
            currency=Currency.USD, total=Decimal("107.00"),
        )
    ]
    payment = created.register_payment(amount="7", paid_on=DAY, method="CASH", now=NOW)
    assert created.pull_events() == [
        InvoicePaymentRegistered(
            tenant_id="t", invoice_id=created.id, payment_id=payment.id, amount=Decimal("7.00"), balance=Decimal("100.00")
        )
    ]
    other = invoice()
    other.pull_events()
    assert other.void(now=NOW) is True
    assert other.void(now=NOW + timedelta(hours=1)) is False
    assert other.pull_events() == [InvoiceVoided(tenant_id="t", invoice_id=other.id)]
    assert other.voided_at == NOW


def test_clients_record_creation_and_updates() -> None:
    details = ClientDetails.parse(name="Ana", ruc="8-1-2", dv="3", taxpayer_type="NATURAL", address=None)
    client = Client.create(tenant_id="t", details=details, contacts=[ContactInput(name="Ana")], now=NOW)
    client.update(details=details, contacts=[], now=NOW)
    assert client.pull_events() == [
        ClientCreated(tenant_id="t", client_id=client.id),
        ClientUpdated(tenant_id="t", client_id=client.id),
    ]
    assert client.contacts == []


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        ([LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED], LegalStatus.DGI_AUTHORIZED),
        ([LegalStatus.DGI_AUTHORIZED, LegalStatus.PAC_AUTHORIZED], LegalStatus.DGI_AUTHORIZED),
        ([LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_REJECTED], LegalStatus.DGI_REJECTED),
        ([LegalStatus.PAC_AUTHORIZED, LegalStatus.PAC_REJECTED], LegalStatus.PAC_REJECTED),
        ([LegalStatus.PAC_REJECTED, LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED], LegalStatus.PAC_REJECTED),
        ([LegalStatus.DGI_AUTHORIZED, LegalStatus.DGI_REJECTED], LegalStatus.DGI_AUTHORIZED),
        ([LegalStatus.PAC_AUTHORIZED, LegalStatus.NONE], LegalStatus.PAC_AUTHORIZED),
    ],
)
def test_legal_status_moves_forward_only(sequence: list[LegalStatus], final: LegalStatus) -> None:
    document = invoice()
    for status in sequence:
        document.apply_legal_status(status)
    assert document.legal_status is final


def test_legal_status_keeps_the_fiscal_fields_of_the_notice_that_moved_it() -> None:
    document = invoice()
    document.pull_events()
    authorized_at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    assert document.apply_legal_status("PAC_AUTHORIZED", pac_document_id="alanube-9") is True
    assert document.apply_legal_status(
        LegalStatus.DGI_AUTHORIZED,
        cufe="FE0120000155596713-2-2015-5900012026112400000000010010112345678",
        qr_url="https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE=FE01",
        authorization_protocol="20261124000001",
        authorized_at=authorized_at,
        message="Autorizado el uso de la FE",
    ) is True
    assert document.apply_legal_status(LegalStatus.PAC_AUTHORIZED, cufe="STALE") is False
    assert (document.legal_status, document.cufe[:6], document.pac_document_id, document.authorized_at) == (
        LegalStatus.DGI_AUTHORIZED,
        "FE0120",
        "alanube-9",
        authorized_at,
    )
    assert document.legal_message == "Autorizado el uso de la FE"
    assert [(e.previous, e.status) for e in document.pull_events() if isinstance(e, InvoiceLegalStatusChanged)] == [
        (LegalStatus.NONE, LegalStatus.PAC_AUTHORIZED),
        (LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED),
    ]
    with pytest.raises(InvalidInput):
        invoice().apply_legal_status("AUTHORIZED")
    with pytest.raises(InvalidInput) as error:
        invoice().apply_legal_status(LegalStatus.DGI_AUTHORIZED, qr_url="javascript:alert(1)")
    assert error.value.field == "qrUrl"


def test_quotes_move_draft_sent_accepted_or_rejected_and_expire() -> None:
    quote = Quote.create(
        tenant_id="t", number=quote_number(1), bill_to=BillTo.ad_hoc(name="X"), issue_date=DAY,
        valid_until=DAY + timedelta(days=10), currency=Currency.PAB, lines=[LINE], created_by=None, now=NOW,
    )
    assert quote.number == "COT-000001"
    assert quote.status_on(DAY + timedelta(days=10)) is QuoteStatus.DRAFT
    assert quote.status_on(DAY + timedelta(days=11)) is QuoteStatus.EXPIRED
    quote.mark_sent(today=DAY)
    quote.accept(today=DAY + timedelta(days=1))
    assert quote.status_on(DAY + timedelta(days=99)) is QuoteStatus.ACCEPTED, "an accepted quote does not expire"
    with pytest.raises(QuoteIsClosed):
        quote.reject(today=DAY)
    assert [type(e) for e in quote.pull_events()] == [QuoteCreated, QuoteStatusChanged, QuoteStatusChanged]
    late = Quote.create(
        tenant_id="t", number="Q", bill_to=BillTo.ad_hoc(name="X"), issue_date=DAY, valid_until=DAY,
        currency=Currency.USD, lines=[LINE], created_by=None, now=NOW,
    )
    with pytest.raises(QuoteIsClosed):
        late.accept(today=DAY + timedelta(days=1))


def test_values() -> None:
    assert invoice_number(1) == "F-000001" and invoice_number(1234567) == "F-1234567"
    assert business_date(datetime(2026, 1, 1, 4, 59, tzinfo=UTC)) == date(2025, 12, 31)
    assert business_date(datetime(2026, 1, 1, 5, 0, tzinfo=UTC)) == date(2026, 1, 1)
    assert format(parse_money("-0", field="a"), "f") == "0.00"
    assert format(parse_money(12, field="a"), "f") == "12.00"
    assert format(parse_quantity("1.5000", field="q"), "f") == "1.5000"
    for bad in ("1e400", "Infinity", "", True, 1.5, None, "9999999999999.995"):
        with pytest.raises(InvalidAmount):
            parse_money(bad, field="a")


@pytest.mark.parametrize("status", [LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED])
def test_an_authorised_invoice_cannot_be_voided(status: LegalStatus) -> None:
    authorised = invoice()
    authorised.apply_legal_status(status, cufe="FE0120000155612345")
    with pytest.raises(InvoiceIsFiscal) as refused:
        authorised.void(now=NOW)
    assert refused.value.field == "id" and "credit note" in refused.value.message
    assert authorised.voided_at is None


@pytest.mark.parametrize("status", [LegalStatus.PAC_REJECTED, LegalStatus.DGI_REJECTED])
def test_a_rejected_invoice_can_still_be_voided(status: LegalStatus) -> None:
    rejected = invoice()
    rejected.apply_legal_status(status)
    assert rejected.void(now=NOW) is True
