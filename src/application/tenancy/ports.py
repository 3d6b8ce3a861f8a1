"""Ports of tenancy: the directory of tenants and their users (not bound to one tenant)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.shared.ports import UnitOfWork
from domain.tenancy.model import Tenant, User
from domain.tenancy.directory import DirectoryUser
from domain.tenancy.subscription import TenantSubscription


@dataclass(frozen=True, slots=True)
class Principal:
    """What authentication needs to know, read in one go: the tenant, and the user if known."""

    tenant_id: str
    user_active: bool | None


class TenantDirectory(Protocol):
    def add(self, tenant: Tenant) -> None: ...

    def get(self, tenant_id: str) -> Tenant | None: ...

    def by_slug(self, slug: str) -> Tenant | None: ...

    def by_reference(self, reference: str) -> Tenant | None:
        """The tenant whose external id (a WorkOS organization id) or slug is ``reference``."""
        ...

    def principal(self, tenant_reference: str, user_reference: str) -> Principal | None:
        """The tenant named by external id or slug, with its user named by id, external id or
        email (``user_active`` is ``None`` when there is no such user)."""
        ...

    def all_ids(self) -> list[str]: ...

    def add_user(self, user: User) -> None: ...

    def user(self, tenant_id: str, reference: str) -> User | None:
        """The tenant's user whose id, external id or email is ``reference``."""
        ...

    # --- the tenant's subscription (Polar webhooks) ---

    def lock_subscription(self, tenant_id: str) -> None:
        """Hold the tenant until the transaction ends, so its subscription events apply one at a time."""
        ...

    def subscription(self, tenant_id: str) -> TenantSubscription | None: ...

    def add_subscription(self, subscription: TenantSubscription) -> None: ...

    # --- the directory (WorkOS webhooks) ---

    def by_external_id(self, external_id: str) -> Tenant | None:
        """The tenant of this WorkOS organization (also a deleted one)."""
        ...

    def users_of(self, tenant_id: str) -> list[User]: ...

    def users_by_external_id(self, external_id: str) -> list[User]:
        """Every tenant's user rows of this WorkOS user."""
        ...

    def directory_user(self, user_id: str) -> DirectoryUser | None: ...

    def add_directory_user(self, user: DirectoryUser) -> None: ...


class TenancyUnitOfWork(UnitOfWork, Protocol):
    tenants: TenantDirectory
    """Across tenants, in every unit of work."""
