"""A signing link by WhatsApp, through the WhatsApp domain's own send (the Graph API played
locally): as an approved template outside the 24-hour window, as text inside it, refused
(and nothing written) when the window is closed and no template is named."""

from __future__ import annotations

from typing import Any

import pytest
from dependency_injector import providers

from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
from tests.integration.signatures_support import IDENTITY, SEND_WHATSAPP, invoice
from tests.integration.whatsapp_support import REGISTER, Api, api, connected  # noqa: F401 - fixtures
from tests.providers.server import provider_server  # noqa: F401 - the fixture


@pytest.fixture
def ready(connected: Api, weasyprint_renderer: Any) -> Api:  # noqa: F811 - the fixture
    container = connected.service.container
    container.pdf.pdf_renderer.override(providers.Object(weasyprint_renderer))
    container.signatures.document_sealer.override(providers.Object(PyHankoDocumentSealer(IDENTITY)))
    return connected


def count(ready: Api, table: str) -> int:
    return ready.count(table)


def test_the_link_goes_as_an_approved_template_with_the_link_as_its_parameter(ready: Api) -> None:
    ready.ok(REGISTER, "registerWhatsappTemplate", n="firma_documento", l="es", b=1, d=False)
    entity, _ = invoice(ready.service, ready.headers)
    sent = ready.ok(SEND_WHATSAPP, "sendSignatureApprovalWhatsapp", entity=entity, phone="6123-4567",
                    recipient="María Cumbres", template="firma_documento")
    request, link = sent["signatureRequest"], sent["link"]
    assert (request["channel"], request["recipientPhone"], request["status"]) == ("WHATSAPP", "+50761234567", "PENDING")
    ready.jobs()
    (message,) = ready.graph.sent()
    body = message.json()
    assert body["to"] == "50761234567" and body["type"] == "template"
    assert body["template"]["name"] == "firma_documento"
    (component,) = body["template"]["components"]
    assert component["parameters"] == [{"type": "text", "text": link}]
    assert ready.service.client.get(link[len("http://localhost"):]).status_code == 200


def test_a_text_link_needs_the_open_window_and_a_refusal_leaves_nothing(ready: Api) -> None:
    entity, _ = invoice(ready.service, ready.headers)
    closed = ready.run(SEND_WHATSAPP, "sendSignatureApprovalWhatsapp", entity=entity, phone="6123-4567",
                       recipient="María")
    assert closed["error"]["code"] == "WINDOW_CLOSED", closed
    assert count(ready, "signature_requests") == count(ready, "signature_audit") == count(ready, "whatsapp_messages") == 0
    ready.inbound("50761234567")
    opened = ready.ok(SEND_WHATSAPP, "sendSignatureApprovalWhatsapp", entity=entity, phone="6123-4567", recipient="María")
    ready.jobs()
    text = ready.graph.sent()[-1].json()["text"]["body"]
    assert opened["link"] in text
    events = [row[0] for row in ready.service.container.engine().connect().exec_driver_sql(
        "SELECT event FROM signature_audit ORDER BY seq")]
    assert events == ["REQUEST_CREATED", "WHATSAPP_QUEUED"]
