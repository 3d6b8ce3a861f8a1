"""Who a message acts for."""

from __future__ import annotations

from domain.tenancy.model import Actor


def tenant_actor(actor: Actor | None) -> Actor:
    """The actor of a message only a tenant's user may send (not system work)."""
    if actor is None:
        raise PermissionError("a tenant's actor is required")
    return actor
