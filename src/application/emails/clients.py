"""A client's default recipients: the addresses a document goes to when a send names none."""

from __future__ import annotations

from datetime import datetime

from application.shared.actors import tenant_actor
from application.shared.deleting import delete_named
from application.emails.commands import CreateClientEmail, DeleteClientEmail, GetClientEmails
from application.emails.ports import AddressValidator, EmailsUnitOfWork
from application.emails.views import ClientEmailView, client_email_view
from domain.emails.model import ClientEmail, ClientEmailExists, RecipientKind
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor


class ClientEmails:
    """The e-mail ``ContactBook``: a client's addresses, each in To, Cc or Bcc."""

    def __init__(self, addresses: AddressValidator) -> None:
        self._addresses = addresses

    def read(self, cmd: CreateClientEmail) -> tuple[str, RecipientKind]:
        return self._addresses.normalize(cmd.email, field="email"), RecipientKind.parse(cmd.kind)

    def taken(self, client_id: str, contact: tuple[str, RecipientKind]) -> DomainError:
        return ClientEmailExists(f"{contact[0]} is already one of this client's emails", field="email")

    def add(
        self, uow: EmailsUnitOfWork, actor: Actor, client_id: str, contact: tuple[str, RecipientKind],
        taken: DomainError, now: datetime,
    ) -> ClientEmailView:
        email, kind = contact
        created = ClientEmail.add_to(
            uow.client_emails.of_client(client_id), tenant_id=actor.tenant_id, client_id=client_id, email=email,
            kind=kind, now=now,
        )
        uow.client_emails.add(created)
        return client_email_view(created)


class DeleteClientEmailHandler:
    def __call__(self, cmd: DeleteClientEmail, uow: EmailsUnitOfWork) -> str:
        tenant_actor(cmd.actor)
        return delete_named(uow, cmd.client_email_id, what="client email",
                            find=lambda u, i: u.client_emails.get(i), delete=lambda u, e: u.client_emails.delete(e))


class GetClientEmailsHandler:
    def __call__(self, query: GetClientEmails, uow: EmailsUnitOfWork) -> dict[str, list[ClientEmailView]]:
        with uow:
            return uow.client_email_views.of_clients(list(query.client_ids))
