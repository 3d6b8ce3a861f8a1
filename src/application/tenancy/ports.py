"""Ports of tenancy: the directory of tenants and their users (not bound to one tenant)."""

from __future__ import annotations

from typing import Protocol

from domain.tenancy.model import Tenant, User


class TenantDirectory(Protocol):
    def add(self, tenant: Tenant) -> None: ...

    def by_slug(self, slug: str) -> Tenant | None: ...

    def by_reference(self, reference: str) -> Tenant | None:
        """The tenant whose external id (a WorkOS organization id) or slug is ``reference``."""
        ...

    def all_ids(self) -> list[str]: ...

    def add_user(self, user: User) -> None: ...

    def user(self, tenant_id: str, reference: str) -> User | None:
        """The tenant's user whose id, external id or email is ``reference``."""
        ...
