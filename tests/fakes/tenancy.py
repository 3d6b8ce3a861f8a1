"""In-memory tenancy: tenants and users, with the semantics of ``adapters.db.tenancy``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.db.registry import Binding
from application.tenancy.ports import Principal
from domain.shared.model import Aggregate
from domain.tenancy.model import Tenant, User
from tests.fakes.state import FakeDomain, FakeRepository, States, unique

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tests.fakes.uow import FakeUnitOfWork


def _copy_tenant(tenant: Tenant) -> Tenant:
    return Tenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        external_id=tenant.external_id,
        created_at=tenant.created_at,
    )


def _copy_user(user: User) -> User:
    return User(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        role=user.role,
        external_id=user.external_id,
        active=user.active,
        created_at=user.created_at,
    )


def _user_row(user: User) -> tuple[Any, ...]:
    return (user.tenant_id, user.email, user.role, user.external_id, user.active, user.created_at)


@dataclass
class TenancyState:
    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    def checkout(self) -> TenancyState:
        work = TenancyState(
            tenants={key: _copy_tenant(value) for key, value in self.tenants.items()},
            users={key: _copy_user(value) for key, value in self.users.items()},
        )
        work._rebase()
        return work

    def _rebase(self) -> None:
        self._base_tenants = set(self.tenants)
        self._base_users = {key: _user_row(user) for key, user in self.users.items()}

    def _changes(self) -> tuple[list[Tenant], list[User]]:
        tenants = [tenant for key, tenant in self.tenants.items() if key not in self._base_tenants]
        users = [user for key, user in self.users.items() if self._base_users.get(key) != _user_row(user)]
        return tenants, users

    def check(self, work: TenancyState, store: States, workspace: States) -> None:
        tenants, users = work._changes()
        after_tenants = {**self.tenants, **{tenant.id: tenant for tenant in tenants}}
        unique("tenants.slug", (t.slug for t in after_tenants.values()))
        unique("tenants.external_id", (t.external_id for t in after_tenants.values() if t.external_id))
        after_users = {**self.users, **{user.id: user for user in users}}
        unique("users(tenant_id, email)", ((u.tenant_id, u.email) for u in after_users.values()))
        for user in users:
            if user.tenant_id not in after_tenants:
                raise LookupError(f"users.tenant_id: no tenant {user.tenant_id} (foreign key)")

    def apply(self, work: TenancyState) -> None:
        tenants, users = work._changes()
        for tenant in tenants:
            self.tenants[tenant.id] = _copy_tenant(tenant)
        for user in users:
            self.users[user.id] = _copy_user(user)
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.tenants.values()
        yield from self.users.values()


class FakeTenantDirectory:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> TenancyState:
        return self._uow.workspace().state("tenancy")  # type: ignore[return-value]

    def add(self, tenant: Tenant) -> None:
        self._state.tenants[tenant.id] = tenant

    def get(self, tenant_id: str) -> Tenant | None:
        return self._state.tenants.get(tenant_id)

    def by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._state.tenants.values() if t.slug == slug), None)

    def by_reference(self, reference: str) -> Tenant | None:
        found = [
            tenant
            for tenant in self._state.tenants.values()
            if tenant.external_id == reference or tenant.slug == reference
        ]
        found.sort(key=lambda tenant: tenant.external_id is None)
        return found[0] if found else None

    def principal(self, tenant_reference: str, user_reference: str) -> Principal | None:
        tenant = self.by_reference(tenant_reference)
        if tenant is None:
            return None
        user = self.user(tenant.id, user_reference)
        return Principal(tenant_id=tenant.id, user_active=None if user is None else user.active)

    def all_ids(self) -> list[str]:
        tenants = sorted(self._state.tenants.values(), key=lambda tenant: tenant.created_at)
        return [tenant.id for tenant in tenants]

    def add_user(self, user: User) -> None:
        self._state.users[user.id] = user

    def user(self, tenant_id: str, reference: str) -> User | None:
        return next(
            (
                user
                for user in self._state.users.values()
                if user.tenant_id == tenant_id and reference in (user.id, user.external_id, user.email)
            ),
            None,
        )


FAKE_DOMAIN = FakeDomain(
    name="tenancy",
    state=TenancyState,
    repositories={"tenants": FakeRepository(FakeTenantDirectory, Binding.ANY)},
)
