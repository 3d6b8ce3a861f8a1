"""Tenancy use cases: creating tenants and their users (CLI, and later the WorkOS webhooks)."""

from __future__ import annotations

from dataclasses import dataclass

from application.tenancy.ports import TenancyUnitOfWork
from application.shared.messages import Command, Query
from application.shared.ports import Clock, DuplicateEntry
from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.model import new_id, parse_id
from domain.tenancy.model import Role, Tenant, User, parse_slug


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateTenant(Command):
    slug: str
    name: str
    external_id: str | None = None
    exist_ok: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class EnsureUser(Command):
    """The tenant's user with this email, created with ``role`` if missing."""

    tenant_slug: str
    email: str
    role: Role = Role.OWNER


@dataclass(frozen=True, slots=True)
class UserView:
    user_id: str
    tenant_id: str
    email: str
    role: Role


@dataclass(frozen=True, slots=True)
class TenantCreated:
    tenant_id: str
    slug: str
    created: bool


class CreateTenantHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: CreateTenant, uow: TenancyUnitOfWork) -> TenantCreated:
        slug = parse_slug(cmd.slug)
        with uow:
            existing = uow.tenants.by_slug(slug)
            if existing is not None:
                if cmd.exist_ok:
                    return TenantCreated(existing.id, existing.slug, created=False)
                raise Conflict(f"a tenant with slug {slug!r} already exists", field="slug")
            tenant = Tenant.create(
                slug=slug, name=cmd.name, now=self._clock.now(), external_id=cmd.external_id
            )
            uow.tenants.add(tenant)
            try:
                uow.commit()
            except DuplicateEntry:
                raise Conflict(f"a tenant with slug {slug!r} already exists", field="slug") from None
            return TenantCreated(tenant.id, tenant.slug, created=True)


class EnsureUserHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: EnsureUser, uow: TenancyUnitOfWork) -> UserView:
        email = (cmd.email or "").strip().lower()
        if "@" not in email or len(email) > 254:
            raise InvalidInput(f"{cmd.email!r} is not an email address", field="user")
        with uow:
            tenant = uow.tenants.by_slug(parse_slug(cmd.tenant_slug))
            if tenant is None:
                raise InvalidInput(f"no tenant with slug {cmd.tenant_slug!r}", field="tenant")
            user = uow.tenants.user(tenant.id, email)
            if user is None:
                user = User(
                    id=new_id(), tenant_id=tenant.id, email=email, role=cmd.role,
                    external_id=None, active=True, created_at=self._clock.now(),
                )
                uow.tenants.add_user(user)
                uow.commit()
            return UserView(user.id, user.tenant_id, user.email, user.role)


# --- the CLI's tenants: by slug or id, and the list (issue 18) ----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FindTenant(Query):
    """The tenant ``reference`` names: its slug or its id."""

    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ListTenants(Query):
    """Every tenant, by slug."""


@dataclass(frozen=True, slots=True)
class TenantView:
    tenant_id: str
    slug: str
    name: str
    external_id: str | None
    deleted: bool


def _tenant_view(tenant: Tenant) -> TenantView:
    return TenantView(tenant.id, tenant.slug, tenant.name, tenant.external_id, tenant.deleted_at is not None)


class FindTenantHandler:
    def __call__(self, query: FindTenant, uow: TenancyUnitOfWork) -> TenantView:
        reference = (query.reference or "").strip()
        try:
            tenant_id: str | None = parse_id(reference, field="tenant")
        except InvalidInput:
            tenant_id = None
        with uow:
            if tenant_id is not None:
                tenant = uow.tenants.get(tenant_id)
            else:
                try:
                    tenant = uow.tenants.by_slug(parse_slug(reference))
                except InvalidInput:
                    tenant = None
            if tenant is None:
                raise NotFound(f"no tenant has the slug or id {reference[:80]!r}", field="tenant")
            return _tenant_view(tenant)


class ListTenantsHandler:
    def __call__(self, query: ListTenants, uow: TenancyUnitOfWork) -> list[TenantView]:
        with uow:
            found = [uow.tenants.get(tenant_id) for tenant_id in uow.tenants.all_ids()]
            return sorted((_tenant_view(t) for t in found if t is not None), key=lambda view: view.slug)

