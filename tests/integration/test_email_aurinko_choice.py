"""The per-tenant chooser end to end: a tenant with an active Aurinko connection sends through
Aurinko (``sendEmail`` -> the worker -> ``POST /v1/email/messages`` on the local Aurinko server);
after disconnecting, the same tenant's next message goes to the local outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.api import data
from tests.integration.aurinko_api import DISCONNECT, aurinko_settings, connect
from tests.providers.aurinko import FakeAurinko
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)

SEND = """mutation($input: SendEmailInput!) { sendEmail(input: $input) {
  emailMessage { id messageId } error { code message field } } }"""
STATUS = "query($id: ID!) { getEmailMessageById(id: $id) { emailMessage { status provider providerMessageId } } }"


def test_an_active_aurinko_connection_wins_and_the_outbox_comes_back_after_disconnecting(
    make_service: Callable[..., Any], provider_server: ProviderServer
) -> None:
    fake = FakeAurinko(provider_server)
    service = make_service(**aurinko_settings(fake))
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token="tok-live-1")
    tenant_id = service.tenant("acme")
    outbox = Path(service.container.settings().data_dir) / "outbox" / tenant_id

    first = data(service, SEND, {"input": {"to": ["ana@cliente.com.pa"], "subject": "Por Aurinko", "text": "x"}}, headers=headers)
    service.container.worker().run_once()
    message = first["sendEmail"]["emailMessage"]
    sent = data(service, STATUS, {"id": message["id"]}, headers=headers)["getEmailMessageById"]["emailMessage"]
    assert (sent["status"], sent["provider"]) == ("SENT", "aurinko")
    [request] = fake.server.received("POST", r"/v1/email/messages")
    assert request.json()["subject"] == "Por Aurinko"
    assert not outbox.exists()

    data(service, DISCONNECT, headers=headers)
    second = data(service, SEND, {"input": {"to": ["ana@cliente.com.pa"], "subject": "Al outbox", "text": "x"}}, headers=headers)
    service.container.worker().run_once()
    again = data(service, STATUS, {"id": second["sendEmail"]["emailMessage"]["id"]}, headers=headers)
    assert again["getEmailMessageById"]["emailMessage"]["provider"] == "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1
