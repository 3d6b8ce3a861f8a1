"""``GraphWhatsAppSender`` against the local Graph API server: the wire format, errors by code, and
what "no answer" means (a refused connection was certainly not sent; a read timeout maybe was)."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest

from adapters.whatsapp.graph import GraphApiError, GraphUnreachable, GraphWhatsAppSender
from application.whatsapp.ports import GraphCredentials, OutgoingWhatsapp
from domain.whatsapp.content import DocumentContent, MessageKind, TemplateContent
from domain.whatsapp.graph import graph_disposition
from tests.providers.graph import PHONE_NUMBER_ID, TOKEN, GraphApi, graph_error
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401 - fixture

CREDENTIALS = GraphCredentials(phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN)
TEXT = OutgoingWhatsapp(to="+50761234567", kind=MessageKind.TEXT, text="Hola", callback_data="m-1")


def test_send_text_returns_the_wamid(provider_server: ProviderServer) -> None:
    graph = GraphApi(provider_server)
    sent = GraphWhatsAppSender(provider_server.url).send(CREDENTIALS, TEXT)
    assert sent.wamid == "wamid.TEST00000001" and sent.wa_id == "50761234567"
    [request] = graph.sent()
    assert request.path == f"/{PHONE_NUMBER_ID}/messages"
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "50761234567",
        "biz_opaque_callback_data": "m-1", "type": "text", "text": {"body": "Hola", "preview_url": False},
    }


def test_upload_media_is_multipart_and_returns_the_id(provider_server: ProviderServer) -> None:
    graph = GraphApi(provider_server)
    media = GraphWhatsAppSender(provider_server.url).upload_media(
        CREDENTIALS, data=b"%PDF-1.7 data", filename="Factura F-1.pdf", mime="application/pdf"
    )
    assert media == "media-1"
    [upload] = graph.uploads()
    assert upload.header("Content-Type").startswith("multipart/form-data")
    assert upload.files["file"] == ("Factura F-1.pdf", "application/pdf", b"%PDF-1.7 data")
    assert upload.form == {"messaging_product": "whatsapp", "type": "application/pdf"}


def test_a_document_and_a_template_with_a_document_header(provider_server: ProviderServer) -> None:
    graph = GraphApi(provider_server)
    sender = GraphWhatsAppSender(provider_server.url)
    document = DocumentContent(file_id="f", filename="F.pdf", caption="Su factura")
    sender.send(CREDENTIALS, OutgoingWhatsapp(to="+50761234567", kind=MessageKind.DOCUMENT, document=document, media_id="77"))
    sender.send(CREDENTIALS, OutgoingWhatsapp(
        to="+50761234567", kind=MessageKind.TEMPLATE, document=document, media_id="77",
        template=TemplateContent(name="factura", language="es_PA", parameters=("Ana",)),
    ))
    first, second = (r.json() for r in graph.sent())
    assert first["document"] == {"id": "77", "filename": "F.pdf", "caption": "Su factura"}
    assert second["template"] == {
        "name": "factura", "language": {"code": "es_PA"},
        "components": [
            {"type": "header", "parameters": [{"type": "document", "document": {"id": "77", "filename": "F.pdf"}}]},
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},
        ],
    }


@pytest.mark.parametrize(
    ("reply", "code", "disposition"),
    [
        (graph_error(130429, "Rate limit hit"), 130429, "retry"),
        (graph_error(131056, "(Business Account, Consumer Account) pair rate limit hit"), 131056, "retry"),
        (graph_error(80007, "Rate limit issues"), 80007, "retry"),
        (graph_error(131047, "Re-engagement message"), 131047, "window"),
        (graph_error(190, "Error validating access token", status=401), 190, "reauth"),
        (graph_error(132000, "Number of parameters does not match"), 132000, "fail"),
        (graph_error(132001, "Template name does not exist in the translation"), 132001, "fail"),
        (graph_error(132018, "There was an issue with the parameters in your template"), 132018, "fail"),
        (graph_error(131026, "Message Undeliverable"), 131026, "fail"),
        (graph_error(131051, "Unsupported message type"), 131051, "fail"),
        (graph_error(100, "Invalid parameter"), 100, "fail"),
        (Reply(502, b"<html>Bad Gateway</html>"), None, "retry"),
    ],
)
def test_errors_by_code(provider_server: ProviderServer, reply: Reply, code: int | None, disposition: str) -> None:
    GraphApi(provider_server).then(reply)
    with pytest.raises(GraphApiError) as raised:
        GraphWhatsAppSender(provider_server.url).send(CREDENTIALS, TEXT)
    assert raised.value.code == code
    assert graph_disposition(raised.value.code, raised.value.http_status) == disposition
    assert TOKEN not in str(raised.value) and TOKEN not in raised.value.title


def test_retry_after_is_passed_on(provider_server: ProviderServer) -> None:
    GraphApi(provider_server).then(Reply.json({"error": {"code": 130429, "message": "Rate limit hit"}}, status=429, headers={"Retry-After": "42"}))
    with pytest.raises(GraphApiError) as raised:
        GraphWhatsAppSender(provider_server.url).send(CREDENTIALS, TEXT)
    assert raised.value.retry_after == timedelta(seconds=42)


def test_a_refused_connection_was_certainly_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GraphUnreachable) as raised:
        GraphWhatsAppSender(f"http://127.0.0.1:{port}", connect_timeout=2).send(CREDENTIALS, TEXT)
    assert raised.value.maybe_delivered is False


def test_a_read_timeout_maybe_was(provider_server: ProviderServer) -> None:
    def slow(_request: object) -> Reply:
        time.sleep(1.0)
        return Reply.json({"messages": [{"id": "wamid.late"}]})

    provider_server.route("POST", rf"/{PHONE_NUMBER_ID}/messages", slow)
    with pytest.raises(GraphUnreachable) as raised:
        GraphWhatsAppSender(provider_server.url, read_timeout=0.2).send(CREDENTIALS, TEXT)
    assert raised.value.maybe_delivered is True
