"""Clients' WhatsApp numbers, and the channel a client's documents go by unless a send names one."""

from __future__ import annotations

from datetime import datetime

from application.shared.actors import tenant_actor
from application.shared.deleting import delete_named
from application.invoicing.handlers import client_view
from application.invoicing.views import ClientView
from application.shared.ports import Clock
from application.whatsapp.commands import (
    CreateClientWhatsapp,
    DeleteClientWhatsapp,
    GetClientWhatsapps,
    SetClientDefaultChannel,
)
from application.whatsapp.ports import PhoneNumbers, WhatsappUnitOfWork
from application.whatsapp.views import ClientWhatsappView, number_view
from domain.shared.channels import DeliveryChannel
from domain.shared.errors import Conflict, DomainError, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor
from domain.whatsapp.connection import ClientWhatsapp


class ClientNumbers:
    """The WhatsApp ``ContactBook``: a client's numbers (E.164, a Panama number without its code)."""

    def __init__(self, phones: PhoneNumbers) -> None:
        self._phones = phones

    def read(self, cmd: CreateClientWhatsapp) -> str:
        return self._phones.normalize(cmd.phone, field="phone")

    def taken(self, client_id: str, contact: str) -> DomainError:
        return Conflict(f"client {client_id} already has {contact}", field="phone")

    def add(
        self, uow: WhatsappUnitOfWork, actor: Actor, client_id: str, contact: str, taken: DomainError, now: datetime
    ) -> ClientWhatsappView:
        if uow.whatsapp.number_exists(client_id, contact):
            raise taken
        number = ClientWhatsapp.create(tenant_id=actor.tenant_id, client_id=client_id, phone=contact, now=now)
        uow.whatsapp.add_number(number)
        return number_view(number)


class DeleteClientWhatsappHandler:
    def __call__(self, cmd: DeleteClientWhatsapp, uow: WhatsappUnitOfWork) -> bool:
        tenant_actor(cmd.actor)
        delete_named(uow, cmd.number_id, what="client WhatsApp number",
                     find=lambda u, i: u.whatsapp.number(i), delete=lambda u, n: u.whatsapp.delete_number(n))
        return True


class GetClientWhatsappsHandler:
    def __call__(self, query: GetClientWhatsapps, uow: WhatsappUnitOfWork) -> dict[str, list[ClientWhatsappView]]:
        tenant_actor(query.actor)
        with uow:
            found = uow.whatsapp_views.numbers_of(list(query.client_ids))
        return {client_id: found.get(client_id, []) for client_id in query.client_ids}


class SetClientDefaultChannelHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SetClientDefaultChannel, uow: WhatsappUnitOfWork) -> ClientView:
        tenant_actor(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        channel = DeliveryChannel.parse(cmd.channel, field="channel")
        with uow:
            client = uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"client {client_id} not found", field="clientId")
            client.set_default_channel(channel, now=self._clock.now())
            uow.commit()
            return client_view(client)
