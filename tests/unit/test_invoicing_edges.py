"""Invoicing edges the mutation run found unpinned (issue 20, ``make mutate``): every text limit
exactly at its length and one past it, refused naming its field; tax rates as text and decimals;
a line's amount exactly at the maximum; RUC, DV and document numbers that are not text; surrogates
cleaned like control characters; and what the PAC's authorisation details do to an invoice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from domain.invoicing.clients import (
    MAX_AD_HOC_EMAILS,
    MAX_CONTACTS,
    BillTo,
    Client,
    ClientDetails,
    ClientUpdated,
    ContactInput,
    TaxpayerType,
    parse_phone,
    parse_ruc_and_dv,
)
from domain.invoicing.errors import InvalidAmount, InvalidDv, InvalidRuc, InvalidTaxRate
from domain.invoicing.invoices import Invoice, InvoiceLegalStatusChanged, LegalStatus
from domain.invoicing.lines import LineInput, parse_lines, parse_tax_rate
from domain.invoicing.values import (
    MAX_AMOUNT,
    MAX_RUC_LENGTH,
    Currency,
    parse_document_number,
    parse_dv,
    parse_money,
    parse_ruc,
    parse_text,
)
from domain.shared.channels import DeliveryChannel
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
DAY = date(2026, 12, 7)


def refused(call: Callable[[], object], field: str, error: type[Exception] = InvalidInput) -> None:
    with pytest.raises(error) as caught:
        call()
    assert getattr(caught.value, "field", None) == field, f"{caught.value!r} names {getattr(caught.value, 'field', None)}"


# --- values ---------------------------------------------------------------------------------------


def test_a_ruc_of_exactly_30_characters_passes_and_31_is_refused() -> None:
    assert parse_ruc("8" * MAX_RUC_LENGTH) == "8" * MAX_RUC_LENGTH
    refused(lambda: parse_ruc("8" * (MAX_RUC_LENGTH + 1)), "ruc", InvalidRuc)


@pytest.mark.parametrize("value", [None, 8123456, ["8-123-456"]])
def test_a_ruc_a_dv_or_a_number_that_is_not_text_is_refused_naming_its_field(value: object) -> None:
    refused(lambda: parse_ruc(value), "ruc", InvalidRuc)
    refused(lambda: parse_dv(value), "dv", InvalidDv)
    refused(lambda: parse_document_number(value), "number")


def test_parse_text_refuses_what_is_not_text_naming_the_field() -> None:
    refused(lambda: parse_text(42, field="address", max_length=10), "address")


def test_a_lone_surrogate_is_cleaned_like_a_control_character() -> None:
    assert parse_text("Ferre\ud800tería", field="name", max_length=50) == "Ferre tería"
    assert parse_text("línea\ud800\nsegunda", field="d", max_length=50, multiline=True) == "línea \nsegunda"


@pytest.mark.parametrize("value", [1.5, object(), [1]])
def test_an_amount_of_another_type_is_refused_naming_its_field(value: object) -> None:
    refused(lambda: parse_money(value, field="lines[3].discount"), "lines[3].discount", InvalidAmount)


def test_an_amount_over_the_maximum_names_its_field() -> None:
    refused(lambda: parse_money("10000000000000", field="amount"), "amount", InvalidAmount)


# --- lines ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("given, rate", [("7", 7), (" 15 ", 15), ("10.0", 10), (Decimal(0), 0), (Decimal("7.00"), 7)])
def test_a_tax_rate_given_as_text_or_decimal_is_read(given: object, rate: int) -> None:
    assert parse_tax_rate(given, field="taxRate") == rate


@pytest.mark.parametrize("given", ["7.5", "NaN", "Infinity", "siete", False, True, 7.0, "8"])
def test_a_tax_rate_that_is_not_an_itbms_percentage_is_refused(given: object) -> None:
    refused(lambda: parse_tax_rate(given, field="lines[0].taxRate"), "lines[0].taxRate", InvalidTaxRate)


def test_a_line_without_a_discount_has_none() -> None:
    [line] = parse_lines([LineInput(description="Tornillo", quantity="1", unit_price="2", tax_rate=0, discount=None)])
    assert line.discount == Decimal("0.00")


def test_a_line_of_exactly_the_maximum_amount_passes_and_one_a_little_over_is_refused() -> None:
    # 2,700 × 3,703,703,703.7037 = 9,999,999,999,999.99 exactly
    [line] = parse_lines([LineInput(description="Obra", quantity="2700", unit_price="3703703703.7037", tax_rate=0)])
    assert line.quantity * line.unit_price == MAX_AMOUNT
    refused(lambda: parse_lines([LineInput(description="Obra", quantity="2700", unit_price="3703703703.7038",
                                           tax_rate=0)]), "lines[0].quantity", InvalidAmount)


# --- clients --------------------------------------------------------------------------------------


def contact(**kw: object) -> ContactInput:
    return ContactInput(**{"name": "Ana", **kw})  # type: ignore[arg-type]


def details() -> ClientDetails:
    return ClientDetails.parse(name="Ferretería El Sol", ruc="155596713-2-2015", dv="59",
                               taxpayer_type="JURIDICO", address=None)


@pytest.mark.parametrize(
    "make, limit, field",
    [
        (lambda text: contact(name=text), 200, "contacts[0].name"),
        (lambda text: contact(role=text), 100, "contacts[0].role"),
    ],
)
def test_each_contact_field_at_its_limit_passes_and_one_more_character_is_refused(
    make: Callable[[str], ContactInput], limit: int, field: str
) -> None:
    client = Client.create(tenant_id="t", details=details(), contacts=[make("a" * limit)], now=NOW)
    assert client.contacts[0].tenant_id == "t" and client.contacts[0].client_id == client.id
    refused(lambda: Client.create(tenant_id="t", details=details(), contacts=[make("a" * (limit + 1))], now=NOW), field)


def test_a_phone_of_exactly_40_characters_passes_and_41_is_refused() -> None:
    assert parse_phone("+" + "5" * 39, field="phone") == "+" + "5" * 39
    refused(lambda: parse_phone("+" + "5" * 40, field="phone"), "phone")


def test_exactly_20_contacts_pass_and_21_are_refused() -> None:
    client = Client.create(tenant_id="t", details=details(), contacts=[contact()] * MAX_CONTACTS, now=NOW)
    assert len(client.contacts) == MAX_CONTACTS
    refused(lambda: Client.create(tenant_id="t", details=details(), contacts=[contact()] * (MAX_CONTACTS + 1),
                                  now=NOW), "contacts")


def test_an_update_keeps_the_contacts_in_the_clients_tenant_and_records_it() -> None:
    client = Client.create(tenant_id="t", details=details(), now=NOW)
    client.pull_events()
    client.update(details=details(), contacts=[contact(name="Luis")], now=NOW)
    assert [(c.tenant_id, c.client_id, c.name) for c in client.contacts] == [("t", client.id, "Luis")]
    assert client.pull_events() == [ClientUpdated(tenant_id="t", client_id=client.id)]


def test_setting_the_default_channel_is_recorded() -> None:
    client = Client.create(tenant_id="t", details=details(), now=NOW)
    client.pull_events()
    later = datetime(2026, 12, 8, tzinfo=UTC)
    client.set_default_channel(DeliveryChannel.WHATSAPP, now=later)
    assert (client.default_channel, client.updated_at) == (DeliveryChannel.WHATSAPP, later)
    assert client.pull_events() == [ClientUpdated(tenant_id="t", client_id=client.id)]


def test_an_ad_hoc_party_takes_exactly_10_addresses_and_200_characters_of_name() -> None:
    emails = [f"c{n}@example.com" for n in range(MAX_AD_HOC_EMAILS)]
    assert len(BillTo.ad_hoc(name="a" * 200, emails=emails).emails) == MAX_AD_HOC_EMAILS
    refused(lambda: BillTo.ad_hoc(name="Cliente", emails=[*emails, "otro@example.com"]), "adHocEmails")
    refused(lambda: BillTo.ad_hoc(name="a" * 201), "clientName")


def test_a_blank_ruc_or_dv_counts_as_none() -> None:
    assert parse_ruc_and_dv("  ", "  ", TaxpayerType.CONSUMIDOR_FINAL) == (None, None)
    assert parse_ruc_and_dv(" 8-123-456 ", " ", TaxpayerType.CONSUMIDOR_FINAL) == ("8-123-456", None)
    refused(lambda: parse_ruc_and_dv(" ", "12", TaxpayerType.CONSUMIDOR_FINAL), "dv", InvalidDv)
    refused(lambda: parse_ruc_and_dv("8-123-456", "  ", TaxpayerType.NATURAL), "dv", InvalidDv)


# --- the PAC's word on an invoice ---------------------------------------------------------------


def invoice(status: LegalStatus | None = None) -> Invoice:
    document = Invoice.create(
        tenant_id="t", number="F-000001", bill_to=BillTo.ad_hoc(name="Cliente"), issue_date=DAY, due_date=DAY,
        currency=Currency.USD, lines=[LineInput(description="Servicio", quantity="1", unit_price="10", tax_rate=7)],
        created_by="u", now=NOW,
    )
    if status is not None:
        document.apply_legal_status(status)
    document.pull_events()
    return document


@pytest.mark.parametrize("status", [LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED])
def test_an_authorised_invoice_keeps_the_authorisation_details_once(status: LegalStatus) -> None:
    document = invoice(status)
    assert document.record_authorization(cufe="FE01", qr_url="HTTPS://dgi.gob.pa/qr?c=FE01",
                                         authorization_protocol="P-1", authorized_at=NOW) is True
    assert (document.cufe, document.qr_url, document.authorization_protocol, document.authorized_at) == (
        "FE01", "HTTPS://dgi.gob.pa/qr?c=FE01", "P-1", NOW)
    assert document.legal_status == status and document.pull_events() == []
    assert document.record_authorization(cufe="FE01", authorized_at=NOW) is False  # the same again
    assert document.record_authorization() is False  # nothing given erases nothing
    assert document.cufe == "FE01"
    assert document.record_authorization(authorization_protocol="P-2") is True
    assert (document.authorization_protocol, document.cufe) == ("P-2", "FE01")


@pytest.mark.parametrize("status", [None, LegalStatus.PAC_REJECTED, LegalStatus.DGI_REJECTED])
def test_an_invoice_not_authorised_keeps_no_authorisation_details(status: LegalStatus | None) -> None:
    document = invoice(status)
    assert document.record_authorization(cufe="FE01", qr_url="https://dgi/qr", authorized_at=NOW) is False
    assert (document.cufe, document.qr_url, document.authorized_at) == (None, None, None)


@pytest.mark.parametrize("record", ["record_authorization", "apply_legal_status"])
def test_authorisation_details_at_their_limits_pass_and_one_more_is_refused_naming_the_field(record: str) -> None:
    def call(document: Invoice, **kw: object) -> object:
        if record == "apply_legal_status":
            return document.apply_legal_status(LegalStatus.DGI_AUTHORIZED, **kw)  # type: ignore[arg-type]
        return document.record_authorization(**kw)  # type: ignore[arg-type]

    status = LegalStatus.PAC_AUTHORIZED if record == "record_authorization" else None
    url = "https://dgi.gob.pa/" + "q" * (2048 - len("https://dgi.gob.pa/"))
    assert call(invoice(status), cufe="c" * 128, authorization_protocol="p" * 128, qr_url=url) is True
    refused(lambda: call(invoice(status), cufe="c" * 129), "cufe")
    refused(lambda: call(invoice(status), authorization_protocol="p" * 129), "authorizationProtocol")
    refused(lambda: call(invoice(status), qr_url=url + "q"), "qrUrl")
    refused(lambda: call(invoice(status), qr_url="ftp://dgi.gob.pa/qr"), "qrUrl")
    refused(lambda: call(invoice(status), authorized_at=datetime(2026, 12, 7)), "authorizedAt")
    assert call(invoice(status), qr_url="http://dgi.gob.pa/qr") is True


def test_a_legal_status_notice_keeps_its_limits_and_says_what_moved() -> None:
    document = invoice()
    assert document.apply_legal_status(LegalStatus.PAC_AUTHORIZED, pac_document_id="d" * 128,
                                       message="línea 1\nlínea 2" + "m" * 1985) is True
    assert document.legal_message is not None and "\n" in document.legal_message
    assert document.pull_events() == [InvoiceLegalStatusChanged(
        tenant_id="t", invoice_id=document.id, previous=LegalStatus.NONE, status=LegalStatus.PAC_AUTHORIZED)]
    refused(lambda: invoice().apply_legal_status(LegalStatus.PAC_AUTHORIZED, pac_document_id="d" * 129), "pacDocumentId")
    refused(lambda: invoice().apply_legal_status(LegalStatus.PAC_AUTHORIZED, message="m" * 2001), "legalMessage")
    refused(lambda: invoice().apply_legal_status("AUTORIZADA"), "legalStatus")


def test_an_invoices_lines_and_payments_belong_to_it_and_its_tenant() -> None:
    document = invoice()
    [line] = document.lines
    assert (line.tenant_id, line.invoice_id, line.description) == ("t", document.id, "Servicio") and line.id
    payment = document.register_payment(amount="1.00", paid_on=DAY, method="CASH", now=NOW)
    assert (payment.tenant_id, payment.invoice_id, payment.created_at) == ("t", document.id, NOW) and payment.id
    assert document.payments == [payment]


def test_a_notice_keeps_its_link_and_protocol_on_the_invoice() -> None:
    document = invoice()
    assert document.apply_legal_status(LegalStatus.DGI_AUTHORIZED, cufe="FE01", qr_url="https://dgi.gob.pa/qr",
                                       authorization_protocol="P-9", authorized_at=NOW) is True
    assert (document.cufe, document.qr_url, document.authorization_protocol, document.authorized_at) == (
        "FE01", "https://dgi.gob.pa/qr", "P-9", NOW)


def test_a_client_update_replaces_the_address_and_contacts_get_ids() -> None:
    client = Client.create(tenant_id="t", details=details(), contacts=[contact(), contact(name="Luis")], now=NOW)
    assert all(c.id for c in client.contacts) and len({c.id for c in client.contacts}) == 2
    moved = ClientDetails.parse(name="Ferretería El Sol", ruc="155596713-2-2015", dv="59", taxpayer_type="JURIDICO",
                                address="Calle 50\nPanamá")
    client.update(details=moved, contacts=[], now=NOW)
    assert client.address == "Calle 50\nPanamá" and client.contacts == []
