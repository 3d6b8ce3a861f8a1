"""Tenants (the businesses using Istmo) and their users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value.lower())
        except (ValueError, AttributeError):
            allowed = ", ".join(r.value for r in cls)
            raise InvalidInput(f"role must be one of {allowed}, not {value!r}", field="role") from None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: the tenant comes only from a verified token."""

    tenant_id: str
    user_id: str
    role: Role
    session_id: str | None = None
    """The login session (the token's ``sid``), or None when the token names none."""

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


def parse_slug(value: str) -> str:
    slug = (value or "").strip().lower()
    if not _SLUG.match(slug):
        raise InvalidInput(
            "slug must be 1-63 lowercase letters, digits or inner hyphens", field="slug"
        )
    return slug


class Tenant(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        slug: str,
        name: str,
        external_id: str | None,
        created_at: datetime,
        directory_updated_at: datetime | None = None,
        deleted_at: datetime | None = None,
    ) -> None:
        self.id = id
        self.slug = slug
        self.name = name
        self.external_id = external_id
        self.created_at = created_at
        # From the directory (WorkOS): the organization's last applied updated_at, and its deletion
        # (a deleted organization's tenant authenticates no one).
        self.directory_updated_at = directory_updated_at
        self.deleted_at = deleted_at

    @classmethod
    def create(
        cls, *, slug: str, name: str, now: datetime, external_id: str | None = None
    ) -> Tenant:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput("name must be 1-200 characters", field="name")
        return cls(
            id=new_id(), slug=parse_slug(slug), name=name, external_id=external_id, created_at=now
        )


class User(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        email: str,
        role: Role,
        external_id: str | None,
        active: bool,
        created_at: datetime,
        directory_updated_at: datetime | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.email = email
        self.role = role
        self.external_id = external_id
        self.active = active
        self.created_at = created_at
        self.directory_updated_at = directory_updated_at  # the directory's (WorkOS) last applied state
