"""Issue 18 through the GraphQL API with the real renderer (WeasyPrint), on SQLite and PostgreSQL:
the fiscal profile, the issuer block on every document, credit notes (numbering, balance, PDF),
and the statement with its credit notes, descriptions and ageing date printed."""

from __future__ import annotations

from typing import Any

from tests.integration.test_api_pdf import (  # noqa: F401 - fixtures
    RENDER_INVOICE,
    RENDER_QUOTE,
    acme,
    api,
    clock,
    create_client,
    create_invoice,
    globex,
    ok,
    pdf_of,
    refused,
    run,
    text_of,
)


def flat_text(pdf: bytes) -> str:
    """The PDF's text with its line breaks (wrapping) as spaces."""
    return " ".join(text_of(pdf).split())

PROFILE = """legalName tradeName taxpayerType ruc dv address province phone email website paymentTermsDays
  paymentInstructions currency updatedAt"""
GET_PROFILE = f"query {{ tenantProfile {{ profile {{ {PROFILE} }} error {{ code message field }} }} }}"
UPDATE_PROFILE = f"""mutation($input: TenantProfileInput!) {{
  updateTenantProfile(input: $input) {{ profile {{ {PROFILE} }} error {{ code message field }} }} }}"""
NOTE = "id number invoiceId invoiceNumber reason total taxTotal lines { description tax total } legalStatus"
CREATE_NOTE = f"""mutation($input: CreateCreditNoteInput!) {{
  createCreditNote(input: $input) {{ creditNote {{ {NOTE} }} invoice {{ balance status }} error {{ code message field }} }} }}"""
NOTES = f"query($invoiceId: ID) {{ creditNotes(invoiceId: $invoiceId) {{ creditNotes {{ {NOTE} }} error {{ code }} }} }}"
FILE = "file { id name sha256 entities { entityType entityId } } error { code message field }"
RENDER_NOTE = f"mutation($id: ID!) {{ renderCreditNotePdf(creditNoteId: $id) {{ {FILE} }} }}"
RENDER_STATEMENT = f"""mutation($clientId: ID!, $from: Date!, $to: Date!, $asOf: Date) {{
  renderStatementPdf(clientId: $clientId, from: $from, to: $to, asOf: $asOf) {{ {FILE} }} }}"""
STATEMENT = """query($clientId: ID!, $from: Date!, $to: Date!) { clientStatement(clientId: $clientId, from: $from, to: $to) {
  statement { asOf closingBalance entries { kind documentNumber description credit } } error { code } } }"""

INPUT = {
    "legalName": "Ferretería El Istmo, S.A.", "tradeName": "El Istmo", "taxpayerType": "JURIDICO",
    "ruc": "155612345-2-2021", "dv": "45", "address": "Vía España, Torre Sol, Local 3", "province": "PANAMA",
    "phone": "+507 264-0000", "email": "facturas@elistmo.com.pa", "website": "www.elistmo.com.pa",
    "paymentTermsDays": 30, "paymentInstructions": "Banco General 03-01-01-123456-7", "currency": "USD",
}


def test_the_profile_is_saved_read_back_and_printed_on_every_document(api: Any, acme: dict[str, str]) -> None:
    assert run(api, acme, GET_PROFILE, "tenantProfile") == {"profile": None, "error": None}
    client = create_client(api, acme)
    invoice = create_invoice(api, acme, client)
    before = flat_text(pdf_of(api, "acme", ok(api, acme, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])["file"]))
    assert "Perfil fiscal del emisor incompleto, falta: razón social, RUC, DV, dirección" in before

    saved = ok(api, acme, UPDATE_PROFILE, "updateTenantProfile", input=INPUT)["profile"]
    assert (saved["legalName"], saved["province"], saved["taxpayerType"]) == (INPUT["legalName"], "PANAMA", "JURIDICO")
    assert ok(api, acme, GET_PROFILE, "tenantProfile")["profile"] == saved

    invoice = create_invoice(api, acme, client)  # due in 30 days now, by the profile's terms
    note = ok(api, acme, CREATE_NOTE, "createCreditNote", input={
        "invoiceId": invoice["id"], "reason": "Devolución de 2 sacos", "lines": [
            {"description": "Cemento gris 42.5 kg", "quantity": "2", "unitPrice": "8.50", "taxRate": 7},
        ],
    })
    texts = [
        flat_text(pdf_of(api, "acme", ok(api, acme, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])["file"])),
        flat_text(pdf_of(api, "acme", ok(api, acme, RENDER_NOTE, "renderCreditNotePdf", id=note["creditNote"]["id"])["file"])),
        flat_text(pdf_of(api, "acme", ok(
            api, acme, RENDER_STATEMENT, "renderStatementPdf", clientId=client["id"], **{"from": "2026-11-01", "to": "2026-11-30"},
        )["file"])),
    ]
    for text in texts:
        assert "Ferretería El Istmo, S.A." in text and "RUC 155612345-2-2021 DV 45" in text
        assert "Vía España, Torre Sol, Local 3, Panamá" in text and "www.elistmo.com.pa" in text
        assert "incompleto" not in text
    assert "Banco General 03-01-01-123456-7" in texts[0]
    assert "NOTA DE CRÉDITO" in texts[1] and f"Factura de referencia: {invoice['number']}" in texts[1]
    assert "Devolución de 2 sacos" in texts[1]


