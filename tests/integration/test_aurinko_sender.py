"""``AurinkoEmailSender`` (the ``EmailSender`` port) against the local Aurinko server, chosen for a
tenant by ``AurinkoSenderSource``: the documented body, attachments in base64, and every failure
mapped to deferred (429 with Retry-After, 5xx, 408, timeouts) or rejected (4xx, 401 token.dead,
which also marks the connection NEEDS_RECONNECT)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected
from application.emails.ports import EmailAttachment, OutgoingEmail
from tests.integration.api import data
from tests.integration.aurinko_api import DISCONNECT, GET_CONNECTION, aurinko_settings, connect
from tests.providers.aurinko import FakeAurinko
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401  (fixture)

TOKEN = "tok-live-1"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeAurinko:
    return FakeAurinko(provider_server)


@pytest.fixture
def connected(make_service: Callable[..., Any], fake: FakeAurinko) -> tuple[Any, str, dict[str, str]]:
    service = make_service(**aurinko_settings(fake))
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)
    return service, service.tenant("acme"), headers


def email(tenant_id: str, **overrides: Any) -> OutgoingEmail:
    fields: dict[str, Any] = dict(
        tenant_id=tenant_id, message_id="<f-000001.1@istmo.pa>", idempotency_key="email:1",
        from_address="ventas@pyme.pa", reply_to=("cobros@pyme.pa",), to=("cliente@acme.com.pa",),
        cc=("contador@acme.com.pa",), bcc=("archivo@pyme.pa",), subject="Factura F-000001",
        html="<p>Adjuntamos su factura.</p>", text="Adjuntamos su factura.",
        attachments=(EmailAttachment(name="F-000001.pdf", mime="application/pdf", data=PDF),),
    )
    fields.update(overrides)
    return OutgoingEmail(**fields)


def test_an_active_connection_sends_the_documented_body_with_base64_attachments(
    connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko
) -> None:
    service, tenant_id, _ = connected
    sender = service.container.gateways.aurinko_senders().for_tenant(tenant_id)

    sent = sender.deliver(email(tenant_id))

    assert sent.provider == "aurinko" and sent.provider_message_id == "sent-1"
    assert TOKEN not in sent.response
    [request] = fake.server.received("POST", r"/v1/email/messages")
    assert request.query == {"bodyType": "html", "returnIds": "true"}
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    body = request.json()
    assert body["subject"] == "Factura F-000001" and body["body"] == "<p>Adjuntamos su factura.</p>"
    assert body["from"] == {"address": "ventas@pyme.pa"}
    assert body["to"] == [{"address": "cliente@acme.com.pa"}] and body["cc"] == [{"address": "contador@acme.com.pa"}]
    assert body["bcc"] == [{"address": "archivo@pyme.pa"}] and body["replyTo"] == [{"address": "cobros@pyme.pa"}]
    [attachment] = body["attachments"]
    assert attachment["name"] == "F-000001.pdf" and attachment["mimeType"] == "application/pdf"
    assert base64.b64decode(attachment["content"]) == PDF and attachment["inline"] is False


def test_a_text_only_message_is_sent_as_escaped_html(connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko) -> None:
    service, tenant_id, _ = connected
    service.container.gateways.aurinko_senders().for_tenant(tenant_id).deliver(
        email(tenant_id, html=None, text="Total: <5> & más", attachments=(), from_address=None)
    )

    body = fake.server.received("POST", r"/v1/email/messages")[0].json()
    assert "Total: &lt;5&gt; &amp; más" in body["body"] and "from" not in body


def test_a_from_other_than_the_mailbox_is_left_out(connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko) -> None:
    service, tenant_id, _ = connected
    sender = service.container.gateways.aurinko_senders().for_tenant(tenant_id)

    sender.deliver(email(tenant_id, from_address="no-reply@istmo.pa"))
    sender.deliver(email(tenant_id, from_address="Ventas@PYME.pa"))

    first, second = (r.json() for r in fake.server.received("POST", r"/v1/email/messages"))
    assert "from" not in first and second["from"] == {"address": "Ventas@PYME.pa"}


@pytest.mark.parametrize(
    ("reply", "deferred_for"),
    [
        (Reply.json({"code": "tooManyRequests"}, status=429, headers={"Retry-After": "42"}), timedelta(seconds=42)),
        (Reply.json({"code": "internal"}, status=503), None),
        (Reply.json({"code": "timeout"}, status=408), None),
    ],
)
def test_throttling_and_server_errors_are_deferred(
    connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko, reply: Reply, deferred_for: timedelta | None
) -> None:
    service, tenant_id, _ = connected
    fake.server.route("POST", r"/v1/email/messages", reply)

    with pytest.raises(DeliveryDeferred) as error:
        service.container.gateways.aurinko_senders().for_tenant(tenant_id).deliver(email(tenant_id))

    assert error.value.retry_after == deferred_for
    assert TOKEN not in error.value.reason


def test_an_unreachable_aurinko_is_deferred(make_service: Callable[..., Any], fake: FakeAurinko) -> None:
    service = make_service(**aurinko_settings(fake))
    # No kept-alive connection from connecting survives into the send: reused after the stop, it
    # would read as a dropped request (maybe sent), which is a different case (tested below).
    fake.server.keep_alive = False
    connect(service, service.headers("acme", role="admin"), fake, token=TOKEN)
    tenant_id = service.tenant("acme")
    sender = service.container.gateways.aurinko_senders().for_tenant(tenant_id)
    fake.server.stop()

    with pytest.raises(DeliveryDeferred):
        sender.deliver(email(tenant_id))


def test_an_answer_lost_after_the_request_went_out_is_an_unknown_outcome(
    make_service: Callable[..., Any], fake: FakeAurinko
) -> None:
    """Aurinko may have sent it: never retried by itself (the emails domain marks it UNCERTAIN)."""
    import threading

    service = make_service(**aurinko_settings(fake), aurinko_timeout=timedelta(seconds=1))
    connect(service, service.headers("acme", role="admin"), fake, token=TOKEN)
    tenant_id = service.tenant("acme")
    released = threading.Event()

    def slow(_request: Any) -> Reply:
        released.wait(5)
        return Reply.json({"id": "late"}, status=201)

    fake.server.route("POST", r"/v1/email/messages", slow)
    try:
        with pytest.raises(DeliveryOutcomeUnknown) as error:
            service.container.gateways.aurinko_senders().for_tenant(tenant_id).deliver(email(tenant_id))
    finally:
        released.set()

    assert "may have been sent" in error.value.reason
    assert len(fake.server.received("POST", r"/v1/email/messages")) == 1


def test_a_refused_message_is_rejected(connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko) -> None:
    service, tenant_id, headers = connected
    fake.server.route("POST", r"/v1/email/messages", Reply.json({"code": "invalidRecipient"}, status=400))

    with pytest.raises(DeliveryRejected) as error:
        service.container.gateways.aurinko_senders().for_tenant(tenant_id).deliver(email(tenant_id))

    assert "400 invalidRecipient" in error.value.reason
    connection = data(service, GET_CONNECTION, headers=headers)["getAurinkoConnection"]["connection"]
    assert connection["status"] == "ACTIVE"


def test_a_2xx_with_a_malformed_body_counts_as_sent_never_as_retryable(
    connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko
) -> None:
    service, tenant_id, _ = connected
    fake.server.route("POST", r"/v1/email/messages", Reply(status=201, body=b"{oops"))

    sent = service.container.gateways.aurinko_senders().for_tenant(tenant_id).deliver(email(tenant_id))

    assert sent.provider == "aurinko" and sent.provider_message_id is None


def test_token_dead_rejects_and_marks_the_connection_so_it_is_no_longer_chosen(
    connected: tuple[Any, str, dict[str, str]], fake: FakeAurinko
) -> None:
    service, tenant_id, headers = connected
    fake.dead_tokens.add(TOKEN)
    senders = service.container.gateways.aurinko_senders()

    with pytest.raises(DeliveryRejected) as error:
        senders.for_tenant(tenant_id).deliver(email(tenant_id))

    assert "token.dead" in error.value.reason and TOKEN not in error.value.reason
    connection = data(service, GET_CONNECTION, headers=headers)["getAurinkoConnection"]["connection"]
    assert connection["status"] == "NEEDS_RECONNECT" and connection["reconnectReason"] == "token.dead"
    assert senders.for_tenant(tenant_id) is None


def test_no_sender_without_an_active_connection(connected: tuple[Any, str, dict[str, str]]) -> None:
    service, tenant_id, headers = connected
    senders = service.container.gateways.aurinko_senders()
    assert senders.for_tenant(service.tenant("globex")) is None

    data(service, DISCONNECT, headers=headers)

    assert senders.for_tenant(tenant_id) is None
