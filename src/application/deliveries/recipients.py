"""What every channel's recipient rules share: a client's own addresses or numbers (its contact
points), the defaults a document goes to when a send names no recipient."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from application.invoicing.ports import ClientReader
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.shared.errors import DomainError, NotFound

V = TypeVar("V")


class ClientsUnitOfWork(UnitOfWork, Protocol):
    client_views: ClientReader


def require_client(uow: ClientsUnitOfWork, client_id: str) -> None:
    """Inside ``uow``: refuse a client the tenant does not have."""
    if uow.client_views.get(client_id) is None:
        raise NotFound(f"client {client_id} not found", field="clientId")


def add_contact(uow: ClientsUnitOfWork, client_id: str, add: Callable[[], V], taken: DomainError) -> V:
    """A new contact point of a client, committed: ``add`` checks it is new, adds it and returns
    its view; ``taken`` is raised when another transaction added the same one first."""
    with uow:
        require_client(uow, client_id)
        view = add()
        try:
            uow.commit()
        except DuplicateEntry:
            raise taken from None
        return view