def test_bad_profiles_are_refused_naming_the_field(api: Any, acme: dict[str, str], globex: dict[str, str]) -> None:
    error = run(api, acme, UPDATE_PROFILE, "updateTenantProfile", input={**INPUT, "dv": "123"})["error"]
    assert (error["code"], error["field"]) == ("INVALID_DV", "dv")
    error = run(api, acme, UPDATE_PROFILE, "updateTenantProfile", input={**INPUT, "taxpayerType": "CONSUMIDOR_FINAL"})["error"]
    assert error["field"] == "taxpayerType"
    assert run(api, acme, GET_PROFILE, "tenantProfile")["profile"] is None
    ok(api, acme, UPDATE_PROFILE, "updateTenantProfile", input=INPUT)
    assert run(api, globex, GET_PROFILE, "tenantProfile")["profile"] is None  # each tenant its own


def test_credit_notes_reduce_the_balance_and_show_on_the_statement(api: Any, acme: dict[str, str], globex: dict[str, str]) -> None:
    client = create_client(api, acme)
    invoice = create_invoice(api, acme, client)  # 3,090.95
    created = ok(api, acme, CREATE_NOTE, "createCreditNote", input={
        "invoiceId": invoice["id"], "reason": "Precio corregido",
        "lines": [{"description": "Ajuste de precio", "quantity": "1", "unitPrice": "100", "taxRate": 0}],
    })
    assert created["creditNote"]["number"] == "NC-000001" and created["creditNote"]["total"] == "100.00"
    assert created["invoice"]["balance"] == "2990.95"
    too_much = run(api, acme, CREATE_NOTE, "createCreditNote", input={"invoiceId": invoice["id"], "reason": "x", "full": True})
    assert (too_much["error"]["code"], too_much["error"]["field"]) == ("CREDIT_EXCEEDS_BALANCE", "lines")
    other = run(api, globex, CREATE_NOTE, "createCreditNote", input={"invoiceId": invoice["id"], "reason": "x", "full": True})
    assert other["error"]["code"] == "NOT_FOUND"
    assert [n["number"] for n in ok(api, acme, NOTES, "creditNotes", invoiceId=invoice["id"])["creditNotes"]] == ["NC-000001"]
    assert ok(api, globex, NOTES, "creditNotes")["creditNotes"] == []

    statement = ok(api, acme, STATEMENT, "clientStatement", clientId=client["id"], **{"from": "2026-11-01", "to": "2026-11-30"})["statement"]
    assert statement["asOf"] == "2026-11-24"
    assert [(e["kind"], e["documentNumber"], e["description"], e["credit"]) for e in statement["entries"]] == [
        ("INVOICE", invoice["number"], "Cemento gris 42.5 kg", "0.00"),
        ("CREDIT_NOTE", "NC-000001", "Precio corregido", "100.00"),
    ]
    file = ok(api, acme, RENDER_STATEMENT, "renderStatementPdf", clientId=client["id"], asOf="2026-11-30",
              **{"from": "2026-11-01", "to": "2026-11-30"})["file"]
    text = flat_text(pdf_of(api, "acme", file))
    assert "Antigüedad de saldos al 30/11/2026" in text
    assert "NC-000001" in text and "Precio corregido" in text and "Cemento gris 42.5 kg" in text


def test_new_invoices_and_quotes_take_the_profiles_currency_unless_they_name_one(
    api: Any, acme: dict[str, str]
) -> None:
    create = """mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) {
      invoice { id currency } error { code message field } } }"""
    quote = """mutation($q: CreateQuoteInput!) { createQuote(input: $q) { quote { currency } error { code message field } } }"""
    lines = [{"description": "Cemento gris 42.5 kg", "quantity": "1", "unitPrice": "8.50", "taxRate": 7}]
    document = {"clientName": "Ana Pérez", "lines": lines}
    assert ok(api, acme, create, "createInvoice", i=document)["invoice"]["currency"] == "USD"  # no profile yet
    ok(api, acme, UPDATE_PROFILE, "updateTenantProfile", input={**INPUT, "currency": "PAB"})

    invoice = ok(api, acme, create, "createInvoice", i=document)["invoice"]
    assert invoice["currency"] == "PAB"
    assert ok(api, acme, create, "createInvoice", i={**document, "currency": None})["invoice"]["currency"] == "PAB"
    assert ok(api, acme, create, "createInvoice", i={**document, "currency": "USD"})["invoice"]["currency"] == "USD"
    assert ok(api, acme, quote, "createQuote", q=document)["quote"]["currency"] == "PAB"
    assert ok(api, acme, quote, "createQuote", q={**document, "currency": "USD"})["quote"]["currency"] == "USD"
    note = ok(api, acme, CREATE_NOTE, "createCreditNote", input={"invoiceId": invoice["id"], "full": True, "reason": "x"})
    assert note["invoice"]["balance"] == "0.00"
    assert ok(api, acme, "query($id: ID!) { getCreditNoteById(id: $id) { creditNote { currency } error { code } } }",
              "getCreditNoteById", id=note["creditNote"]["id"])["creditNote"]["currency"] == "PAB"
    for wrong in ("", "EUR"):
        refused(api, acme, create, "createInvoice", "INVALID_INPUT", "currency", i={**document, "currency": wrong})
