"""Tenants and users from the directory (WorkOS webhooks): upserts keyed by WorkOS ids, the newest
``updated_at`` wins, and a deleted or deactivated user can no longer authenticate (``users.active``
is what ``Authenticator`` checks; a deleted organization's tenant is refused altogether)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.tenancy.ports import TenancyUnitOfWork
from application.shared.messages import Command
from application.shared.ports import Clock
from domain.shared.errors import InvalidInput
from domain.shared.model import new_id
from domain.tenancy.directory import DirectoryUser, is_newer, placeholder_email, role_from_slug, slug_for
from domain.tenancy.model import Tenant, User


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOrganization(Command):
    organization_id: str
    name: str | None
    updated_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncDirectoryUser(Command):
    """``user.*``: the WorkOS user's email everywhere it is a member; deleted: never again active."""

    user_id: str
    email: str | None
    updated_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncMembership(Command):
    """``organization_membership.*``: the user in the organization's tenant, with its role."""

    user_id: str
    organization_id: str
    role: str | None
    status: str | None
    updated_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncDirectorySyncUser(Command):
    """``dsync.user.*``: a provisioned user of the organization, by its primary email."""

    directory_user_id: str
    organization_id: str
    email: str
    state: str | None
    role: str | None
    updated_at: datetime
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class DirectorySynced:
    tenant_id: str | None  # None: the organization is not a tenant here
    applied: bool  # False: older than what is kept, or nothing to change
    note: str = ""


def _email(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    email = value.strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput(f"{field} is not an email address", field=field)
    return email


class SyncOrganizationHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SyncOrganization, uow: TenancyUnitOfWork) -> DirectorySynced:
        with uow:
            tenant = uow.tenants.by_external_id(cmd.organization_id)
            if tenant is None:
                name = (cmd.name or cmd.organization_id).strip()[:200] or cmd.organization_id
                slug = slug_for(name, cmd.organization_id)
                if uow.tenants.by_slug(slug) is not None:
                    slug = slug_for(name, cmd.organization_id, taken=True)
                tenant = Tenant.create(slug=slug, name=name, now=self._clock.now(), external_id=cmd.organization_id)
                tenant.directory_updated_at = cmd.updated_at
                tenant.deleted_at = cmd.updated_at if cmd.deleted else None
                uow.tenants.add(tenant)
                uow.commit()
                return DirectorySynced(tenant.id, True, "tenant created" + (" (deleted)" if cmd.deleted else ""))
            if not is_newer(cmd.updated_at, getattr(tenant, "directory_updated_at", None)):
                return DirectorySynced(tenant.id, False, "older than the organization kept: ignored")
            tenant.directory_updated_at = cmd.updated_at
            if cmd.deleted:
                tenant.deleted_at = cmd.updated_at
                for user in uow.tenants.users_of(tenant.id):
                    user.active = False
            else:
                tenant.deleted_at = None
                if cmd.name and cmd.name.strip():
                    tenant.name = cmd.name.strip()[:200]
            uow.commit()
            return DirectorySynced(tenant.id, True, "tenant deleted" if cmd.deleted else "tenant updated")


class SyncDirectoryUserHandler:
    def __call__(self, cmd: SyncDirectoryUser, uow: TenancyUnitOfWork) -> DirectorySynced:
        email = _email(cmd.email, field="data.email")
        with uow:
            known = uow.tenants.directory_user(cmd.user_id)
            if known is not None and not is_newer(cmd.updated_at, known.updated_at):
                return DirectorySynced(None, False, "older than the user kept: ignored")
            if known is None:
                known = DirectoryUser(id=cmd.user_id, email=email or "", deleted=cmd.deleted, updated_at=cmd.updated_at)
                uow.tenants.add_directory_user(known)
            else:
                known.email = email or known.email
                known.deleted = known.deleted or cmd.deleted
                known.updated_at = cmd.updated_at
            rows = uow.tenants.users_by_external_id(cmd.user_id)
            for user in rows:
                if known.deleted:
                    user.active = False
                if email and user.email != email and uow.tenants.user(user.tenant_id, email) is None:
                    user.email = email
            uow.commit()
            note = f"{'deleted' if known.deleted else 'updated'} in {len(rows)} tenant(s)"
            return DirectorySynced(rows[0].tenant_id if len(rows) == 1 else None, True, note)


class SyncMembershipHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SyncMembership, uow: TenancyUnitOfWork) -> DirectorySynced:
        with uow:
            tenant = uow.tenants.by_external_id(cmd.organization_id)
            if tenant is None:
                return DirectorySynced(None, False, f"no tenant has the organization {cmd.organization_id[:64]!r}")
            known = uow.tenants.directory_user(cmd.user_id)
            user = uow.tenants.user(tenant.id, cmd.user_id)
            if user is None and known is not None and known.email:
                user = uow.tenants.user(tenant.id, known.email)  # provisioned by email (Directory Sync) first
            active = not cmd.deleted and (cmd.status or "active").lower() == "active" and not (known and known.deleted)
            if user is None:
                user = User(
                    id=new_id(), tenant_id=tenant.id,
                    email=(known.email if known and known.email else placeholder_email(cmd.user_id)),
                    role=role_from_slug(cmd.role), external_id=cmd.user_id, active=active,
                    created_at=self._clock.now(),
                )
                user.directory_updated_at = cmd.updated_at
                uow.tenants.add_user(user)
                uow.commit()
                return DirectorySynced(tenant.id, True, "member added" if active else "member added, inactive")
            if not is_newer(cmd.updated_at, getattr(user, "directory_updated_at", None)):
                return DirectorySynced(tenant.id, False, "older than the membership kept: ignored")
            user.external_id = cmd.user_id
            user.role = role_from_slug(cmd.role) if cmd.role is not None else user.role
            user.active = active
            user.directory_updated_at = cmd.updated_at
            uow.commit()
            return DirectorySynced(tenant.id, True, "member updated" if active else "member deactivated")


class SyncDirectorySyncUserHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SyncDirectorySyncUser, uow: TenancyUnitOfWork) -> DirectorySynced:
        email = _email(cmd.email, field="data.emails")
        assert email is not None
        with uow:
            tenant = uow.tenants.by_external_id(cmd.organization_id)
            if tenant is None:
                return DirectorySynced(None, False, f"no tenant has the organization {cmd.organization_id[:64]!r}")
            active = not cmd.deleted and (cmd.state or "active").lower() == "active"
            user = uow.tenants.user(tenant.id, email)
            if user is None:
                user = User(
                    id=new_id(), tenant_id=tenant.id, email=email, role=role_from_slug(cmd.role),
                    external_id=cmd.directory_user_id, active=active, created_at=self._clock.now(),
                )
                user.directory_updated_at = cmd.updated_at
                uow.tenants.add_user(user)
                uow.commit()
                return DirectorySynced(tenant.id, True, "provisioned" if active else "provisioned, inactive")
            if not is_newer(cmd.updated_at, getattr(user, "directory_updated_at", None)):
                return DirectorySynced(tenant.id, False, "older than the user kept: ignored")
            user.active = active
            if cmd.role is not None:
                user.role = role_from_slug(cmd.role)
            user.directory_updated_at = cmd.updated_at
            uow.commit()
            return DirectorySynced(tenant.id, True, "activated" if active else "deactivated")
