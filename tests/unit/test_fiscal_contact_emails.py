"""Issue 18: a client's contacts' e-mails are the recipients of its documents when the client
has no e-mail defaults (createClientEmail) and the send names none."""

from __future__ import annotations

import pytest

from application.emails.commands import SendPdfEmail
from application.invoicing.commands import CreateClient
from domain.invoicing.clients import ContactInput
from domain.tenancy.model import Actor
from tests.unit.test_emails_handlers import World, refused


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def test_the_contacts_emails_are_used_when_the_client_has_no_defaults(world: World, acme: Actor) -> None:
    client = world.bus.handle(
        CreateClient(
            actor=acme, name="Constructora Las Cumbres, S.A.", taxpayer_type="JURIDICO", ruc="8-123-4567", dv="12",
            contacts=(
                ContactInput(name="Ana", email="Ana@Cumbres.com.pa"),
                ContactInput(name="Luis", phone="+507 6123-4567"),  # no e-mail: left out
                ContactInput(name="Ana otra vez", email="ana@cumbres.com.pa"),  # the same address once
                ContactInput(name="Pagos", email="pagos@cumbres.com.pa"),
            ),
        )
    )
    invoice = world.invoice(acme, client)
    sent = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id))
    assert (sent.to, sent.cc, sent.bcc) == (("ana@cumbres.com.pa", "pagos@cumbres.com.pa"), (), ())
    # the client's own defaults win over its contacts
    world.default_email(acme, client, "facturas@cumbres.com.pa")
    again = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id))
    assert again.to == ("facturas@cumbres.com.pa",)


def test_without_defaults_or_contacts_emails_the_send_is_refused(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme, world.client(acme))
    with refused(world, "NO_RECIPIENTS", "to"):
        world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id))
