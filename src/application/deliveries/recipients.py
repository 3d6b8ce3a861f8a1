"""What every channel's recipient rules share: a client's own addresses or numbers (its contact
points), the defaults a document goes to when a send names no recipient.

A channel contributes its ``ContactBook`` (how a contact point is read from the command, and how
it is added: its own rules, e.g. no repeat); ``AddContactHandler`` adds it to a client the tenant
has, in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Protocol, TypeVar

from application.shared.actors import tenant_actor
from application.invoicing.ports import ClientReader
from application.shared.ports import Clock, DuplicateEntry, UnitOfWork
from domain.shared.errors import DomainError, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor


class ClientsUnitOfWork(UnitOfWork, Protocol):
    client_views: ClientReader


class ContactCommand(Protocol):
    @property
    def actor(self) -> Actor | None: ...

    @property
    def client_id(self) -> str: ...


C = TypeVar("C", bound=ContactCommand, contravariant=True)
Contact = TypeVar("Contact")
V = TypeVar("V", covariant=True)
U = TypeVar("U", bound=ClientsUnitOfWork, contravariant=True)


class ContactBook(Protocol[C, Contact, U, V]):
    def read(self, cmd: C) -> Contact:
        """The contact point the command gives, checked (refused naming its field)."""
        ...

    def taken(self, client_id: str, contact: Contact) -> DomainError:
        """The refusal of a contact point the client has already."""
        ...

    def add(self, uow: U, actor: Actor, client_id: str, contact: Contact, taken: DomainError, now: datetime) -> V:
        """Inside ``uow``: add it (raising ``taken`` for one the client has) and return its view."""
        ...


def require_client(uow: ClientsUnitOfWork, client_id: str) -> None:
    """Inside ``uow``: refuse a client the tenant does not have."""
    if uow.client_views.get(client_id) is None:
        raise NotFound(f"client {client_id} not found", field="clientId")


class AddContactHandler(Generic[C, Contact, U, V]):
    def __init__(self, book: ContactBook[C, Contact, U, V], clock: Clock) -> None:
        self._book = book
        self._clock = clock

    def __call__(self, cmd: C, uow: U) -> V:
        actor = tenant_actor(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        contact = self._book.read(cmd)
        taken = self._book.taken(client_id, contact)
        with uow:
            require_client(uow, client_id)
            view = self._book.add(uow, actor, client_id, contact, taken, self._clock.now())
            try:
                uow.commit()
            except DuplicateEntry:
                raise taken from None
            return view
