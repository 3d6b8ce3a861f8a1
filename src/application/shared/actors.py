"""Who a message acts for."""

from __future__ import annotations

from domain.shared.errors import PermissionDenied
from domain.tenancy.model import Actor


def tenant_actor(actor: Actor | None) -> Actor:
    """The actor of a message only a tenant's user may send (not system work)."""
    if actor is None:
        raise PermissionError("a tenant's actor is required")
    return actor


def tenant_admin(actor: Actor | None, what: str) -> Actor:
    """The actor of a message only a tenant's owner or admin may send; ``what`` says what they do."""
    actor = tenant_actor(actor)
    if not actor.is_admin:
        raise PermissionDenied(f"only an owner or admin can {what}")
    return actor
