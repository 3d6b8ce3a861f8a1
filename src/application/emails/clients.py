"""A client's default recipients: the addresses a document goes to when a send names none."""

from __future__ import annotations

from application.deliveries.flows import tenant_actor
from application.deliveries.recipients import add_contact
from application.emails.commands import CreateClientEmail, DeleteClientEmail, GetClientEmails
from application.emails.ports import AddressValidator, EmailsUnitOfWork
from application.emails.views import ClientEmailView, client_email_view
from application.shared.ports import Clock
from domain.emails.model import ClientEmail, ClientEmailExists, RecipientKind
from domain.shared.errors import NotFound
from domain.shared.model import parse_id


class CreateClientEmailHandler:
    def __init__(self, addresses: AddressValidator, clock: Clock) -> None:
        self._addresses = addresses
        self._clock = clock

    def __call__(self, cmd: CreateClientEmail, uow: EmailsUnitOfWork) -> ClientEmailView:
        actor = tenant_actor(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        email = self._addresses.normalize(cmd.email, field="email")
        kind = RecipientKind.parse(cmd.kind)
        taken = ClientEmailExists(f"{email} is already one of this client's emails", field="email")

        def add() -> ClientEmailView:
            created = ClientEmail.add_to(
                uow.client_emails.of_client(client_id), tenant_id=actor.tenant_id, client_id=client_id, email=email,
                kind=kind, now=self._clock.now(),
            )
            uow.client_emails.add(created)
            return client_email_view(created)

        return add_contact(uow, client_id, add, taken)


class DeleteClientEmailHandler:
    def __call__(self, cmd: DeleteClientEmail, uow: EmailsUnitOfWork) -> str:
        tenant_actor(cmd.actor)
        email_id = parse_id(cmd.client_email_id, field="id")
        with uow:
            email = uow.client_emails.get(email_id)
            if email is None:
                raise NotFound(f"client email {email_id} not found", field="id")
            uow.client_emails.delete(email)
            uow.commit()
        return email_id


class GetClientEmailsHandler:
    def __call__(self, query: GetClientEmails, uow: EmailsUnitOfWork) -> dict[str, list[ClientEmailView]]:
        with uow:
            return uow.client_email_views.of_clients(list(query.client_ids))
