"""``sendPdfWhatsapp`` and ``sendInvoice``: the rendered PDF uploaded as media (multipart), then a
document message inside the 24-hour window or a template with a document header outside it."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from pypdf import PdfReader

from tests.integration.whatsapp_support import *  # noqa: F403 - queries, Api and its fixtures
from tests.integration.whatsapp_support import SET_CHANNEL, Api
from tests.providers.server import provider_server  # noqa: F401 - fixture

ERROR = "error { code message field }"
MESSAGE = "id kind status fileId filename caption entityType entityId templateName errorCode wamid"
SEND_PDF = f"""mutation($t: String!, $id: ID!, $template: String, $params: [String!], $caption: String, $to: String) {{
  sendPdfWhatsapp(entityType: $t, entityId: $id, templateName: $template, parameters: $params, caption: $caption, to: $to) {{
    messages {{ {MESSAGE} }} {ERROR} }} }}"""
SEND_INVOICE = f"""mutation($id: ID!, $channel: String) {{
  sendInvoice(invoiceId: $id, channel: $channel) {{ channel whatsappMessages {{ {MESSAGE} }} {ERROR} }} }}"""
CREATE_INVOICE = """mutation($input: CreateInvoiceInput!) { createInvoice(input: $input) { invoice { id number } error { code } } }"""
REGISTER = f"""mutation($n: String!, $b: Int!, $d: Boolean) {{
  registerWhatsappTemplate(name: $n, language: "es", bodyParameters: $b, documentHeader: $d) {{ template {{ id }} {ERROR} }} }}"""


@pytest.fixture
def pdf(connected: Api, weasyprint_renderer: Any) -> Api:
    connected.service.container.pdf.pdf_renderer.override(providers.Object(weasyprint_renderer))
    return connected


def invoice(api: Api, client_id: str | None) -> dict[str, Any]:
    lines = [{"description": "Cemento gris 42.5 kg", "quantity": "10", "unitPrice": "8.50", "taxRate": 7}]
    given: dict[str, Any] = {"lines": lines}
    given |= {"clientId": client_id} if client_id else {"clientName": "Consumidor"}
    result = api.run(CREATE_INVOICE, "createInvoice", input=given)
    assert result["error"] is None
    return result["invoice"]


def test_inside_the_window_the_pdf_goes_as_a_document_message(pdf: Api) -> None:
    client = pdf.client()
    bill = invoice(pdf, client)
    pdf.inbound("50761234567")
    result = pdf.run(SEND_PDF, "sendPdfWhatsapp", t="INVOICE", id=bill["id"], caption="Su factura")
    assert result["error"] is None
    [message] = result["messages"]
    assert (message["kind"], message["filename"], message["entityId"]) == ("DOCUMENT", f"Factura {bill['number']}.pdf", bill["id"])
    pdf.jobs()
    assert pdf.message(message["id"])["status"] == "SENT"
    [upload] = pdf.graph.uploads()
    name, mime, content = upload.files["file"]
    assert (name, mime, content[:5]) == (f"Factura {bill['number']}.pdf", "application/pdf", b"%PDF-")
    assert upload.form == {"messaging_product": "whatsapp", "type": "application/pdf"}
    [sent] = pdf.graph.sent()
    assert sent.json()["type"] == "document"
    assert sent.json()["document"] == {"id": "media-1", "filename": f"Factura {bill['number']}.pdf", "caption": "Su factura"}


def test_outside_the_window_it_takes_a_template_with_a_document_header(pdf: Api) -> None:
    client = pdf.client()
    bill = invoice(pdf, client)
    closed = pdf.run(SEND_PDF, "sendPdfWhatsapp", t="INVOICE", id=bill["id"])
    assert (closed["error"]["code"], closed["error"]["field"]) == ("WINDOW_CLOSED", "template")
    assert pdf.count("whatsapp_messages") == 0 and pdf.count("files") == 0  # refused before rendering
    pdf.run(REGISTER, "registerWhatsappTemplate", n="factura_pdf", b=1, d=True)
    wrong = pdf.run(SEND_PDF, "sendPdfWhatsapp", t="INVOICE", id=bill["id"], template="factura_pdf")
    assert wrong["error"]["code"] == "TEMPLATE_PARAMETER_COUNT"
    [message] = pdf.run(SEND_PDF, "sendPdfWhatsapp", t="INVOICE", id=bill["id"], template="factura_pdf", params=["Ana"])["messages"]
    pdf.jobs()
    assert pdf.message(message["id"])["status"] == "SENT"
    body = pdf.graph.sent()[0].json()
    assert body["type"] == "template"
    assert body["template"]["components"] == [
        {"type": "header", "parameters": [{"type": "document", "document": {"id": "media-1", "filename": f"Factura {bill['number']}.pdf"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
    ]


def test_bad_pdf_requests_are_refused_naming_the_field(pdf: Api) -> None:
    client = pdf.client()
    bill = invoice(pdf, client)
    pdf.inbound("50761234567")
    cases = [
        (dict(t="INVOICE", id=bill["id"], caption="x" * 1025), "CAPTION_TOO_LONG", "caption"),
        (dict(t="FILE", id=bill["id"]), "INVALID_INPUT", "entityType"),
        (dict(t="INVOICE", id="00000000-0000-4000-8000-000000000000"), "NOT_FOUND", "entityId"),
        (dict(t="INVOICE", id=invoice(pdf, None)["id"]), "NO_RECIPIENTS", "to"),
    ]
    for variables, code, field in cases:
        result = pdf.run(SEND_PDF, "sendPdfWhatsapp", **variables)
        assert (result["error"]["code"], result["error"]["field"]) == (code, field), variables
    assert pdf.count("whatsapp_messages WHERE direction = 'OUTBOUND'") == 0


def test_send_invoice_uses_the_clients_default_channel(pdf: Api) -> None:
    client = pdf.client()
    bill = invoice(pdf, client)
    pdf.inbound("50761234567")
    pdf.run(SET_CHANNEL, "setClientDefaultChannel", c=client, ch="WHATSAPP")
    result = pdf.run(SEND_INVOICE, "sendInvoice", id=bill["id"])
    assert result["error"] is None and result["channel"] == "WHATSAPP"
    [message] = result["whatsappMessages"]
    pdf.jobs()
    assert pdf.message(message["id"])["status"] == "SENT"
    bad = pdf.run(SEND_INVOICE, "sendInvoice", id=bill["id"], channel="FAX")
    assert (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_INPUT", "channel")
    unknown = pdf.run(SEND_INVOICE, "sendInvoice", id="00000000-0000-4000-8000-000000000000")
    assert unknown["error"]["code"] == "NOT_FOUND"


SEND_STATEMENT = f"""mutation($c: ID!, $from: Date!, $to: Date!, $template: String, $params: [String!], $recipient: String) {{
  sendStatementWhatsapp(clientId: $c, from: $from, to: $to, templateName: $template, parameters: $params, recipient: $recipient) {{
    messages {{ {MESSAGE} }} {ERROR} }} }}"""


def test_a_statement_goes_to_the_clients_numbers_as_its_pdf(pdf: Api) -> None:
    client = pdf.client()
    bill = invoice(pdf, client)
    pdf.inbound("50761234567")
    result = pdf.run(SEND_STATEMENT, "sendStatementWhatsapp", c=client, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert result["error"] is None
    [message] = result["messages"]
    filename = "Estado de cuenta Ferretería Ana 2026-11-01_2026-11-30.pdf"
    assert (message["kind"], message["entityType"], message["entityId"]) == ("DOCUMENT", "STATEMENT", client)
    assert message["filename"] == filename
    pdf.jobs()
    assert pdf.message(message["id"])["status"] == "SENT"
    [upload] = pdf.graph.uploads()
    name, mime, content = upload.files["file"]
    assert (name, mime) == (filename, "application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "Ferretería Ana" in text and bill["number"] in text  # the statement lists the invoice
    assert pdf.graph.sent()[0].json()["document"] == {"id": "media-1", "filename": filename}
    # the same statement again: the same file (renders are deterministic), one more message
    again = pdf.run(SEND_STATEMENT, "sendStatementWhatsapp", c=client, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert again["messages"][0]["fileId"] == message["fileId"]


def test_bad_statement_requests_are_refused_naming_the_field_with_nothing_written(pdf: Api) -> None:
    client = pdf.client()
    silent = pdf.client(name="Sin WhatsApp", phone=None)
    pdf.inbound("50761234567")
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    cases = [
        (dict(c="00000000-0000-4000-8000-000000000000", **period), "NOT_FOUND", "clientId"),
        (dict(c="not-an-id", **period), "INVALID_INPUT", "clientId"),
        (dict(c=client, **{"from": "2026-12-01", "to": "2026-11-01"}), "INVALID_DATE_RANGE", "to"),
        (dict(c=silent, **period), "NO_RECIPIENTS", "clientId"),
        (dict(c=client, recipient="12", **period), "INVALID_PHONE", "recipient"),
        (dict(c=client, params=["Ana"], **period), "INVALID_INPUT", "parameters"),
    ]
    for variables, code, field in cases:
        result = pdf.run(SEND_STATEMENT, "sendStatementWhatsapp", **variables)
        assert (result["error"]["code"], result["error"]["field"]) == (code, field), variables
        assert code != "NO_RECIPIENTS" or result["error"]["message"].endswith("or give recipient")
    wrong_route = pdf.run(SEND_PDF, "sendPdfWhatsapp", t="STATEMENT", id=client)
    assert (wrong_route["error"]["code"], wrong_route["error"]["field"]) == ("INVALID_INPUT", "entityType")
    assert "sendStatementWhatsapp" in wrong_route["error"]["message"]
    assert pdf.count("whatsapp_messages WHERE direction = 'OUTBOUND'") == 0 and pdf.count("files") == 0
